"""Admin for acquisition campaigns, participations and inbound events, scoped per company.

`ParticipationInline` joins the Person admin (the person's participations) through
mobiledb's inline registry.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from mobiledb.broadcasts.templating import template_check
from mobiledb.persons.admin import person_inline_register
from mobiledb.persons.selectors import custom_field_schema
from mobiledb.subscriptions.admin import CompanyScopedInline, ScopedRelatedFieldListFilter
from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin

from .models import AcquisitionCampaign, InboundEvent, MessagingProgram, Participation
from .services.acquisition import (
    keyword_problem,
    participation_confirm,
    participation_reject,
    template_modernized,
)


class AcquisitionCampaignForm(forms.ModelForm):
    class Meta:
        model = AcquisitionCampaign
        fields = [
            "company",
            "name",
            "keyword",
            "short_code",
            "subscription_lists",
            "opt_in",
            "status",
            "start_date",
            "end_date",
            "confirmation_message",
            "welcome_message",
            "web_signup",
            "disclosure",
            "signup_fields",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One placeholder syntax in every template: {{campaign}} and {{custom_field}}, as
        # in broadcasts (a message saved with the older {campaign} still renders).
        for name in ("confirmation_message", "welcome_message"):
            field = self.fields.get(name)
            if field is None:
                continue
            field.help_text = (
                "{{campaign}} is the campaign's name; {{first_name}} or any custom field "
                "personalizes it."
            ) + (" Empty sends nothing." if name == "welcome_message" else "")
            if not self.instance.pk and isinstance(field.initial, str):
                field.initial = field.initial.replace("{campaign}", "{{campaign}}")
        for name in ("confirmation_message", "welcome_message"):
            if self.instance.pk and name in self.initial:
                self.initial[name] = template_modernized(self.initial[name] or "")

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") or getattr(self.instance, "company", None)
        if company is None:
            return cleaned
        lists = cleaned.get("subscription_lists") or []
        if any(item.company_id != company.pk for item in lists):
            raise ValidationError("Every subscription list must belong to the campaign's company.")
        signup_fields = cleaned.get("signup_fields") or []
        if any(field.company_id != company.pk for field in signup_fields):
            self.add_error("signup_fields", "Pick custom fields of the campaign's company.")
        if cleaned.get("web_signup") and not (cleaned.get("disclosure") or "").strip():
            self.add_error(
                "disclosure",
                "A sign-up page needs its disclosure: the program, how often messages come, "
                "'Msg & data rates may apply' and 'Reply STOP to cancel'.",
            )
        keyword = (cleaned.get("keyword") or "").strip().upper()
        cleaned["keyword"] = keyword
        if keyword and cleaned.get("status") in (
            AcquisitionCampaign.Status.ACTIVE,
            AcquisitionCampaign.Status.SCHEDULED,
        ):
            problem = keyword_problem(company=company, keyword=keyword, exclude_pk=self.instance.pk)
            if problem:
                self.add_error("keyword", problem)
        schema = custom_field_schema(company)
        for name in ("confirmation_message", "welcome_message"):
            try:  # {{incentive_code:POOL_ID}} must name a pool of this company
                template_check(cleaned.get(name) or "", company=company, schema=schema)
            except DomainError as error:
                self.add_error(name, error.message)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", "end_date must be after start_date.")
        return cleaned


@admin.register(AcquisitionCampaign)
class AcquisitionCampaignAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = AcquisitionCampaignForm
    list_display = ["name", "company", "keyword", "opt_in", "status", "start_date", "end_date"]
    list_filter = [CompanyListFilter, "status", "opt_in"]
    search_fields = ["name", "keyword"]
    filter_horizontal = ["subscription_lists", "signup_fields"]

    def get_readonly_fields(self, request, obj=None):
        return ["company", "signup_page"] if obj is not None else []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [*fields, "signup_page"] if obj is not None else fields

    @admin.display(description="sign-up page")
    def signup_page(self, obj: AcquisitionCampaign) -> str:
        if not obj.signup_path:
            return "Off: tick 'web sign-up page' and save to publish one."
        return format_html('<a href="{0}" target="_blank">{0}</a>', obj.signup_path)


@admin.register(MessagingProgram)
class MessagingProgramAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """What each short code answers to HELP, STOP and START (SPEC section 13)."""

    list_display = ["program_name", "company", "short_code", "contact"]
    list_filter = [CompanyListFilter]
    search_fields = ["program_name", "short_code"]
    fields = [
        "company",
        "short_code",
        "program_name",
        "contact",
        "help_text",
        "stop_text",
        "start_text",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []


@admin.register(Participation)
class ParticipationAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["person", "campaign", "status", "source", "participation_date", "expire_date"]
    list_filter = [
        CompanyListFilter,
        "status",
        "source",
        ("campaign", ScopedRelatedFieldListFilter),
    ]
    list_select_related = ["person", "campaign"]
    search_fields = ["person__mdn", "person__external_person_id"]
    readonly_fields = [
        "company",
        "campaign",
        "person",
        "status",
        "source",
        "participation_date",
        "expire_date",
        "status_changed_at",
    ]
    actions = ["confirm_selected", "reject_selected"]

    def has_add_permission(self, request, *args):
        return False  # participants join by API or keyword

    @admin.action(description="Confirm pending (as if the phone answered YES)")
    def confirm_selected(self, request, queryset):
        done = sum(
            participation_confirm(participation=p)
            for p in queryset.filter(status=Participation.Status.PENDING).select_related(
                "campaign", "campaign__company", "person", "company"
            )
        )
        self.message_user(request, f"Confirmed {done} participation(s).", messages.SUCCESS)

    @admin.action(description="Reject pending")
    def reject_selected(self, request, queryset):
        done = sum(
            participation_reject(participation=p)
            for p in queryset.filter(status=Participation.Status.PENDING).select_related(
                "campaign", "person", "company"
            )
        )
        self.message_user(request, f"Rejected {done} participation(s).", messages.SUCCESS)


@admin.register(InboundEvent)
class InboundEventAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "mdn", "short_code", "message", "outcome", "detail"]
    list_filter = [CompanyListFilter, "outcome", "received_at"]
    search_fields = ["mdn", "event_id", "message"]
    raw_id_fields = ["person", "campaign"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParticipationInline(CompanyScopedInline):
    """A person's acquisition campaign participations (read-only)."""

    model = Participation
    fields = ["campaign", "status", "source", "participation_date", "expire_date"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, *args):
        return False


person_inline_register(ParticipationInline, position=20)

# Incentives keep their admin in their own package; importing it registers it.
from .incentives import admin as incentives_admin  # noqa: E402,F401
