"""Callback registrations, their events (the outbox) and delivery bookkeeping (SPEC section 6).

An event row is written in the same transaction as the change that caused it; one
delivery row per matching registration carries the delivery state machine
(pending -> in_flight -> delivered | pending (retry) | failed); every HTTP attempt is
logged as a DeliveryAttempt.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from vibesweb.tenancy.models import Company

from .crypto import decrypt_json

# seeds/003: about 8 attempts over roughly a day.
DEFAULT_RETRY_INTERVALS = [5, 300, 1800, 7200, 18000, 36000, 36000]


class CallbackRegistration(models.Model):
    """A company's subscription to one callback type, delivered to one destination."""

    class Method(models.TextChoices):
        POST = "POST", "POST"
        PUT = "PUT", "PUT"

    class ContentType(models.TextChoices):
        JSON = "application/json", "application/json"
        TEXT_JSON = "text/json", "text/json"

    callback_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="callback_registrations"
    )
    callback_type = models.CharField(max_length=40)
    url = models.CharField("destination URL", max_length=1024)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    content_type = models.CharField(
        max_length=20, choices=ContentType.choices, default=ContentType.JSON
    )
    start_date = models.DateTimeField(default=timezone.now)
    end_date = models.DateTimeField(null=True, blank=True)
    scope = models.JSONField(default=dict, blank=True, help_text='e.g. {"list_id": "12"}')
    retry_intervals = models.JSONField(
        default=list, blank=True, help_text="Seconds between attempts; empty means the default."
    )
    # Basic auth, extra headers and the signing secret, Fernet-encrypted (never echoed).
    secrets_encrypted = models.TextField(editable=False)
    notification_emails = models.JSONField(default=list, blank=True)
    api_version = models.PositiveSmallIntegerField(default=1)
    # Health: a destination that keeps failing is "down" until `down_until`.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    down_until = models.DateTimeField(null=True, blank=True, editable=False)
    down_level = models.PositiveSmallIntegerField(default=0, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_email_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One open registration per type per company (seeds/003); ended ones are kept.
            models.UniqueConstraint(
                fields=["company", "callback_type"],
                condition=Q(end_date__isnull=True),
                name="callbackregistration_one_open_per_type",
            )
        ]
        indexes = [models.Index(fields=["company", "callback_type"], name="callbackreg_lookup")]

    def __str__(self) -> str:
        return f"{self.callback_type} -> {self.url}"

    @property
    def secrets(self) -> dict:
        return decrypt_json(self.secrets_encrypted)

    @property
    def intervals(self) -> list[int]:
        return list(self.retry_intervals or DEFAULT_RETRY_INTERVALS)

    def is_ended(self, now=None) -> bool:
        return self.end_date is not None and self.end_date <= (now or timezone.now())

    def is_down(self, now=None) -> bool:
        return self.down_until is not None and self.down_until > (now or timezone.now())


class CallbackEvent(models.Model):
    """The outbox row: one change worth a callback; its id is the event id on the wire."""

    id = models.UUIDField("event id", primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="callback_events")
    callback_type = models.CharField(max_length=40)
    # The person the event is about, if any. No database constraint: an event outlives
    # a deleted person (it may still have to be delivered), and imports insert fast.
    person = models.ForeignKey(
        "mobiledb.Person",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="callback_events",
    )
    # The callback-specific body per API version: {"1": {...}, "2": {...}}.
    bodies = models.JSONField(default=dict)
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.callback_type} {self.id}"


class PersonEventBatch(models.Model):
    """Many person events recorded at once (an import chunk), not yet events of their own.

    The outbox row of a bulk change: written in the change's transaction with the ids of
    the persons it created or changed and the registrations open then. The callbacks
    queue turns it into one CallbackEvent per person (its body the person as it is then)
    with its deliveries, and deletes it (services.batches): an import of millions of
    persons writes one small row per chunk instead of two rows and a body per person.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    callback_type = models.CharField(max_length=40)
    registration_ids = models.JSONField(default=list)
    person_ids = models.JSONField(default=list)
    event_date = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.callback_type} batch {self.pk}"


class CallbackDelivery(models.Model):
    """One event for one registration; claimed with a conditional UPDATE by the workers."""

    class State(models.TextChoices):
        PENDING = "pending"
        IN_FLIGHT = "in_flight"
        DELIVERED = "delivered"
        FAILED = "failed"

    event = models.ForeignKey(CallbackEvent, on_delete=models.CASCADE, related_name="deliveries")
    registration = models.ForeignKey(
        CallbackRegistration, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # How many times the sweep re-opened a claim its worker never recorded (a killed or
    # crashing worker); past CALLBACK_MAX_REOPENINGS the delivery fails instead.
    reopenings = models.PositiveSmallIntegerField(default=0, editable=False)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "callback deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="callbackdelivery_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(state="in_flight"),
                name="callbackdelivery_in_flight",
            ),
            models.Index(
                fields=["registration", "state"],
                condition=Q(state="failed"),
                name="callbackdelivery_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery of event {self.event_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what the destination answered, and how fast."""

    delivery = models.ForeignKey(
        CallbackDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    # Indexed by deliveryattempt_recent (registration, created_at).
    registration = models.ForeignKey(
        CallbackRegistration, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["registration", "created_at"], name="deliveryattempt_recent")
        ]

    def __str__(self) -> str:
        # "attempt 1 of 37" read as one of 37 attempts; 37 was the delivery's id.
        return f"attempt {self.number}" + (
            f" (HTTP {self.status_code})" if self.status_code else ""
        )
