"""Admin for broadcasts and the outbound messages log.

Scoped per company (vibesweb.tenancy.scoping). Writes go through the services.
`OutboundMessageInline` joins the Person admin through its inline registry.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin

from ..persons.admin import person_inline_register
from ..subscriptions.admin import CompanyScopedInline
from . import services as broadcast_services
from .models import Broadcast, OutboundMessage


class BroadcastForm(forms.ModelForm):
    class Meta:
        model = Broadcast
        fields = [
            "company",
            "name",
            "send_scheduled_date",
            "message_template",
            "source_lists",
            "filters",
        ]

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") or getattr(self.instance, "company", None)
        if self.instance.pk and self.instance.status != Broadcast.Status.SCHEDULED:
            raise ValidationError("Only a scheduled broadcast can be changed.")
        lists = cleaned.get("source_lists") or []
        if company is not None and any(item.company_id != company.pk for item in lists):
            raise ValidationError("Every source list must belong to the broadcast's company.")
        if company is None or not cleaned.get("send_scheduled_date"):
            return cleaned
        try:
            cleaned["filters"] = broadcast_services.broadcast_validate(
                company=company,
                send_scheduled_date=cleaned["send_scheduled_date"],
                message_template=cleaned.get("message_template") or "",
                filters=cleaned.get("filters") or {},
            )
        except DomainError as error:
            raise ValidationError(error.message) from None
        return cleaned


@admin.register(Broadcast)
class BroadcastAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = BroadcastForm
    list_display = [
        "name",
        "company",
        "send_scheduled_date",
        "status",
        "audience_count",
        "sent_count",
        "failed_count",
    ]
    list_filter = [CompanyListFilter, "status", "send_scheduled_date"]
    search_fields = ["name"]
    readonly_fields = [
        "status",
        "audience_count",
        "sent_count",
        "failed_count",
        "started_at",
        "completed_at",
        "error",
    ]
    actions = ["cancel_selected"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["company"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != Broadcast.Status.SCHEDULED:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description="Cancel (also stops a broadcast being sent)")
    def cancel_selected(self, request, queryset):
        done = 0
        for broadcast in queryset:
            try:
                broadcast_services.broadcast_cancel(broadcast=broadcast, only_scheduled=False)
                done += 1
            except DomainError:
                pass
        self.message_user(request, f"Canceled {done} broadcast(s).", messages.SUCCESS)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "mdn", "kind", "short_code", "body", "broadcast", "backend"]
    list_filter = [CompanyListFilter, "kind", "created_at"]
    search_fields = ["mdn", "body"]
    list_select_related = ["broadcast"]
    raw_id_fields = ["person", "broadcast"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OutboundMessageInline(CompanyScopedInline):
    """The messages the person's phone received (read-only), newest first."""

    model = OutboundMessage
    verbose_name_plural = "messages received"
    fields = ["created_at", "kind", "short_code", "body", "broadcast"]
    readonly_fields = fields
    ordering = ["-id"]
    can_delete = False
    max_num = 0

    def has_add_permission(self, request, *args):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")


person_inline_register(OutboundMessageInline, position=30)
