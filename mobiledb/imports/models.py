"""A `.persons` import: its file, state, committed-chunk checkpoint and row errors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from vibesweb.tenancy.models import Company


class PersonImport(models.Model):
    """One run of a `.persons` file against a company's persons (SPEC section 7).

    The counters and `records_done` are the checkpoint: they are written in the same
    transaction as each chunk of rows, so after a crash they describe exactly what is in
    the database and the import resumes after the last committed chunk.
    """

    class Kind(models.TextChoices):
        PERSONS = "persons", ".persons"
        SUBSCRIPTIONS = "subscriptions", ".subscriptions"
        OPT_OUTS = "opt_outs", ".opt_outs"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"  # a file-level error: no row was applied
        CANCELED = "canceled"

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="person_imports", null=True, blank=True
    )
    # The key as given, kept even when no such company exists (InvalidSchemaNameError).
    company_key = models.CharField(max_length=64)
    file_path = models.CharField(max_length=1024, help_text="Absolute path of the file.")
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    # What the file holds, by its extension: persons, or subscriptions / opt-outs
    # (SPEC section 13), which run through the same engine.
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSONS)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # Checkpoint, committed with each chunk.
    records_done = models.BigIntegerField(default=0, help_text="Data rows read and applied.")
    rows = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    # A running worker holds the lease and renews it with every chunk.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_class = models.CharField(max_length=100, blank=True, help_text="File-level error.")
    error_message = models.TextField(blank=True)
    error_report_path = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status__in=["pending", "running"]),
                name="personimport_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.company_key}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


class PersonImportError(models.Model):
    """A row that was not applied: the error report's lines (seeds/004 error tables)."""

    person_import = models.ForeignKey(PersonImport, on_delete=models.CASCADE, related_name="errors")
    row = models.BigIntegerField(help_text="The file line the record starts on.")
    error_class = models.CharField(max_length=100)
    message = models.CharField(max_length=255)
    detail = models.TextField(blank=True)
    original = models.TextField(blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["person_import", "row"], name="personimporterror_row")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.error_class}"
