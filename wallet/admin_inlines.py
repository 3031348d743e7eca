"""The campaign page's inlines: its platform templates (checked by the API's one
validation path), its location selector and its stores. The campaign admin's
save_formset makes a template or store change reach installed passes."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from mobiledb.subscriptions.admin import CompanyScopedInline
from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyScopedAdminMixin

from .models import WalletLocation, WalletLocationSelector, WalletTemplate
from .pass_templates import template_clean, template_merge
from .services.locations import coordinate_clean


class WalletTemplateForm(forms.ModelForm):
    """A platform template as JSON, checked by the API's one validation path."""

    body = forms.JSONField(
        label="template",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="The API's passbook_template / wallet_template object "
        "(reference OpenAPI); text may hold {{token}} tags.",
    )

    class Meta:
        model = WalletTemplate
        fields = ["kind", "active", "body"]

    def clean(self):
        cleaned = super().clean()
        kind, body = cleaned.get("kind"), cleaned.get("body")
        if kind and body is not None:
            try:
                cleaned["body"] = template_merge(kind, {}, template_clean(kind, body))
            except DomainError as error:
                raise forms.ValidationError([e["message"] for e in error.as_entries()]) from None
        return cleaned


class WalletTemplateInline(CompanyScopedAdminMixin, admin.StackedInline):
    model = WalletTemplate
    form = WalletTemplateForm
    extra = 0
    max_num = 2
    verbose_name = "platform pass template (used instead of the design above when set)"


class WalletLocationForm(forms.ModelForm):
    class Meta:
        model = WalletLocation
        fields = [
            "location_id", "name", "address", "city", "state", "zip",
            "latitude", "longitude", "notification_message",
        ]  # fmt: skip
        # narrow inputs: nine columns side by side still fit a laptop's screen
        widgets = {
            **{name: forms.TextInput(attrs={"size": 10}) for name in ("location_id", "city")},
            **{name: forms.TextInput(attrs={"size": 14}) for name in ("name", "address")},
            **{name: forms.TextInput(attrs={"size": 4}) for name in ("state",)},
            **{name: forms.TextInput(attrs={"size": 7}) for name in ("zip",)},
            **{name: forms.TextInput(attrs={"size": 9}) for name in ("latitude", "longitude")},
            "notification_message": forms.TextInput(attrs={"size": 22}),
        }

    def clean(self):
        cleaned = super().clean()
        for name in ("latitude", "longitude"):
            if cleaned.get(name) is not None:
                try:
                    coordinate_clean(name, str(cleaned[name]), "store")
                except DomainError as error:
                    self.add_error(name, error.message)
        return cleaned


class WalletLocationInline(CompanyScopedInline):
    """The campaign's stores: without a location selector a pass carries the first ten."""

    model = WalletLocation
    form = WalletLocationForm
    verbose_name = "store location"


class WalletLocationSelectorInline(CompanyScopedAdminMixin, admin.StackedInline):
    model = WalletLocationSelector
    extra = 0
    max_num = 1
    fields = [
        ("title", "tagline"),
        "image_url",
        ("background_color", "foreground_color", "label_color"),
        ("fontsize", "include_zipcode", "add_to_wallet_language"),
    ]
    verbose_name = "location selector (the SmartLink asks the customer to pick a store)"
