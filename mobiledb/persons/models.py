"""Persons, their custom fields (and options) and tags."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from vibesweb.tenancy.models import Company


class CustomField(models.Model):
    """A per-company typed attribute of persons (SPEC section 4).

    Values live in `Person.custom_fields` keyed by `name`, so a field's name is fixed once
    created (the admin shows it read-only); `mobiledb.validation` checks every value.
    """

    class DataType(models.TextChoices):
        STRING = "string"
        INTEGER = "integer"
        DECIMAL = "decimal"
        BOOLEAN = "boolean"
        DATE = "date"
        SINGLE_SELECT = "single_select"
        MULTI_SELECT = "multi_select"

    class CharacterSet(models.TextChoices):
        UNICODE = "unicode"
        GSM7 = "gsm7"
        ASCII = "ascii"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="custom_fields")
    name = models.CharField(max_length=100)
    data_type = models.CharField(max_length=20, choices=DataType.choices)
    character_set = models.CharField(
        max_length=10, choices=CharacterSet.choices, default=CharacterSet.UNICODE
    )
    max_length = models.PositiveIntegerField(
        null=True, blank=True, help_text="Strings only; empty means no limit."
    )
    # What marketers read in forms and columns; the API keeps writing values by `name`.
    label = models.CharField(
        max_length=200, blank=True, help_text="Shown in forms and columns; empty shows the name."
    )
    list_column = models.BooleanField(
        "column in the persons list",
        default=False,
        help_text="Show this field as a column of the persons list (for everyone in the company).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="customfield_unique_name")
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label or self.name

    @property
    def is_select(self) -> bool:
        return self.data_type in (self.DataType.SINGLE_SELECT, self.DataType.MULTI_SELECT)


class CustomFieldOption(models.Model):
    """An option of a select field: written by its case-sensitive `key`, shown by `label`."""

    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="options")
    key = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field", "key"], name="customfieldoption_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.label})"


class Person(models.Model):
    """Anyone the brand interacts with; `id` is the platform's `person_id`."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="persons", db_index=False
    )
    person_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_person_id = models.CharField(max_length=128, null=True, blank=True)
    mdn = models.CharField("MDN", max_length=20, null=True, blank=True, help_text="E.164")
    carrier_code = models.CharField(max_length=20, null=True, blank=True)
    timezone = models.CharField(max_length=64, null=True, blank=True)
    timezone_source = models.CharField(max_length=32, null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "mdn"], condition=Q(mdn__isnull=False), name="person_unique_mdn"
            ),
            models.UniqueConstraint(
                fields=["company", "external_person_id"],
                condition=Q(external_person_id__isnull=False),
                name="person_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "updated_at"], name="person_company_updated"),
            # the admin search matches external ids whatever their case. Not led by company:
            # SQLite would pick such an index for the list's `company_id IN (...)` and sort
            # every row of the company instead of walking the primary key backwards.
            models.Index(Upper("external_person_id"), name="person_external_upper"),
        ]

    def __str__(self) -> str:
        return self.mdn or self.external_person_id or str(self.person_key)

    @property
    def url(self) -> str:
        return f"/companies/{self.company.key}/mobiledb/persons/{self.pk}"


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag"]
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="persontag_unique")]

    def __str__(self) -> str:
        return self.tag
