"""The admin's person form: custom fields as typed form fields, checked by the one
validation path (mobiledb.validation) and saved through the person services."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from vibesweb.dates import parse_platform_datetime
from vibesweb.errors import DomainError, DomainErrors

from ..errors import (
    MdnChangeNotAllowed,
    MobilePhoneAlreadyAssigned,
    PersonCreateRequiresIdentifier,
)
from ..validation import (
    CustomFieldSchema,
    FieldSpec,
    clean_custom_field_value,
    normalize_mdn_for_search,
)
from .models import Person

CUSTOM_PREFIX = "cf__"


def form_field_for(spec: FieldSpec) -> forms.Field:
    """A typed form field for a custom field (never raw JSON)."""
    common = {"required": False, "label": spec.display_label}
    if spec.data_type == "string":
        return forms.CharField(max_length=spec.max_length, **common)
    if spec.data_type == "integer":
        return forms.IntegerField(**common)
    if spec.data_type == "decimal":
        return forms.DecimalField(**common)
    if spec.data_type == "boolean":
        return forms.NullBooleanField(**common)
    if spec.data_type == "date":
        # The browser's date picker; the stored value is a platform datetime (its day is
        # what a marketer sees and edits: PersonAdminForm keeps the time of an unchanged day).
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    choices = [(o.key, f"{o.label} ({o.key})") for o in spec.options.values()]
    if spec.data_type == "single_select":
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)


def _day_of(value: Any) -> date | None:
    """The day of a stored platform datetime (None when there is none to show)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_platform_datetime(value).date()
    except ValueError:
        return None


def as_text(value: Any) -> Any:
    """Form-cleaned Python values in the text form the shared validation parses."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return value
    return str(value)


class PersonAdminForm(forms.ModelForm):
    mdn = forms.CharField(
        label="MDN", required=False, help_text="E.164 (+447700900123) or 10-digit US"
    )

    class Meta:
        model = Person
        fields = ["company", "external_person_id", "mdn", "carrier_code", "timezone"]

    schema = CustomFieldSchema([])

    @classmethod
    def for_schema(cls, schema: CustomFieldSchema) -> type[PersonAdminForm]:
        """This form with one typed field per custom field of `schema`."""
        declared = {CUSTOM_PREFIX + s.name: form_field_for(s) for s in schema.by_name.values()}
        return type("PersonForm", (cls,), {"schema": schema, **declared})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.custom_fields if self.instance.pk else {}
        for spec in self.schema.by_name.values():
            value = stored.get(spec.name)
            if spec.data_type == "date":
                value = _day_of(value)
            self.initial.setdefault(CUSTOM_PREFIX + spec.name, value)
        if self.instance.pk and self.instance.mdn:
            self.fields["mdn"].disabled = True
            self.fields["mdn"].help_text = "A person's MDN cannot change (seeds/000: 409)."

    def clean_mdn(self) -> str | None:
        raw = (self.cleaned_data.get("mdn") or "").strip()
        if not raw:
            return self.instance.mdn if self.instance.pk else None
        mdn = normalize_mdn_for_search(raw)
        if mdn is None:
            raise forms.ValidationError("Not a valid phone number: use E.164 or 10-digit US.")
        return mdn

    def clean_external_person_id(self) -> str | None:
        return self.cleaned_data.get("external_person_id") or None

    def clean(self):
        cleaned = super().clean()
        self.custom_field_values = self._clean_custom_fields(cleaned)
        company = cleaned.get("company") or getattr(self.instance, "company", None)
        mdn = cleaned.get("mdn")
        if company and mdn and mdn != self.instance.mdn:
            if self.instance.pk and self.instance.mdn:
                self.add_error("mdn", MdnChangeNotAllowed().message)
            elif Person.objects.filter(company=company, mdn=mdn).exists():
                self.add_error("mdn", MobilePhoneAlreadyAssigned().message)
        external_id = cleaned.get("external_person_id")
        if company and external_id and external_id != self.instance.external_person_id:
            taken = Person.objects.filter(company=company, external_person_id=external_id)
            if taken.exclude(pk=self.instance.pk).exists():
                self.add_error("external_person_id", "Already assigned to another person.")
        if not self.instance.pk and not mdn and not external_id:
            self.add_error(None, PersonCreateRequiresIdentifier().message)
        return cleaned

    def _clean_custom_fields(self, cleaned: dict) -> dict:
        values: dict[str, Any] = {}
        for spec in self.schema.by_name.values():
            name = CUSTOM_PREFIX + spec.name
            if name not in cleaned:
                continue
            stored = self.instance.custom_fields.get(spec.name) if self.instance.pk else None
            if spec.data_type == "date" and cleaned[name] and cleaned[name] == _day_of(stored):
                values[spec.name] = stored  # the same day: keep its stored time, no change
                continue
            try:
                values[spec.name] = clean_custom_field_value(
                    spec, as_text(cleaned[name]), from_text=True
                )
            except DomainErrors as errors:
                for error in errors.errors:
                    self.add_error(name, error.message)
            except DomainError as error:
                self.add_error(name, error.message)
        return values
