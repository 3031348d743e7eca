"""The mobile database: persons, their custom fields and tags, and subscription lists."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="customfield_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

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
        indexes = [models.Index(fields=["company", "updated_at"], name="person_company_updated")]

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


class SubscriptionList(models.Model):
    """A collection of subscribers who opted in to the same kind of content."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="subscription_lists"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return f"/companies/{self.company.key}/mobiledb/subscription_lists/{self.pk}"


class Subscription(models.Model):
    """A person's membership of a list; a re-subscription is a new row (history is kept)."""

    class OptOutReason(models.TextChoices):
        USER_OPT_OUT = "user_opt_out"
        DISCONNECT = "disconnect"
        LIST_ARCHIVED = "list_archived"
        BULK_OPT_OUT = "bulk_opt_out"
        FAILED_AT_CARRIER = "failed_at_carrier"
        OBSOLETE_CARRIER = "obsolete_carrier"
        PLATFORM_OPT_OUT = "platform_opt_out"
        KEYWORD_OPT_OUT = "keyword_opt_out"
        API_OPT_OUT = "api_opt_out"
        BUTTON_OPT_OUT = "button_opt_out"
        ADMIN_OPT_OUT = "admin_opt_out"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="subscriptions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_list = models.ForeignKey(
        SubscriptionList, on_delete=models.CASCADE, related_name="subscriptions"
    )
    opt_in_date = models.DateTimeField()
    opt_out_date = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(
        max_length=32, choices=OptOutReason.choices, null=True, blank=True
    )
    # The acquisition campaign that brought it (campaigns app), if any.
    acquisition_campaign = models.ForeignKey(
        "campaigns.AcquisitionCampaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opt_in_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "subscription_list"],
                condition=Q(opt_out_date__isnull=True),
                name="subscription_one_active_per_list",
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription_list", "person"],
                condition=Q(opt_out_date__isnull=True),
                name="subscription_active_by_list",
            ),
            models.Index(fields=["company", "opt_in_date"], name="subscription_company_optin"),
        ]

    def __str__(self) -> str:
        return f"{self.person} on {self.subscription_list}"

    @property
    def is_active(self) -> bool:
        return self.opt_out_date is None

    @property
    def url(self) -> str:
        return f"{self.person.url}/subscriptions/{self.subscription_list_id}"


# The .persons import's models live in mobiledb/imports; imported here to register them.
from .imports.models import PersonImport, PersonImportError  # noqa: E402,F401

# Broadcasts and outbound messages (issue 5) live in their own module.
from .models_messaging import Broadcast, OutboundMessage  # noqa: E402, F401
