"""Wallet admin, scoped per company: campaigns with the pass design and a live preview,
items (search by uuid, token, group code), install/remove history, pushes, messages.
Every write goes through the services (one validation path; item changes push)."""

from __future__ import annotations

import base64
import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.html import format_html

from mobiledb.persons.admin import person_inline_register
from mobiledb.subscriptions.admin import CompanyScopedInline
from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin

from .admin_inlines import WalletLocationInline, WalletLocationSelectorInline, WalletTemplateInline
from .design import BARCODE_FORMATS, IMAGE_NAMES, design_clean
from .links import site_root, smartlink_url
from .models import (
    DeviceRegistration,
    WalletCampaign,
    WalletItem,
    WalletLocationSelector,
    WalletMessage,
    WalletPush,
)
from .public.smartlink import pass_card
from .services.campaigns import (
    campaign_passes_changed,
    wallet_campaign_create,
    wallet_campaign_update,
)
from .services.items import item_changes_clean, wallet_item_update

# The design's form fields: (form field, design group or key, index, part).
FIELD_SLOTS = [
    ("header_label", "header_fields", "label"),
    ("header_value", "header_fields", "value"),
    ("primary_label", "primary_fields", "label"),
    ("primary_value", "primary_fields", "value"),
    ("secondary_label", "secondary_fields", "label"),
    ("secondary_value", "secondary_fields", "value"),
    ("auxiliary_label", "auxiliary_fields", "label"),
    ("auxiliary_value", "auxiliary_fields", "value"),
]
_SLOT_KEYS = {
    "header_fields": "header",
    "primary_fields": "primary",
    "secondary_fields": "secondary",
    "auxiliary_fields": "auxiliary",
}


def _colour(initial: str) -> forms.CharField:
    return forms.CharField(
        initial=initial, widget=forms.TextInput(attrs={"type": "color"}), max_length=7
    )


class WalletCampaignForm(forms.ModelForm):
    """The campaign and its pass design as typed fields; `{{token}}` tags in values."""

    redirect_link = forms.URLField(required=False, max_length=1024, assume_scheme="https")
    background_color = _colour("#1f2937")
    foreground_color = _colour("#ffffff")
    label_color = _colour("#d1d5db")
    logo_text = forms.CharField(required=False, max_length=500)
    organization_name = forms.CharField(required=False, max_length=500)
    header_label = forms.CharField(required=False)
    header_value = forms.CharField(required=False, help_text="e.g. {{loyalty_balance}}")
    primary_label = forms.CharField(required=False)
    primary_value = forms.CharField(required=False, help_text="e.g. {{first_name}}")
    secondary_label = forms.CharField(required=False)
    secondary_value = forms.CharField(required=False)
    auxiliary_label = forms.CharField(required=False)
    auxiliary_value = forms.CharField(required=False)
    barcode_format = forms.ChoiceField(
        required=False, choices=[("", "none"), *((k, k) for k in BARCODE_FORMATS)]
    )
    barcode_message = forms.CharField(required=False, help_text="e.g. {{code}}")
    logo = forms.FileField(required=False, help_text="PNG")
    icon = forms.FileField(required=False, help_text="PNG (a plain one is drawn without)")
    strip = forms.FileField(required=False, help_text="PNG")
    preview_tokens = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sample tokens for the preview only, one name=value a line.",
        initial="first_name=Ann\nloyalty_balance=120\ncode=A1B2",
    )

    class Meta:
        model = WalletCampaign
        fields = ["company", "name", "type", "description", "expiration_date", "redirect_link"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        design = self.instance.design or {}
        for name in ("background_color", "foreground_color", "label_color", "logo_text"):
            if design.get(name):
                self.fields[name].initial = design[name]
        if design.get("organization_name"):
            self.fields["organization_name"].initial = design["organization_name"]
        for name, group, part in FIELD_SLOTS:
            fields = design.get(group) or []
            if fields:
                self.fields[name].initial = fields[0][part]
        barcode = design.get("barcode") or {}
        self.fields["barcode_format"].initial = barcode.get("format", "")
        self.fields["barcode_message"].initial = barcode.get("message", "")

    def design_fields(self) -> dict:
        """The API-shaped design of the form's (cleaned or raw) values."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        design = {
            name: data.get(name) or None
            for name in ("background_color", "foreground_color", "label_color")
        }
        for name in ("logo_text", "organization_name"):
            if data.get(name):
                design[name] = data[name]
        for group, key in _SLOT_KEYS.items():
            label, value = data.get(f"{key}_label") or "", data.get(f"{key}_value") or ""
            if label or value:
                design[group] = [{"key": key, "label": label, "value": value}]
        back = (self.instance.design or {}).get("back_fields")
        if back:
            design["back_fields"] = back
        if data.get("barcode_format"):
            design["barcode"] = {
                "format": data["barcode_format"],
                "message": data.get("barcode_message") or "",
            }
        return design

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["design"] = design_clean(self.design_fields())
        except DomainError as error:
            for entry in error.as_entries():
                self.add_error(None, entry["message"])
        images = {}
        for name in IMAGE_NAMES:
            upload = cleaned.get(name)
            if upload:
                if upload.size > 512 * 1024:
                    self.add_error(name, "at most 512 KB")
                    continue
                images[name] = upload.read()
        cleaned["images"] = images
        return cleaned


def preview_tokens(text: str) -> dict[str, str]:
    tokens = {}
    for line in (text or "").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            tokens[name.strip()] = value.strip()
    return tokens


@admin.register(WalletCampaign)
class WalletCampaignAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = WalletCampaignForm
    change_form_template = "admin/wallet/walletcampaign/change_form.html"
    list_display = ["name", "wallet_id", "type", "company", "item_count", "updated_at"]
    list_filter = [CompanyListFilter, "type"]
    search_fields = ["name", "wallet_id"]
    readonly_fields = ["wallet_id", "smartlink"]
    fieldsets = [
        (None, {"fields": ["company", "name", "type", "wallet_id", "smartlink", "description"]}),
        ("Expiry", {"fields": ["expiration_date", "redirect_link"]}),
        (
            "Pass design",
            {
                "fields": [
                    ("background_color", "foreground_color", "label_color"),
                    "logo_text",
                    "organization_name",
                    ("header_label", "header_value"),
                    ("primary_label", "primary_value"),
                    ("secondary_label", "secondary_value"),
                    ("auxiliary_label", "auxiliary_value"),
                    ("barcode_format", "barcode_message"),
                    ("logo", "icon", "strip"),
                    "preview_tokens",
                ]
            },
        ),
    ]

    inlines = [WalletTemplateInline, WalletLocationSelectorInline, WalletLocationInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the campaign exists first

    def save_formset(self, request, form, formset, change):
        """Inline rows take the campaign's company; a template or store change reaches
        every installed pass, as the API's does (wallet.services.templates)."""
        for inline_form in formset.forms:
            inline_form.instance.company_id = form.instance.company_id
        super().save_formset(request, form, formset, change)
        if formset.model is WalletLocationSelector:
            return
        changed = formset.new_objects or formset.changed_objects or formset.deleted_objects
        if changed:
            campaign_passes_changed(campaign=WalletCampaign.objects.get(pk=form.instance.pk))

    def get_readonly_fields(self, request, obj=None):
        # SPEC 10: a campaign's type never changes.
        return [*self.readonly_fields, "type", "company"] if obj else self.readonly_fields

    @admin.display(description="items")
    def item_count(self, obj: WalletCampaign) -> int:
        return obj.items.count()

    @admin.display(description="SmartLink")
    def smartlink(self, obj: WalletCampaign) -> str:
        if not obj.pk:
            return "-"
        url = smartlink_url(obj, site_root(getattr(self, "_request", None)))
        return format_html('<a href="{}" target="_blank">{}</a>', url, url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        self._request = request
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data.get("description") or "",
            "expiration_date": data.get("expiration_date"),
            "redirect_link": data.get("redirect_link") or "",
            "design": data["design"],
            "images": {},
        }
        # the services take the API's shapes: dates as text, images base64
        if fields["expiration_date"]:
            fields["expiration_date"] = fields["expiration_date"].isoformat()
        images = {name: _b64(value) for name, value in data["images"].items()}
        fields["images"] = images
        if change:
            saved = wallet_campaign_update(campaign=obj, fields=fields)
        else:
            saved = wallet_campaign_create(
                company=data["company"], fields={**fields, "type": data["type"]}
            )
        obj.pk, obj.wallet_id = saved.pk, saved.wallet_id

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", preview, name="wallet_walletcampaign_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The pass card for the form's current values (the live preview fetches it)."""
        if request.method != "POST" or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        instance = WalletCampaign(name=request.POST.get("name", ""))
        form = WalletCampaignForm(request.POST, instance=instance)
        form.is_valid()  # errors still leave the valid values in cleaned_data
        try:
            design = design_clean(form.design_fields())
        except DomainError:
            design = form.design_fields()
        instance.design = design
        tokens = preview_tokens(request.POST.get("preview_tokens", ""))
        card = pass_card(instance, tokens, root=site_root(request))
        html = render_to_string("wallet/_pass_card.html", {"card": card}, request=request)
        return HttpResponse(html)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            form = context["adminform"].form
            tokens = preview_tokens(form["preview_tokens"].value())
            context["card"] = pass_card(obj, tokens, root=site_root(request))
        else:
            context["card"] = pass_card(WalletCampaign(design=design_clean({})), {}, root="")
        return super().render_change_form(request, context, add, change, form_url, obj)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class WalletItemForm(forms.ModelForm):
    tokens_json = forms.CharField(
        label="tokens",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='A JSON object of string values, e.g. {"first_name": "Ann"}.',
    )

    class Meta:
        model = WalletItem
        fields = ["group_code", "notification"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tokens_json"].initial = json.dumps(self.instance.tokens or {}, indent=1)

    def clean(self):
        cleaned = super().clean()
        try:
            tokens = json.loads(cleaned.get("tokens_json") or "{}")
        except ValueError:
            self.add_error("tokens_json", "not valid JSON")
            return cleaned
        removed = {name: None for name in self.instance.tokens if name not in tokens}
        fields = {"tokens": {**removed, **tokens} if isinstance(tokens, dict) else tokens}
        fields["group_code"] = cleaned.get("group_code") or ""
        if cleaned.get("notification") != self.instance.notification:
            fields["passbook"] = {"notification": cleaned.get("notification") or ""}
        try:
            item_changes_clean(fields)  # the API's rules, as form errors
        except DomainError as error:
            for entry in error.as_entries():
                self.add_error(None, entry["message"])
        cleaned["changes"] = fields
        return cleaned


class DeviceRegistrationInline(CompanyScopedInline):
    model = DeviceRegistration
    company_path = "item__company"
    fields = ["provider", "device_library_identifier", "registered_at", "unregistered_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, *args):
        return False


class WalletPushInline(CompanyScopedInline):
    model = WalletPush
    fields = ["created_at", "push_token", "backend", "status", "detail"]
    readonly_fields = fields
    can_delete = False
    max_num = 20

    def has_add_permission(self, request, *args):
        return False


@admin.register(WalletItem)
class WalletItemAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = WalletItemForm
    list_display = ["uuid", "campaign", "group_code", "active", "provider", "updated_at"]
    list_filter = [CompanyListFilter, "active", "provider"]
    list_select_related = ["campaign"]
    search_fields = ["uuid", "group_code"]
    search_help_text = "uuid, group code, or a token as name=value (e.g. first_name=Ann)"
    readonly_fields = ["uuid", "campaign", "person", "active", "provider", "update_tag"]
    fields = [*readonly_fields, "group_code", "tokens_json", "notification"]
    inlines = [DeviceRegistrationInline, WalletPushInline]

    def has_add_permission(self, request):
        return False  # items come from SmartLinks

    def get_search_results(self, request, queryset, search_term):
        name, sep, value = search_term.strip().partition("=")
        if sep and name.strip().isidentifier():
            return queryset.filter(**{f"tokens__{name.strip()}": value.strip()}), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        try:
            wallet_item_update(item=obj, fields=form.cleaned_data["changes"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


@admin.register(DeviceRegistration)
class DeviceRegistrationAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """Install and remove history."""

    company_path = "item__company"
    list_display = [
        "item",
        "provider",
        "device_library_identifier",
        "registered_at",
        "unregistered_at",
    ]
    list_filter = ["provider", ("unregistered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["item"]
    search_fields = ["item__uuid", "device_library_identifier"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WalletPush)
class WalletPushAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "item", "push_token", "backend", "status", "detail"]
    list_filter = [CompanyListFilter, "backend", "status"]
    list_select_related = ["item"]
    search_fields = ["item__uuid", "push_token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WalletMessage)
class WalletMessageAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "campaign",
        "header",
        "status",
        "recipient_count",
        "sent_count",
    ]
    list_filter = [CompanyListFilter, "status"]
    list_select_related = ["campaign"]
    search_fields = ["header", "template"]
    readonly_fields = [
        "wallet_message_id",
        "campaign",
        "header",
        "template",
        "link",
        "filters",
        "status",
        "recipient_count",
        "sent_count",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False


class PersonWalletItemInline(CompanyScopedInline):
    """The person's passes, on the person page."""

    model = WalletItem
    fk_name = "person"
    fields = ["uuid", "campaign", "active", "provider", "group_code", "updated_at"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "wallet passes"

    def has_add_permission(self, request, *args):
        return False


person_inline_register(PersonWalletItemInline, position=50)
