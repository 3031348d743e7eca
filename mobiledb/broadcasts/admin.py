"""Admin for broadcasts and the outbound messages log.

Scoped per company (vibesweb.tenancy.scoping). Writes go through the services.
`OutboundMessageInline` joins the Person admin through its inline registry.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone

from vibesweb.errors import DomainError, DomainErrors
from vibesweb.inputs import parse_id
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin
from vibesweb.tenancy.services import companies_for_user

from ..persons.admin import mdn_national, person_inline_register, person_name
from ..persons.selectors import custom_field_schema
from ..segments.models import Segment
from ..subscriptions.admin import CompanyScopedInline
from ..subscriptions.models import SubscriptionList
from ..validation import normalize_mdn_for_search
from . import services as broadcast_services
from .models import Broadcast, OutboundMessage
from .targeting import (
    Targeting,
    earliest_send_instant,
    filters_clean,
    send_schedule_clean,
    targeting_read,
)
from .templating import PERSON_PLACEHOLDERS, placeholder_resolvers, placeholders


class BroadcastForm(forms.ModelForm):
    """The broadcast form: every problem reported at once, next to its field, in the
    words a marketer uses; the checks are the services' (broadcast_validate's rules)."""

    class Meta:
        model = Broadcast
        fields = [
            "company",
            "name",
            "send_scheduled_date",
            "message_template",
            "source_lists",
            "segments",
            "filters",
        ]
        labels = {
            "send_scheduled_date": "Send at",
            "message_template": "Message",
            "source_lists": "Send to the subscribers of",
            "segments": "and to the subscribed persons of",
            "filters": "Only persons whose custom fields are",
        }
        help_texts = {
            "message_template": "Personalize with {{first_name}} or any custom field.",
            "segments": "Segments are saved from the persons list; only persons "
            "subscribed to one of your lists receive a broadcast.",
            "filters": 'Optional, e.g. [{"name": "tier", "selector": "=", "value": ["gold"]}] '
            'or {"tier": "gold"}.',
        }
        widgets = {"message_template": forms.Textarea(attrs={"rows": 4, "cols": 60})}

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") or getattr(self.instance, "company", None)
        if self.instance.pk and self.instance.status != Broadcast.Status.SCHEDULED:
            raise ValidationError("This broadcast has started: it can no longer be changed.")
        lists = list(cleaned.get("source_lists") or [])
        segments = list(cleaned.get("segments") or [])
        if "source_lists" in cleaned and "segments" in cleaned and not lists and not segments:
            self.add_error("source_lists", "Choose at least one list or segment to send to.")
        if company is None:
            return cleaned
        for item in [*lists, *segments]:
            if item.company_id != company.pk:
                field = "source_lists" if item in lists else "segments"
                self.add_error(field, f"“{item}” belongs to another company.")
        schema = custom_field_schema(company)
        schedule = None
        filters = cleaned.get("filters")
        if filters is not None:
            # the targeting document (broadcasts.targeting): filters, a time-zone schedule
            try:
                current = targeting_read(filters)
                schedule = send_schedule_clean(current.send_schedule, schema)
                cleaned["filters"] = Targeting(
                    filters_clean(current.filters, schema), schedule
                ).stored()
            except DomainErrors as errors:
                for error in errors.errors:
                    self.add_error("filters", error.message)
            except (DomainError, AttributeError, TypeError, ValueError) as error:
                self.add_error("filters", getattr(error, "message", None) or str(error))
        moment = cleaned.get("send_scheduled_date")
        if schedule is not None:
            moment = earliest_send_instant(schedule)  # a time-zone broadcast's first zone
        if moment is not None and moment <= timezone.now():
            self.add_error("send_scheduled_date", "That time has passed: pick a time to come.")
        template = cleaned.get("message_template")
        if template is not None:
            if not template.strip():
                self.add_error("message_template", "Write the message.")
            unknown = [
                name
                for name in placeholders(template)
                if name not in PERSON_PLACEHOLDERS
                and name not in schema.by_name
                and name not in placeholder_resolvers()  # e.g. {{incentive_code:POOL}}
            ]
            if unknown:
                known = ", ".join(f"{{{{{name}}}}}" for name in sorted(schema.by_name)) or "none"
                self.add_error(
                    "message_template",
                    f"{', '.join('{{' + n + '}}' for n in unknown)}: not a custom field "
                    f"of yours (yours: {known}).",
                )
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
    filter_horizontal = []
    change_form_template = "admin/mobiledb/broadcast/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        fixed = ["company"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        companies = companies_for_user(request.user)
        if "company" not in initial and companies.count() == 1:
            initial["company"] = companies.first().pk  # a marketer of one company
        return initial

    def get_fields(self, request, obj=None):
        fields = [*BroadcastForm.Meta.fields]
        if obj is not None:
            fields += self.readonly_fields
        return fields

    # --- the audience, a preview, a test send, before sending ----------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("preview.json", view(self.preview_view), name="mobiledb_broadcast_preview"),
            path("test-send.json", view(self.test_send_view),
                 name="mobiledb_broadcast_test_send"),
            *super().get_urls(),
        ]  # fmt: skip

    def _draft(self, request) -> tuple:
        """The company, lists, segments, filters and message typed in the form so far."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        companies = companies_for_user(request.user)
        company = companies.filter(pk=request.POST.get("company") or 0).first()
        if company is None:
            company = companies.first() if companies.count() == 1 else None
        if company is None:
            return None, [], [], {}, ""
        ids = [i for i in map(parse_id, request.POST.getlist("source_lists")) if i is not None]
        list_ids = list(
            SubscriptionList.objects.filter(company=company, pk__in=ids).values_list(
                "pk", flat=True
            )
        )
        segment_ids = [i for i in map(parse_id, request.POST.getlist("segments")) if i is not None]
        segments = list(Segment.objects.filter(company=company, pk__in=segment_ids))
        try:
            raw = json.loads(request.POST.get("filters") or "[]")
            filters = filters_clean(targeting_read(raw).filters, custom_field_schema(company))
        except (ValueError, TypeError, AttributeError, DomainError, DomainErrors):
            filters = None  # shown as "fix the filters" rather than a wrong count
        return company, list_ids, segments, filters, request.POST.get("message_template", "")

    def preview_view(self, request):
        company, list_ids, segments, filters, template = self._draft(request)
        if company is None:
            return JsonResponse({"ready": False, "note": "Choose the company first."})
        if filters is None:
            return JsonResponse({"ready": False, "note": "Fix the filters to see who receives it."})
        preview = broadcast_services.audience_preview(
            company=company, list_ids=list_ids, segments=segments, filters=filters,
            message_template=template,
        )  # fmt: skip
        sample = preview["sample"]
        schema = custom_field_schema(company)
        return JsonResponse(
            {
                "ready": True,
                "audience": preview["audience"],
                "capped": preview["capped"],
                "sample": (person_name(sample, schema) or mdn_national(sample.mdn))
                if sample
                else None,
                "text": preview["text"],
                "sms": preview["sms"].describe(),
                "segments": preview["sms"].segments,
                "encoding": preview["sms"].encoding,
            }
        )

    def test_send_view(self, request):
        company, list_ids, segments, filters, template = self._draft(request)
        mdn = normalize_mdn_for_search(request.POST.get("test_mdn", ""))
        if company is None:
            return JsonResponse({"sent": False, "note": "Choose the company first."})
        if mdn is None:
            return JsonResponse({"sent": False, "note": "Type a phone number to send the test to."})
        if not template.strip():
            return JsonResponse({"sent": False, "note": "Write the message first."})
        preview = broadcast_services.audience_preview(
            company=company, list_ids=list_ids, segments=segments, filters=filters or {},
            message_template=template,
        )  # fmt: skip
        message = broadcast_services.broadcast_test_send(
            company=company, mdn=mdn, message_template=template, sample=preview["sample"]
        )
        if message is None:
            return JsonResponse(
                {"sent": False, "note": f"{mdn_national(mdn)} opted out: nothing is sent to it."}
            )
        return JsonResponse(
            {"sent": True, "note": f"Test sent to {mdn_national(mdn)}.", "text": message.body}
        )

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
