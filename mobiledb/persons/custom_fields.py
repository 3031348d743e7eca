"""Defining custom fields and their options."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from vibesweb.tenancy.models import Company

from .models import CustomField, CustomFieldOption


@transaction.atomic
def custom_field_create(
    *,
    company: Company,
    name: str,
    data_type: str,
    character_set: str = CustomField.CharacterSet.UNICODE,
    max_length: int | None = None,
    options: list[tuple[str, str]] | None = None,
    label: str = "",
    list_column: bool = False,
) -> CustomField:
    """Create a custom field; select types need options (key, label). Raises ValidationError."""
    field = CustomField(
        company=company,
        name=name,
        data_type=data_type,
        character_set=character_set,
        max_length=max_length,
        label=label,
        list_column=list_column,
    )
    field.full_clean()
    if field.is_select and not options:
        raise ValidationError(f"A {data_type} field needs at least one option")
    if options and not field.is_select:
        raise ValidationError("Only select fields take options")
    field.save()
    for position, (key, label) in enumerate(options or []):
        option = CustomFieldOption(field=field, key=key, label=label, position=position)
        option.full_clean()
        option.save()
    return field
