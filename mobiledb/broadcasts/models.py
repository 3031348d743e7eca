"""Broadcasts (scheduled messages to list subscribers) and the outbound messages log."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from vibesweb.tenancy.models import Company


class Broadcast(models.Model):
    """A message template scheduled to the active subscribers of its source lists.

    The scheduler claims a due broadcast (scheduled -> in_progress), then sends it in
    batches of persons ordered by id: `cursor_person_id` is the last person sent, so a
    batch is claimed by advancing it with a conditional UPDATE and a batch is never sent
    twice. Canceling sets `canceled`; the next batch sees it and stops.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        IN_PROGRESS = "in_progress"
        SENT = "sent"
        CANCELED = "canceled"
        FAILED = "failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="broadcasts")
    name = models.CharField(max_length=255)
    send_scheduled_date = models.DateTimeField()
    message_template = models.TextField(
        help_text="The SMS text; {{field}} is replaced by the person's custom field value."
    )
    source_lists = models.ManyToManyField(
        "mobiledb.SubscriptionList", related_name="broadcasts", blank=True
    )
    # Segments reach only persons with an active subscription to one of the company's
    # lists (consent, SPEC section 13): a segment narrows who is written to, never widens it.
    segments = models.ManyToManyField("mobiledb.Segment", related_name="broadcasts", blank=True)
    filters = models.JSONField(
        default=dict, blank=True, help_text='Custom field filters, e.g. {"tier": "gold"}.'
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    audience_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Eligible subscribers when sending started."
    )
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    cursor_person_id = models.BigIntegerField(default=0, editable=False)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-send_scheduled_date", "-id"]
        indexes = [
            # the scheduler's sweep reads only scheduled rows
            models.Index(
                fields=["send_scheduled_date"],
                condition=Q(status="scheduled"),
                name="broadcast_due",
            ),
            models.Index(fields=["company", "status"], name="broadcast_company_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return f"/companies/{self.company.key}/mobiledb/broadcasts/{self.pk}"


class OutboundMessage(models.Model):
    """One SMS handed to the message backend: exactly what a phone would have received."""

    class Kind(models.TextChoices):
        CONFIRMATION_REQUEST = "confirmation_request"
        WELCOME = "welcome"
        BROADCAST = "broadcast"
        WALLET = "wallet"
        HELP = "help"
        STOP_CONFIRMATION = "stop_confirmation"
        OTHER = "other"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="outbound_messages")
    # indexed by the composite indexes below (no single-column duplicates: every index
    # costs each of a broadcast's inserts)
    person = models.ForeignKey(
        "mobiledb.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_messages",
        db_index=False,
    )
    mdn = models.CharField("MDN", max_length=20)
    short_code = models.CharField(max_length=20, blank=True)
    body = models.TextField()
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.OTHER)
    broadcast = models.ForeignKey(
        Broadcast,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    backend = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["person", "id"], name="outboundmessage_person"),
            models.Index(fields=["broadcast", "person"], name="outboundmessage_broadcast"),
        ]

    def __str__(self) -> str:
        return f"to {self.mdn}: {self.body[:40]}"
