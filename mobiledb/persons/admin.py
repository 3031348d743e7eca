"""Admin for the mobile database, scoped to the staff user's companies."""

from __future__ import annotations

from urllib.parse import urlencode

import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils.html import format_html

from callbacks.admin import PersonCallbackEventInline
from vibesweb.errors import DomainError
from vibesweb.inputs import parse_id
from vibesweb.paginators import CappedCountPaginator
from vibesweb.tenancy.models import Company
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin, scope_queryset
from vibesweb.tenancy.services import companies_for_user

from ..segments.export import csv_response, display_value
from ..segments.models import PersonBulkAction, Segment
from ..segments.selectors import (
    CUSTOM_FIELD_PARAM,
    STATUS_CHOICES,
    filters_from_params,
    persons_filtered,
    persons_search,
)
from ..segments.services import bulk_action_start, segment_save
from ..subscriptions.models import Subscription, SubscriptionList
from ..subscriptions.services import subscription_add, subscription_opt_out
from ..validation import CustomFieldSchema, FieldSpec
from .forms import PersonAdminForm
from .models import CustomField, CustomFieldOption, Person, PersonTag
from .selectors import custom_field_schema, tags_of_companies
from .services import UNSET, person_add, person_update

CUSTOM_COLUMN_PREFIX = "cf_column__"
FILTERED_COUNT_CAP = 10_000

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
    list_display = ["name", "label", "data_type", "list_column", "max_length", "company"]
    list_editable = ["label", "list_column"]
    list_filter = [CompanyListFilter, "data_type"]
    search_fields = ["name", "label"]
    fields = ["company", "name", "label", "data_type", "character_set", "max_length", "list_column"]
    inlines = [CustomFieldOptionInline]

    def get_readonly_fields(self, request, obj=None):
        # Values are stored by name and typed by data_type: both are fixed once created.
        return ["company", "name", "data_type"] if obj is not None else []


class PersonTagInline(admin.TabularInline):
    model = PersonTag
    extra = 0
    fields = ["tag", "created_at"]
    readonly_fields = ["created_at"]


class AppliedListFilter(admin.SimpleListFilter):
    """A sidebar filter applied whenever its parameter is given (a link, a segment), even
    when it has nothing to offer in the sidebar (Django then drops it silently)."""

    def has_output(self) -> bool:
        return super().has_output() or self.value() is not None


class ListMembershipFilter(AppliedListFilter):
    title = "subscription list"
    parameter_name = "list"

    def lookups(self, request, model_admin):
        lists = SubscriptionList.objects.filter(company__in=companies_for_user(request.user))
        return [(str(sl.pk), sl.name) for sl in lists.order_by("name")[:200]]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        list_id = parse_id(self.value())  # ASCII digits only ("²".isdigit() is true)
        if list_id is None:
            # A hand-edited or stale URL: say so and show the list unfiltered (was a 500).
            messages.warning(request, f"No subscription list {self.value()!r}: filter ignored.")
            return queryset
        return persons_filtered(queryset, {"list": str(list_id)})


class SubscriptionStatusFilter(AppliedListFilter):
    title = "subscription status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return STATUS_CHOICES

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return persons_filtered(queryset, {"status": self.value()})


class TagFilter(AppliedListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        companies = list(list_companies(request).values_list("pk", flat=True))
        return [(tag, tag) for tag in tags_of_companies(companies)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return persons_filtered(queryset, {"tag": self.value()})


def custom_field_filter(spec: FieldSpec, company: Company) -> type[admin.SimpleListFilter]:
    """A sidebar filter on one select or yes/no custom field (`?cf.<name>=<value>`)."""

    def lookups(self, request, model_admin):
        if spec.data_type == "boolean":
            return [("true", "Yes"), ("false", "No")]
        return [(option.key, option.label) for option in spec.options.values()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return persons_filtered(
            queryset, {CUSTOM_FIELD_PARAM + spec.name: self.value()}, company=company
        )

    return type(
        f"CustomFieldFilter_{spec.id}",
        (AppliedListFilter,),
        {
            "title": spec.display_label,
            "parameter_name": CUSTOM_FIELD_PARAM + spec.name,
            "lookups": lookups,
            "queryset": queryset,
        },
    )


class CustomFieldValuesFilter(admin.ListFilter):
    """Takes every other `cf.<name>=<value>` parameter (text and number fields, typed in a
    URL or kept by a segment): not shown in the sidebar, applied like the others."""

    title = "custom field values"
    template = "admin/mobiledb/person/no_filter.html"  # nothing to show in the sidebar

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for key in [k for k in params if k.startswith(CUSTOM_FIELD_PARAM)]:
            value = params.pop(key)
            self.values[key] = value[-1] if isinstance(value, list) else value
        self.company = list_company(request)

    def has_output(self) -> bool:
        return bool(self.values)  # Django applies only the filters that have output

    def expected_parameters(self):
        return list(self.values)

    def choices(self, changelist):
        return []

    def queryset(self, request, queryset):
        if not self.values:
            return queryset
        if self.company is None:
            return queryset.none()  # a custom field is a company's: filter by company first
        return persons_filtered(queryset, self.values, company=self.company)


def list_companies(request) -> QuerySet[Company]:
    """The companies the persons list shows: the company filter's, else all the user's."""
    companies = companies_for_user(request.user)
    chosen = parse_id(request.GET.get("company"))
    if chosen is not None:
        return companies.filter(pk=chosen)
    return companies


def list_company(request) -> Company | None:
    """The one company the persons list shows, if it shows one."""
    companies = list(list_companies(request)[:2])
    return companies[0] if len(companies) == 1 else None


FIRST_NAME_FIELDS = ("first_name", "firstname", "given_name", "first")
LAST_NAME_FIELDS = ("last_name", "lastname", "family_name", "surname", "last")


def name_fields(schema: CustomFieldSchema) -> tuple[str | None, str | None]:
    """The custom fields holding a person's first and last name, if the company has them."""
    names = {name.lower(): name for name in schema.by_name}
    first = next((names[n] for n in FIRST_NAME_FIELDS if n in names), None)
    last = next((names[n] for n in LAST_NAME_FIELDS if n in names), None)
    return first, last


def person_name(person: Person, schema: CustomFieldSchema) -> str:
    first, last = name_fields(schema)
    values = person.custom_fields or {}
    parts = [str(values.get(name) or "") for name in (first, last) if name]
    return " ".join(part for part in parts if part)


def mdn_national(mdn: str | None) -> str:
    """An MDN as people write it at home: (612) 555-0123 for North American numbers, the
    international format (+44 7700 900123) for others, whose country must show."""
    if not mdn:
        return ""
    try:
        number = phonenumbers.parse(mdn, None)
    except phonenumbers.NumberParseException:
        return mdn
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


class PersonActionForm(helpers.ActionForm):
    """The bulk action bar: which list, which tag (used by the actions that need them)."""

    # choices are the shown companies' open lists (set per request); the action checks
    # the list again against the persons' company
    subscription_list = forms.CharField(required=False, widget=forms.Select)
    tag = forms.CharField(
        required=False, max_length=100, widget=forms.TextInput(attrs={"placeholder": "tag"})
    )


@admin.register(Person)
class PersonAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = PersonAdminForm
    action_form = PersonActionForm
    list_display_links = ["id", "phone"]
    search_fields = ["external_person_id"]  # shows the box; get_search_results searches
    search_help_text = (
        "A name, any custom field value, a phone number (whole, or its last digits such as "
        "0003), an external id (any case), a person id or key"
    )
    readonly_fields = ["person_key", "timezone_source", "created_at", "updated_at"]
    list_select_related = ["company"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    # Recently changed first. Also what keeps the first page instant at millions of
    # persons: (company, updated_at) is an index, so no database sorts the company's rows
    # (SQLite sorted all of them for `-id` within a company).
    ordering = ["-updated_at", "-id"]
    inlines = [PersonTagInline]
    actions = ["subscribe_to_list", "opt_out_of_list", "add_tag", "remove_tag", "export_csv"]
    change_list_template = "admin/mobiledb/person/change_list.html"
    change_form_template = "admin/mobiledb/person/change_form.html"

    # --- the list -------------------------------------------------------------------------

    def get_list_display(self, request):
        columns = ["id", "phone"]
        schemas = [custom_field_schema(company) for company in list_companies(request)[:20]]
        if any(any(name_fields(schema)) for schema in schemas):
            columns.append("name")
        picked: dict[str, FieldSpec] = {}
        for schema in schemas:
            for spec in schema.by_name.values():
                if spec.list_column and spec.name not in picked:
                    picked[spec.name] = spec
        self._column_specs.update(picked)  # labels for the columns below (by name)
        columns += [CUSTOM_COLUMN_PREFIX + name for name in picked]
        columns += ["subscription_status", "external_person_id"]
        if len(schemas) > 1:
            columns.append("company")
        return [*columns, "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._column_specs: dict[str, FieldSpec] = {}

    def __getattr__(self, name: str):
        # One list column per custom field the company picked (`CustomField.list_column`).
        if name.startswith(CUSTOM_COLUMN_PREFIX):
            field_name = name[len(CUSTOM_COLUMN_PREFIX) :]
            spec = self.__dict__.get("_column_specs", {}).get(field_name)

            @admin.display(description=spec.display_label if spec else field_name)
            def column(person: Person) -> str:
                return display_value(spec, (person.custom_fields or {}).get(field_name))

            return column
        raise AttributeError(name)

    def get_list_filter(self, request):
        company = list_company(request)
        fields = []
        if company is not None:
            schema = custom_field_schema(company)
            fields = [
                custom_field_filter(spec, company)
                for spec in schema.by_name.values()
                if spec.data_type in ("single_select", "multi_select", "boolean")
            ]
        return [
            CompanyListFilter,
            ListMembershipFilter,
            SubscriptionStatusFilter,
            TagFilter,
            *fields,
            CustomFieldValuesFilter,
            ("created_at", admin.DateFieldListFilter),
            ("updated_at", admin.DateFieldListFilter),
        ]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Subscription status of the page's persons only, in one query: as an annotation
        # it would be computed for every matching row before the sort (a full scan).
        people = list(changelist.result_list)
        statuses = dict(
            Subscription.objects.filter(person__in=people)
            .values("person_id")
            .annotate(active=Count("pk", filter=Q(opt_out_date__isnull=True)))
            .values_list("person_id", "active")
        )
        for person in people:
            active = statuses.get(person.pk)
            person._subscribed = bool(active)
            person._ever = active is not None
        return changelist

    @admin.display(description="phone", ordering="mdn")
    def phone(self, person: Person) -> str:
        return mdn_national(person.mdn) or "—"

    @admin.display(description="name")
    def name(self, person: Person) -> str:
        return person_name(person, custom_field_schema(person.company)) or "—"

    @admin.display(description="subscription")
    def subscription_status(self, person: Person) -> str:
        if getattr(person, "_subscribed", False):
            return format_html('<span class="badge badge-on">{}</span>', "Subscribed")
        if getattr(person, "_ever", False):
            return format_html('<span class="badge badge-off">{}</span>', "Opted out")
        return format_html('<span class="badge">{}</span>', "Never subscribed")

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # A search or filter may scan (values, partial MDNs): count at most 10,000 of its
        # persons ("10,000+"), the whole company up to the usual cap (an index count).
        filters = filters_from_params(request.GET)
        cap = FILTERED_COUNT_CAP if filters else None
        paginator = self.paginator(queryset, per_page, orphans, allow_empty_first_page)
        if cap is not None:
            paginator.CAP = cap
            if "tag" in filters:
                # counted from the tag's rows, a probe each: with fewer tagged than the
                # cap the count otherwise checks every person of the company
                paginator.driver = PersonTag.objects.filter(tag=filters["tag"]).values("person_id")
            company = list_company(request)
            # sorted by a column the list is not a range of (company, updated_at)
            ordering = list(queryset.query.order_by)
            if company is not None and ordering[:1] == ["-updated_at"]:
                paginator.window = Person.objects.filter(company=company)
        return paginator

    def get_search_results(self, request, queryset, search_term):
        """Indexed lookups for ids and whole MDNs; names, custom field values and partial
        MDNs through `persons_search` (the search index of mobiledb.segments.search)."""
        return persons_search(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        company = list_company(request)
        filters = filters_from_params(request.GET)
        extra = {
            "list_company": company,
            "segment_filters": filters,
            "filters_query": urlencode(filters),
            "segments": Segment.objects.filter(company__in=list_companies(request))[:50],
            "has_persons": Person.objects.filter(company__in=list_companies(request)).exists(),
        }
        response = super().changelist_view(request, {**extra, **(extra_context or {})})
        action_form = getattr(response, "context_data", {}).get("action_form")
        if action_form is not None:
            # the action bar offers the shown companies' open lists
            lists = SubscriptionList.objects.filter(
                company__in=list_companies(request), archived=False
            ).order_by("name")[:200]
            action_form.fields["subscription_list"].widget.choices = [
                ("", "(list)"),
                *((str(item.pk), item.name) for item in lists),
            ]
        return response

    # --- bulk actions (the same services as the API) -----------------------------------

    def _bulk(self, request, queryset, kind: str):
        # "Select all N" sends select_across: the whole filtered result, not this page
        selected_all = request.POST.get("select_across") == "1"
        company_ids = list(queryset.order_by().values_list("company_id", flat=True).distinct()[:2])
        if len(company_ids) != 1:
            self.message_user(
                request, "Pick persons of one company: filter by company first.", messages.ERROR
            )
            return None
        company = companies_for_user(request.user).get(pk=company_ids[0])
        list_id = request.POST.get("subscription_list") or ""
        subscription_list = (
            SubscriptionList.objects.filter(company=company, pk=parse_id(list_id)).first()
            if parse_id(list_id) is not None
            else None
        )
        if selected_all:
            filters = filters_from_params(request.GET)
            filters.setdefault("company", str(company.pk))
            options = {"filters": filters}
        else:
            options = {"person_ids": [int(pk) for pk in queryset.values_list("pk", flat=True)]}
        try:
            action = bulk_action_start(
                company=company,
                kind=kind,
                subscription_list=subscription_list,
                tag=request.POST.get("tag", ""),
                user=request.user,
                **options,
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        url = reverse("admin:mobiledb_personbulkaction_change", args=[action.pk])
        if action.status == PersonBulkAction.Status.DONE:
            text = f"{action}: done for {action.changed} of {action.total} persons."
        else:
            text = f"{action}: started for {action.total} persons."
        self.message_user(
            request,
            format_html('{} <a href="{}">See its progress</a>', text, url),
            messages.SUCCESS,
        )
        return None

    @admin.action(description="Subscribe to the chosen list")
    def subscribe_to_list(self, request, queryset):
        return self._bulk(request, queryset, PersonBulkAction.Kind.SUBSCRIBE)

    @admin.action(description="Opt out of the chosen list")
    def opt_out_of_list(self, request, queryset):
        return self._bulk(request, queryset, PersonBulkAction.Kind.OPT_OUT)

    @admin.action(description="Add the tag")
    def add_tag(self, request, queryset):
        return self._bulk(request, queryset, PersonBulkAction.Kind.TAG)

    @admin.action(description="Remove the tag")
    def remove_tag(self, request, queryset):
        return self._bulk(request, queryset, PersonBulkAction.Kind.UNTAG)

    @admin.action(description="Export as a spreadsheet (CSV)")
    def export_csv(self, request, queryset):
        company_ids = list(queryset.order_by().values_list("company_id", flat=True).distinct()[:2])
        if len(company_ids) != 1:
            self.message_user(
                request, "Export persons of one company at a time: filter by company first.",
                messages.ERROR,
            )  # fmt: skip
            return None
        company = companies_for_user(request.user).get(pk=company_ids[0])
        return csv_response(company, queryset)

    # --- extra views ---------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export.csv", view(self.export_csv_view), name="mobiledb_person_export_csv"),
            path("save-segment/", view(self.save_segment_view),
                 name="mobiledb_person_save_segment"),
            path("<int:pk>/subscription/", view(self.subscription_view),
                 name="mobiledb_person_subscription"),
            *super().get_urls(),
        ]  # fmt: skip

    def _filtered(self, request) -> tuple[Company, QuerySet[Person]]:
        company = list_company(request)
        if company is None:
            raise PermissionDenied("Filter by company first.")
        persons = scope_queryset(Person.objects.all(), request.user, "company")
        return company, persons_filtered(
            persons.filter(company=company), filters_from_params(request.GET), company=company
        )

    def export_csv_view(self, request):
        """The whole filtered list as CSV (the list's query string)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if list_company(request) is None:
            self.message_user(
                request, "Export persons of one company at a time: filter by company first.",
                messages.ERROR,
            )  # fmt: skip
            return HttpResponseRedirect(reverse("admin:mobiledb_person_changelist"))
        company, persons = self._filtered(request)
        return csv_response(company, persons)

    def save_segment_view(self, request):
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        back = reverse("admin:mobiledb_person_changelist")
        query = request.POST.get("filters_query", "")
        filters = filters_from_params(QueryDict(query))
        chosen = companies_for_user(request.user)
        company_id = parse_id(filters.get("company", ""))
        if company_id is not None:
            chosen = chosen.filter(pk=company_id)
        company = chosen.first() if chosen.count() == 1 else None
        if company is None:
            self.message_user(
                request, "A segment belongs to one company: filter by company first.",
                messages.ERROR,
            )  # fmt: skip
            return HttpResponseRedirect(f"{back}?{query}")
        filters.pop("company", None)
        try:
            segment = segment_save(
                company=company, name=request.POST.get("name", ""), filters=filters
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(f"{back}?{query}")
        url = reverse("admin:mobiledb_segment_change", args=[segment.pk])
        self.message_user(
            request,
            format_html('Saved the segment <a href="{}">{}</a>.', url, segment.name),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(f"{back}?{query}")

    def subscription_view(self, request, pk: int):
        """The person page's Subscribe / Opt out buttons."""
        person = self.get_object(request, str(pk))
        if person is None or request.method != "POST":
            raise Http404
        if not self.has_change_permission(request, person):
            raise PermissionDenied
        back = reverse("admin:mobiledb_person_change", args=[person.pk])
        subscription_list = SubscriptionList.objects.filter(
            company_id=person.company_id, pk=request.POST.get("subscription_list") or 0
        ).first()
        if subscription_list is None:
            self.message_user(request, "Choose a subscription list.", messages.ERROR)
            return HttpResponseRedirect(back)
        person = Person.objects.select_related("company").get(pk=person.pk)
        try:
            if request.POST.get("do") == "opt_out":
                subscription_opt_out(
                    person=person,
                    subscription_list=subscription_list,
                    reason=Subscription.OptOutReason.ADMIN_OPT_OUT,
                )
                text = f"Opted out of {subscription_list}."
            else:
                if not person.mdn:
                    raise ValidationError("Only a person with a phone number can subscribe.")
                _, created = subscription_add(person=person, subscription_list=subscription_list)
                text = (
                    f"Subscribed to {subscription_list}."
                    if created
                    else f"Already subscribed to {subscription_list}."
                )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(back)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        person = self.get_object(request, object_id)
        if person is not None:
            schema = custom_field_schema(person.company)
            name, phone = person_name(person, schema), mdn_national(person.mdn)
            # the person, not "Change person", in the heading and the browser tab
            extra["title"] = " · ".join(part for part in (name, phone) if part) or str(person)
            extra["subtitle"] = None
            extra["person_lists"] = SubscriptionList.objects.filter(
                company_id=person.company_id, archived=False
            ).order_by("name")
            extra["active_list_ids"] = set(
                Subscription.objects.filter(person=person, opt_out_date__isnull=True).values_list(
                    "subscription_list_id", flat=True
                )
            )
            extra["subscription_url"] = reverse(
                "admin:mobiledb_person_subscription", args=[person.pk]
            )
        return super().change_view(request, object_id, form_url, extra)

    class Media:
        js = ["mobiledb/person_company.js"]

    def get_inlines(self, request, obj):
        # The person's history across the product, read-only (issue 5's inlines).
        history = [inline for _, inline in _person_inlines]
        return [*self.inlines, *history] if obj is not None else self.inlines

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
        if chosen and parse_id(chosen) is not None:
            company = companies.filter(pk=parse_id(chosen)).first()
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
