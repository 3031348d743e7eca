"""Segments (saved filters of the persons list) and bulk actions over persons."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db import models

from vibesweb.tenancy.models import Company


class Segment(models.Model):
    """A named set of persons list filters, re-evaluated whenever it is read (a live set).

    `filters` holds the persons list's query parameters (`q`, `list`, `status`, `tag`,
    `cf.<field>`, date ranges), read by `mobiledb.segments.selectors.persons_filtered`,
    the same function the admin's list uses, so a segment holds exactly what the list showed.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="segment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def query_string(self) -> str:
        """The persons list's query string showing this segment."""
        return urlencode({"company": self.company_id, **(self.filters or {})})


class PersonBulkAction(models.Model):
    """Subscribe, opt out, tag or untag many persons: run by a Celery task in pk order,
    with its progress on this row (the admin polls it)."""

    class Kind(models.TextChoices):
        SUBSCRIBE = "subscribe", "Subscribe to a list"
        OPT_OUT = "opt_out", "Opt out of a list"
        TAG = "tag", "Add a tag"
        UNTAG = "untag", "Remove a tag"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="bulk_actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    subscription_list = models.ForeignKey(
        "mobiledb.SubscriptionList", null=True, blank=True, on_delete=models.CASCADE
    )
    tag = models.CharField(max_length=100, blank=True)
    # Either the persons list's filters (the whole filtered result) or chosen person ids.
    filters = models.JSONField(default=dict, blank=True)
    person_ids = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    cursor_person_id = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        target = self.subscription_list or self.tag
        return f"{self.get_kind_display()}: {target}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)


class PersonSearchEntry(models.Model):
    """What the persons list's search looks up instead of scanning every person: a person's
    custom field values (as the JSON text a scan would read) and MDN digits reversed (a
    partial MDN "0003" is then a prefix, a range of a B-tree).

    Filled by the search indexer (`mobiledb.segments.search`), never by the writes of
    persons: the import's budget (SPEC section 9) pays nothing for it. An entry is trusted
    only for persons not changed since `PersonSearchState.indexed_through`; the search
    scans those changed after it. A trigram index covers `fields_text`: FTS5 on SQLite,
    pg_trgm's GIN on PostgreSQL (migration 0008).
    """

    person = models.OneToOneField(
        "mobiledb.Person",
        primary_key=True,
        on_delete=models.CASCADE,
        db_constraint=False,  # the indexer may meet a person being deleted
        related_name="+",
    )
    company_id = models.BigIntegerField()
    fields_text = models.TextField(blank=True, default="")
    mdn_reversed = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["mdn_reversed"], name="personsearch_mdn_reversed")]

    def __str__(self) -> str:
        return f"search entry of person {self.person_id}"


class PersonSearchState(models.Model):
    """The search indexer's high-water mark (one row): every person whose `updated_at` is
    at or before `indexed_through` has an up-to-date PersonSearchEntry."""

    indexed_through = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"persons indexed through {self.indexed_through:%Y-%m-%d %H:%M:%S}"
