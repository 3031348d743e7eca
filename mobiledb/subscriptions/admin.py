"""Admin for subscription lists and subscriptions.

Scoped per company (vibesweb.tenancy.scoping). Writes go through the services,
so the admin emits the same callbacks as the API. `SubscriptionHistoryInline` joins the
Person admin through its inline registry (persons.admin.person_inline_register).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin
from vibesweb.tenancy.services import companies_for_user

from ..persons.admin import person_inline_register
from . import services as subscription_services
from .models import Subscription, SubscriptionList


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A filter on a company-owned relation listing only the user's companies' rows."""

    def field_choices(self, field, request, model_admin):
        rows = field.related_model._default_manager.all()
        if not request.user.is_superuser:
            rows = rows.filter(company__in=companies_for_user(request.user))
        return [(row.pk, str(row)) for row in rows[:500]]


class CompanyScopedInline(CompanyScopedAdminMixin, admin.TabularInline):
    extra = 0


@admin.register(SubscriptionList)
class SubscriptionListAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "company", "active_subscribers", "archived", "created_at"]
    list_filter = [CompanyListFilter, "archived"]
    search_fields = ["name"]
    fields = ["company", "name", "description", "archived"]

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []

    def get_queryset(self, request):
        active = Count("subscriptions", filter=Q(subscriptions__opt_out_date__isnull=True))
        return super().get_queryset(request).annotate(active_subscribers=active)

    @admin.display(description="active subscribers", ordering="active_subscribers")
    def active_subscribers(self, obj: SubscriptionList) -> int:
        return obj.active_subscribers

    def save_model(self, request, obj, form, change):
        # through the services: subscription_list_added / _updated callbacks, and
        # archiving opts subscribers out with list_archived
        if change:
            stored = SubscriptionList.objects.get(pk=obj.pk)
            archived = obj.archived
            obj.archived = stored.archived
            subscription_services.subscription_list_update(
                subscription_list=obj,
                name=obj.name,
                description=obj.description,
                archived=archived,
            )
        else:
            created = subscription_services.subscription_list_create(
                company=obj.company, name=obj.name, description=obj.description
            )
            obj.pk = created.pk


@admin.register(Subscription)
class SubscriptionAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "person",
        "subscription_list",
        "opt_in_date",
        "opt_out_date",
        "opt_out_reason",
        "acquisition_campaign",
    ]
    list_filter = [
        CompanyListFilter,
        "opt_out_reason",
        ("subscription_list", ScopedRelatedFieldListFilter),
        "opt_in_date",
    ]
    list_select_related = ["person", "subscription_list", "acquisition_campaign"]
    search_fields = ["person__mdn", "person__external_person_id"]
    raw_id_fields = ["person"]
    readonly_fields = [
        "company",
        "person",
        "subscription_list",
        "opt_in_date",
        "opt_out_date",
        "opt_out_reason",
        "acquisition_campaign",
        "created_at",
    ]
    actions = ["opt_out_selected"]

    def has_add_permission(self, request, *args):
        return False  # subscribe through the API, a campaign or the person's page

    @admin.action(description="Opt out (admin_opt_out)")
    def opt_out_selected(self, request, queryset):
        done = 0
        for subscription in queryset.filter(opt_out_date__isnull=True).select_related(
            "person", "person__company", "subscription_list"
        ):
            subscription_services.subscription_opt_out(
                person=subscription.person,
                subscription_list=subscription.subscription_list,
                reason=Subscription.OptOutReason.ADMIN_OPT_OUT,
            )
            done += 1
        self.message_user(request, f"Opted out {done} subscription(s).", messages.SUCCESS)


# --- inlines for the Person admin -------------------------------------------------------


class SubscriptionHistoryInline(CompanyScopedInline):
    """A person's subscriptions, opt-ins and opt-outs, newest first (read-only)."""

    model = Subscription
    verbose_name_plural = "subscriptions (history)"
    fields = [
        "subscription_list",
        "opt_in_date",
        "opt_out_date",
        "opt_out_reason",
        "acquisition_campaign",
    ]
    readonly_fields = fields
    ordering = ["-opt_in_date", "-id"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, *args):
        return False


person_inline_register(SubscriptionHistoryInline, position=10)
