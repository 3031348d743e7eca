"""Incentive pools, their codes, issuances and redemptions (SPEC section 11).

A code's `issued_at` is its claim: an issuer takes a never-issued code with a
conditional UPDATE on the partial index of unissued codes (`incentivecode_unissued`), so
two issuers never hold the same code and none waits on another's row. One issuance per
issuee per pool (`issuee_key`), one redemption per issuance: the database refuses the
second of two simultaneous requests, whichever backend runs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mobiledb.models import Person
from vibesweb.tenancy.models import Company

MAX_CODE_CHARACTERS = 255


class IncentivePool(models.Model):
    class Distribution(models.TextChoices):
        UNIQUE = "unique", "Unique: one code per issuee"
        MULTI = "multi", "Multi: one shared code for everyone"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="incentive_pools")
    name = models.CharField(max_length=255)
    issuance_allowed = models.BooleanField(default=True)
    redemption_allowed = models.BooleanField(default=True)
    distribution = models.CharField(
        max_length=10, choices=Distribution.choices, default=Distribution.UNIQUE
    )
    low_threshold = models.PositiveIntegerField(
        default=0, help_text="When the codes left fall to this number, one email is sent."
    )
    max_characters = models.PositiveSmallIntegerField(
        default=MAX_CODE_CHARACTERS, help_text="Longer codes are refused when loaded."
    )
    notification_email_address = models.EmailField(blank=True)
    # Set when the low-codes email went out; cleared (re-armed) when codes are added above
    # the threshold, so each crossing sends exactly one email.
    low_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_unique(self) -> bool:
        return self.distribution == self.Distribution.UNIQUE

    def url_for(self, company_key: str) -> str:
        return f"/companies/{company_key}/incentives/pools/{self.pk}"


class IncentiveCode(models.Model):
    # No database foreign key to the company: the pool's own key already ties a code to
    # its company (codes are only written with their pool's company), and a second
    # per-row check made a million-code load a fifth slower. Django still cascades.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    pool = models.ForeignKey(
        IncentivePool, on_delete=models.CASCADE, related_name="codes", db_index=False
    )
    code = models.CharField(max_length=MAX_CODE_CHARACTERS)
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="incentivecode_unique_code")
        ]
        indexes = [
            # The issuers' queue: only never-issued codes, in load order.
            models.Index(
                fields=["pool", "id"],
                condition=Q(issued_at__isnull=True),
                name="incentivecode_unissued",
            ),
            # Issued codes only: a freshly loaded code is in none but the two above, so a
            # million-code load maintains three indexes, not four.
            models.Index(
                fields=["pool", "id"],
                condition=Q(issued_at__isnull=False),
                name="incentivecode_issued",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class IncentiveIssuance(models.Model):
    """A code handed to an issuee: an `issuee_id` (a person id links the person) or an
    `external_issuee_id` (the CRM's id)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, db_index=False)
    pool = models.ForeignKey(IncentivePool, on_delete=models.CASCADE, related_name="issuances")
    code = models.ForeignKey(IncentiveCode, on_delete=models.CASCADE, related_name="issuances")
    issuee_key = models.CharField(max_length=140, editable=False)
    issuee_id = models.CharField(max_length=128, blank=True)
    external_issuee_id = models.CharField(max_length=128, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    referring_application = models.CharField(max_length=128, blank=True)
    referring_application_ref_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "issuee_key"], name="incentiveissuance_one_per_issuee"
            )
        ]
        indexes = [
            models.Index(fields=["company", "issuee_id"], name="incentiveissuance_issuee"),
            models.Index(
                fields=["company", "external_issuee_id"], name="incentiveissuance_external"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} to {self.issuee_id or self.external_issuee_id}"


class IncentiveRedemption(models.Model):
    """An issued code used at a till: once per issuance, so once per code in a unique
    pool and once per issuee in a multi pool."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, db_index=False)
    issuance = models.OneToOneField(
        IncentiveIssuance, on_delete=models.CASCADE, related_name="redemption"
    )
    code = models.ForeignKey(IncentiveCode, on_delete=models.CASCADE, related_name="redemptions")
    referring_application = models.CharField(max_length=128, blank=True)
    referring_application_ref_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.code} redeemed"


class IncentiveCodeUpload(models.Model):
    """A code file uploaded in the admin and loaded by the `imports` queue."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    pool = models.ForeignKey(IncentivePool, on_delete=models.CASCADE, related_name="uploads")
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=1024, editable=False)
    file_size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    bytes_done = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)
    added = models.BigIntegerField(default=0)
    refused = models.BigIntegerField(default=0)
    report_path = models.CharField(max_length=1024, blank=True, editable=False)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "incentive code upload"

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
