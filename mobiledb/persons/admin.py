"""Admin for the mobile database, scoped to the staff user's companies."""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef

from callbacks.admin import PersonCallbackEventInline
from vibesweb.paginators import CappedCountPaginator
from vibesweb.tenancy.models import Company
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin
from vibesweb.tenancy.services import companies_for_user

from ..subscriptions.models import Subscription, SubscriptionList
from ..validation import CustomFieldSchema, normalize_mdn_for_search
from .forms import PersonAdminForm
from .models import CustomField, CustomFieldOption, Person, PersonTag
from .selectors import custom_field_schema
from .services import UNSET, person_add, person_update

# The person's history across the product, read-only, shown below the person: each
# capability (or a higher app, such as campaigns) registers its inline here, so this
# module never imports them. (position, inline), kept sorted by position.
_person_inlines: list[tuple[int, type[admin.options.InlineModelAdmin]]] = []


def person_inline_register(inline: type[admin.options.InlineModelAdmin], *, position: int) -> None:
    """Show `inline` on a saved person's page. `position` orders the inlines: subscriptions
    10, campaigns' participations 20, messages received 30, callback events 40."""
    _person_inlines.append((position, inline))
    _person_inlines.sort(key=lambda item: item[0])


person_inline_register(PersonCallbackEventInline, position=40)


class CustomFieldOptionInline(CompanyScopedAdminMixin, admin.TabularInline):
    model = CustomFieldOption
    extra = 1
    fields = ["key", "label", "position"]


@admin.register(CustomField)
class CustomFieldAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "data_type", "character_set", "max_length", "company"]
    list_filter = [CompanyListFilter, "data_type"]
    search_fields = ["name"]
    inlines = [CustomFieldOptionInline]

    def get_readonly_fields(self, request, obj=None):
        # Values are stored by name and typed by data_type: both are fixed once created.
        return ["company", "name", "data_type"] if obj is not None else []


class PersonTagInline(admin.TabularInline):
    model = PersonTag
    extra = 0
    fields = ["tag", "created_at"]
    readonly_fields = ["created_at"]


class ListMembershipFilter(admin.SimpleListFilter):
    title = "subscription list"
    parameter_name = "list"

    def lookups(self, request, model_admin):
        lists = SubscriptionList.objects.filter(company__in=companies_for_user(request.user))
        return [(str(sl.pk), sl.name) for sl in lists.order_by("name")[:200]]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not self.value().isdigit() or len(self.value()) > 18:
            # A hand-edited or stale URL: say so and show the list unfiltered (was a 500).
            messages.warning(request, f"No subscription list {self.value()!r}: filter ignored.")
            return queryset
        active = Subscription.objects.filter(
            person=OuterRef("pk"), subscription_list_id=self.value(), opt_out_date__isnull=True
        )
        return queryset.filter(Exists(active))


class SubscriptionStatusFilter(admin.SimpleListFilter):
    title = "subscription status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("subscribed", "Subscribed to a list"),
            ("opted_out", "Opted out of every list"),
            ("never", "Never subscribed"),
        ]

    def queryset(self, request, queryset):
        active = Subscription.objects.filter(person=OuterRef("pk"), opt_out_date__isnull=True)
        any_subscription = Subscription.objects.filter(person=OuterRef("pk"))
        if self.value() == "subscribed":
            return queryset.filter(Exists(active))
        if self.value() == "opted_out":
            return queryset.filter(Exists(any_subscription), ~Exists(active))
        if self.value() == "never":
            return queryset.filter(~Exists(any_subscription))
        return queryset


@admin.register(Person)
class PersonAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ["id", "mdn", "external_person_id", "company", "updated_at"]
    list_display_links = ["id", "mdn"]
    list_filter = [
        CompanyListFilter,
        ListMembershipFilter,
        SubscriptionStatusFilter,
        ("created_at", admin.DateFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    ]
    search_fields = ["external_person_id"]
    search_help_text = "MDN in any common format, external person id, person id or person key"
    readonly_fields = ["person_key", "timezone_source", "created_at", "updated_at"]
    list_select_related = ["company"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ["-id"]
    inlines = [PersonTagInline]

    class Media:
        js = ["mobiledb/person_company.js"]

    def get_inlines(self, request, obj):
        # The person's history across the product, read-only (issue 5's inlines).
        history = [inline for _, inline in _person_inlines]
        return [*self.inlines, *history] if obj is not None else self.inlines

    def get_search_results(self, request, queryset, search_term):
        """Exact, indexed lookups only, so search stays fast with millions of persons."""
        term = search_term.strip()
        if not term:
            return queryset, False
        mdn = normalize_mdn_for_search(term)
        if mdn is not None:
            return queryset.filter(mdn=mdn), False
        try:
            return queryset.filter(person_key=uuid.UUID(term)), False
        except ValueError:
            pass
        if term.isdigit() and len(term) < 19:
            return queryset.filter(pk=int(term)) | queryset.filter(external_person_id=term), False
        return queryset.filter(external_person_id=term), False

    def get_fieldsets(self, request, obj=None):
        form = self._get_form_for_get_fields(request, obj)
        custom = [name for name in form.base_fields if name.startswith("cf__")]
        return [
            (None, {"fields": ["company", "mdn", "carrier_code", "external_person_id"]}),
            ("Custom fields", {"fields": custom}),
            ("Details", {"fields": ["timezone", *self.readonly_fields]}),
        ]

    def form_company(self, request, obj) -> Company | None:
        if obj is not None:
            return obj.company
        companies = companies_for_user(request.user)
        chosen = request.POST.get("company") or request.GET.get("company")
        if chosen and str(chosen).isdigit():
            company = companies.filter(pk=int(chosen)).first()
            if company is not None:
                return company
        return companies.order_by("pk").first()

    def get_form(self, request, obj=None, change=False, **kwargs):
        company = self.form_company(request, obj)
        schema = custom_field_schema(company) if company else CustomFieldSchema([])
        kwargs["fields"] = None
        kwargs["form"] = self.form.for_schema(schema)
        base = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "company" in base.base_fields:
            # Custom fields belong to a company: the form reloads when the marketer picks
            # another (person_company.js; the company the fields are for is the mark).
            attrs = base.base_fields["company"].widget.attrs
            attrs["data-reload-with-company"] = str(company.pk) if company else ""
            if company is not None:
                base.base_fields["company"].initial = company.pk
        return base

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["company", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        values = form.custom_field_values
        data = form.cleaned_data
        if change:
            person = Person.objects.select_related("company").get(pk=obj.pk)
            person = person_update(
                person=person,
                mdn=data.get("mdn") or UNSET,
                external_person_id=data.get("external_person_id"),
                carrier_code=data.get("carrier_code") or None,
                timezone=data.get("timezone") or None,
                custom_fields=values,
            )
        else:
            person, _ = person_add(
                company=data["company"],
                mdn=data.get("mdn") or UNSET,
                external_person_id=data.get("external_person_id") or UNSET,
                carrier_code=data.get("carrier_code") or UNSET,
                timezone=data.get("timezone") or UNSET,
                custom_fields={k: v for k, v in values.items() if v is not None},
            )
        for field in Person._meta.concrete_fields:
            setattr(obj, field.attname, getattr(person, field.attname))
