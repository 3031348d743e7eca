"""The registration form of the configuration screen; every rule is the services' own."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from vibesweb.errors import DomainError, DomainErrors

from .models import CallbackRegistration
from .services.registrations import UNSET, registration_create, registration_update
from .types import CALLBACK_TYPES


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _headers(text: str) -> dict:
    headers = {}
    for line in text.splitlines():
        if line.strip():
            name, sep, value = line.partition(":")
            if not sep:
                raise ValidationError(f"'{line[:60]}' is not 'Name: value'")
            headers[name.strip()] = value.strip()
    return headers


class RegistrationForm(forms.ModelForm):
    """Registers or edits through callbacks.services; credentials are write-only."""

    callback_type = forms.ChoiceField(choices=[(t, t) for t in CALLBACK_TYPES])
    retry_intervals_text = forms.CharField(
        label="Retry intervals (seconds)",
        required=False,
        help_text="Comma separated, e.g. 5, 300, 1800. Empty: the default scheme.",
    )
    notification_emails_text = forms.CharField(
        label="Failure notification emails", required=False, help_text="Comma separated."
    )
    basic_auth_username = forms.CharField(required=False)
    basic_auth_password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Leave empty to keep the stored one."
    )
    clear_basic_auth = forms.BooleanField(required=False, label="Remove Basic auth")
    headers_text = forms.CharField(
        label="Extra headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One 'Name: value' per line; replaces the stored ones. Empty keeps them.",
    )
    api_version = forms.TypedChoiceField(
        choices=[(1, "1 (10-digit US MDNs)"), (2, "2 (E.164)")], coerce=int, initial=1
    )

    class Meta:
        model = CallbackRegistration
        fields = [
            "company",
            "callback_type",
            "url",
            "method",
            "content_type",
            "start_date",
            "end_date",
            "scope",
            "api_version",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.signing_secret = None
        if instance.pk:
            self.fields["company"].disabled = True
            self.fields["api_version"].disabled = True
            self.initial["retry_intervals_text"] = ", ".join(map(str, instance.retry_intervals))
            self.initial["notification_emails_text"] = ", ".join(instance.notification_emails)

    def _get_validation_exclusions(self):
        # One open registration per type is the services' rule (CallbackAlreadyRegistered,
        # in words); the model's constraint check would repeat it as database text.
        return {*super()._get_validation_exclusions(), "company", "callback_type"}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self._save_through_services(cleaned)
        except DomainError as exc:
            errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
            raise ValidationError([error.message for error in errors]) from None
        return cleaned

    def _save_through_services(self, cleaned: dict) -> None:
        try:
            intervals = [int(s) for s in _split(cleaned["retry_intervals_text"])]
        except ValueError:
            raise DomainError("Retry intervals are whole seconds") from None
        try:
            headers = _headers(cleaned["headers_text"]) if cleaned["headers_text"] else UNSET
        except ValidationError as exc:
            raise DomainError(exc.messages[0]) from None
        fields = dict(
            callback_type=cleaned["callback_type"],
            url=cleaned["url"],
            method=cleaned["method"],
            content_type=cleaned["content_type"],
            start_date=cleaned["start_date"],
            end_date=cleaned["end_date"],
            scope=cleaned["scope"] or {},
            retry_intervals=intervals,
            notification_emails=_split(cleaned["notification_emails_text"]),
        )
        basic_auth = self._basic_auth(cleaned)
        if self.instance.pk:
            self.instance = registration_update(
                registration=self.instance, basic_auth=basic_auth, headers=headers, **fields
            )
            return
        self.instance, self.signing_secret = registration_create(
            company=cleaned["company"],
            api_version=cleaned["api_version"],
            basic_auth=None if basic_auth is UNSET else basic_auth,
            headers=None if headers is UNSET else headers,
            **fields,
        )

    def _basic_auth(self, cleaned: dict):
        if cleaned["clear_basic_auth"]:
            return None
        if cleaned["basic_auth_username"] and cleaned["basic_auth_password"]:
            return {
                "username": cleaned["basic_auth_username"],
                "password": cleaned["basic_auth_password"],
            }
        if cleaned["basic_auth_username"] or cleaned["basic_auth_password"]:
            raise DomainError("Basic auth needs both a username and a password")
        return UNSET
