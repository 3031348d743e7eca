"""Campaign Manager: acquisition campaigns, their participants, and inbound SMS events."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mobiledb.models import Person, SubscriptionList
from vibesweb.tenancy.models import Company


class AcquisitionCampaign(models.Model):
    """Opts persons in to subscription lists by keyword, web form or API (SPEC section 5).

    Single opt-in subscribes at once; double opt-in leaves a PENDING participation until
    the phone answers YES. Only an active campaign inside its start/end window accepts
    participants (`is_active_at`).
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        ACTIVE = "active"
        PAST = "past"
        DELETED = "deleted"

    class OptIn(models.TextChoices):
        SINGLE = "single", "Single opt-in"
        DOUBLE = "double", "Double opt-in (reply YES to confirm)"

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="acquisition_campaigns"
    )
    name = models.CharField(max_length=255)
    keyword = models.CharField(
        max_length=25,
        blank=True,
        help_text="The word a phone texts to join (case-insensitive); empty for API only.",
    )
    short_code = models.CharField(
        max_length=20, blank=True, help_text="The short or long code the campaign is on."
    )
    subscription_lists = models.ManyToManyField(
        SubscriptionList, related_name="acquisition_campaigns"
    )
    opt_in = models.CharField(max_length=10, choices=OptIn.choices, default=OptIn.SINGLE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    confirmation_message = models.CharField(
        max_length=480,
        default="Reply YES to confirm your subscription to {campaign}. Msg&data rates may "
        "apply. Reply STOP to cancel.",
        help_text="Double opt-in: sent to ask for confirmation. {campaign} is replaced.",
    )
    # The public web sign-up page (SPEC section 13): off until enabled, at an unguessable
    # address so one company's campaigns cannot be enumerated.
    web_signup = models.BooleanField(
        "web sign-up page", default=False, help_text="Offer a public sign-up page."
    )
    web_token = models.CharField(max_length=24, null=True, blank=True, unique=True, editable=False)
    disclosure = models.TextField(
        blank=True,
        help_text="Shown above the sign-up button and kept as the text the person saw "
        "(program, message frequency, 'Msg & data rates may apply', 'Reply STOP to cancel').",
    )
    signup_fields = models.ManyToManyField(
        "mobiledb.CustomField",
        blank=True,
        related_name="signup_campaigns",
        help_text="Custom fields the sign-up page asks for.",
    )
    welcome_message = models.CharField(
        max_length=480,
        blank=True,
        default="You are subscribed to {campaign}. Reply STOP to cancel.",
        help_text="Sent once subscribed; empty sends nothing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "status"], name="acqcampaign_company_status")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.web_signup and not self.web_token:
            self.web_token = secrets.token_urlsafe(12)
        super().save(*args, **kwargs)

    @property
    def url(self) -> str:
        return f"/companies/{self.company.key}/campaigns/acquisition/{self.pk}"

    @property
    def signup_path(self) -> str | None:
        return f"/join/{self.web_token}" if self.web_signup and self.web_token else None

    @property
    def is_double_opt_in(self) -> bool:
        return self.opt_in == self.OptIn.DOUBLE

    def is_active_at(self, moment=None) -> bool:
        moment = moment or timezone.now()
        if self.status != self.Status.ACTIVE:
            return False
        if self.start_date and moment < self.start_date:
            return False
        return not (self.end_date and moment >= self.end_date)


class Participation(models.Model):
    """A person's participation in an acquisition campaign (the platform's Participant)."""

    class Status(models.TextChoices):
        PENDING = "PENDING"  # double opt-in: waiting for YES
        SUBSCRIBED = "SUBSCRIBED"  # single opt-in: subscribed at once
        CONFIRMED = "CONFIRMED"  # double opt-in confirmed
        REJECTED = "REJECTED"  # answered NO or STOP while pending
        EXPIRED = "EXPIRED"  # no answer before expire_date

    class Source(models.TextChoices):
        API = "api"
        KEYWORD = "keyword"
        ADMIN = "admin"
        WEB = "web"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="participations")
    campaign = models.ForeignKey(
        AcquisitionCampaign, on_delete=models.CASCADE, related_name="participations"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="participations")
    status = models.CharField(max_length=12, choices=Status.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    participation_date = models.DateTimeField(default=timezone.now)
    expire_date = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-participation_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "person"],
                condition=Q(status="PENDING"),
                name="participation_one_pending",
            )
        ]
        indexes = [
            # the expiry sweep and "pending participants" read only pending rows
            models.Index(
                fields=["expire_date"],
                condition=Q(status="PENDING"),
                name="participation_pending_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.campaign} ({self.status})"


class InboundEvent(models.Model):
    """An SMS a phone sent to a short code (POST /companies/:key/events), kept as received.

    `event_id` is unique per company: a redelivered event is acknowledged, never applied
    twice. `outcome` says what it did.
    """

    class Outcome(models.TextChoices):
        OPTED_OUT = "opted_out"
        UNKNOWN_MDN = "unknown_mdn"
        CONFIRMED = "confirmed"
        DECLINED = "declined"
        JOINED = "joined"
        ALREADY_SUBSCRIBED = "already_subscribed"
        ALREADY_PENDING = "already_pending"
        CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
        NOTHING_PENDING = "nothing_pending"
        UNMATCHED = "unmatched"
        HELP_SENT = "help_sent"
        HELP_THROTTLED = "help_throttled"
        RESUBSCRIBED = "resubscribed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="inbound_events")
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=32, default="inbound_message")
    mdn = models.CharField("MDN", max_length=20)
    short_code = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    event_date = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    detail = models.CharField(max_length=255, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_events"
    )
    campaign = models.ForeignKey(
        AcquisitionCampaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_events",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "event_id"], name="inboundevent_unique_id")
        ]
        indexes = [models.Index(fields=["company", "mdn"], name="inboundevent_company_mdn")]

    def __str__(self) -> str:
        return f"{self.mdn}: {self.message[:40]}"


class MessagingProgram(models.Model):
    """What a short code answers to HELP and STOP (CTIA): per company, and per short code
    where one is given (an empty short code is the company's default program)."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="messaging_programs"
    )
    short_code = models.CharField(
        max_length=20, blank=True, help_text="Empty: every short code without its own program."
    )
    program_name = models.CharField(max_length=100)
    contact = models.CharField(
        max_length=200, help_text="Where people get help: a phone number, email or URL."
    )
    help_text = models.TextField(
        blank=True,
        help_text="Answer to HELP/INFO. Empty: the program name, contact, 'Reply STOP to "
        "cancel' and the rates note.",
    )
    stop_text = models.TextField(
        blank=True,
        help_text="The one confirmation sent after STOP. Empty: a standard confirmation.",
    )
    start_text = models.TextField(
        blank=True, help_text="Answer to START/UNSTOP. Empty: a standard confirmation."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company", "short_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "short_code"], name="messagingprogram_unique_short_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.program_name} ({self.short_code or 'every short code'})"


# Incentives live in their own package; re-exported so the app label stays `campaigns`.
from .incentives.models import (  # noqa: E402
    IncentiveCode,
    IncentiveCodeUpload,
    IncentiveIssuance,
    IncentivePool,
    IncentiveRedemption,
)

__all__ = [
    "AcquisitionCampaign",
    "InboundEvent",
    "MessagingProgram",
    "IncentiveCode",
    "IncentiveCodeUpload",
    "IncentiveIssuance",
    "IncentivePool",
    "IncentiveRedemption",
    "Participation",
]
