from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

company_key_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,64}$", "A company key is 1-64 letters, digits, '-' or '_'."
)


def schema_version_start() -> int:
    """A new company's first schema version, at random: cached schemas are keyed by
    (company id, version), and SQLite gives a deleted company's id to the next one, which
    counting from 0 again would have met the old company's schema in a process's cache."""
    return secrets.randbelow(2**30) + 1


class Company(models.Model):
    """A tenant: its `key` is the API's `:company_key`, and it owns one mobile database."""

    key = models.CharField(max_length=64, unique=True, validators=[company_key_validator])
    name = models.CharField(max_length=200)
    # Bumped whenever a custom field or option changes, so cached schemas never go stale
    # across processes (the company row is read on every request anyway).
    schema_version = models.PositiveIntegerField(default=schema_version_start, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def url(self) -> str:
        return f"/companies/{self.key}"


class Membership(models.Model):
    """A user's access to a company: API calls and the admin see only member companies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company.key}"
