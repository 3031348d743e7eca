"""Bump Company.schema_version whenever a custom field or option changes, from any path."""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from vibesweb.tenancy.models import Company

from .models import CustomField, CustomFieldOption


def _bump(company_id: int) -> None:
    Company.objects.filter(pk=company_id).update(schema_version=F("schema_version") + 1)


@receiver([post_save, post_delete], sender=CustomField)
def custom_field_changed(sender, instance: CustomField, **kwargs) -> None:
    _bump(instance.company_id)


@receiver([post_save, post_delete], sender=CustomFieldOption)
def custom_field_option_changed(sender, instance: CustomFieldOption, **kwargs) -> None:
    company_id = (
        CustomField.objects.filter(pk=instance.field_id)
        .values_list("company_id", flat=True)
        .first()
    )
    if company_id is not None:
        _bump(company_id)
