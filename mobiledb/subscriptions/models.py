"""Subscription lists and subscriptions: a person's consent history, one row per opt-in."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from vibesweb.tenancy.models import Company

from ..persons.models import Person


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
