"""Admin for subscription lists and subscriptions.

Scoped per company (vibesweb.tenancy.scoping). Writes go through the services,
so the admin emits the same callbacks as the API. `SubscriptionHistoryInline` joins the
Person admin through its inline registry (persons.admin.person_inline_register).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin
from vibesweb.tenancy.services import companies_for_user

from ..dashboard import opt_series
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


def subscribers_url(subscription_list: SubscriptionList) -> str:
    """The persons list showing the list's active subscribers (its subscribers page)."""
    query = urlencode({"company": subscription_list.company_id, "list": subscription_list.pk})
    return f"{reverse('admin:mobiledb_person_changelist')}?{query}"


class CompanyScopedInline(CompanyScopedAdminMixin, admin.TabularInline):
    extra = 0


@admin.register(SubscriptionList)
class SubscriptionListAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "active_subscribers",
        "opt_ins_30_days",
        "opt_outs_30_days",
        "subscribers_link",
        "archived",
        "company",
    ]
    list_filter = [CompanyListFilter, "archived"]
    search_fields = ["name"]
    fields = ["company", "name", "description", "archived"]
    change_form_template = "admin/mobiledb/subscriptionlist/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []

    def get_queryset(self, request):
        since = timezone.now() - timedelta(days=30)
        active = Count("subscriptions", filter=Q(subscriptions__opt_out_date__isnull=True))
        opt_ins = Count("subscriptions", filter=Q(subscriptions__opt_in_date__gte=since))
        opt_outs = Count("subscriptions", filter=Q(subscriptions__opt_out_date__gte=since))
        return (
            super()
            .get_queryset(request)
            .annotate(active_subscribers=active, opt_ins_30=opt_ins, opt_outs_30=opt_outs)
        )

    @admin.display(description="subscribers", ordering="active_subscribers")
    def active_subscribers(self, obj: SubscriptionList) -> int:
        return obj.active_subscribers

    @admin.display(description="opt-ins (30 days)", ordering="opt_ins_30")
    def opt_ins_30_days(self, obj: SubscriptionList) -> int:
        return obj.opt_ins_30

    @admin.display(description="opt-outs (30 days)", ordering="opt_outs_30")
    def opt_outs_30_days(self, obj: SubscriptionList) -> int:
        return obj.opt_outs_30

    @admin.display(description="")
    def subscribers_link(self, obj: SubscriptionList) -> str:
        return format_html('<a href="{}">See subscribers</a>', subscribers_url(obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        subscription_list = self.get_object(request, object_id)
        if subscription_list is not None:
            extra["opt_series"] = opt_series(
                Subscription.objects.filter(subscription_list=subscription_list)
            )
            extra["subscribers_url"] = subscribers_url(subscription_list)
            extra["subscriber_count"] = Subscription.objects.filter(
                subscription_list=subscription_list, opt_out_date__isnull=True
            ).count()
        return super().change_view(request, object_id, form_url, extra)

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
