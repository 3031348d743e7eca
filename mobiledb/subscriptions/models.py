"""Subscription lists and subscriptions: a person's consent history, one row per opt-in."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from vibesweb.indexes import UndeduplicatedIndex
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

    # No index of its own: `subscription_company_optin` (company, opt_in_date) leads with it,
    # and an opt-out (an update no index predicate lets be HOT) writes every index.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="subscriptions")
    # Its index is `subscription_by_list` (one of few keys: see UndeduplicatedIndex).
    subscription_list = models.ForeignKey(
        SubscriptionList, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    opt_in_date = models.DateTimeField()
    opt_out_date = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(
        max_length=32, choices=OptOutReason.choices, null=True, blank=True
    )
    # The acquisition campaign that brought it (campaigns app), if any. Indexed only where
    # set (`subscription_by_campaign`): the one query by it is a campaign's deletion
    # (SET_NULL, `= id`), and an opt-out, a non-HOT update, wrote a NULL entry each time.
    acquisition_campaign = models.ForeignKey(
        "campaigns.AcquisitionCampaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
        db_index=False,
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
            UndeduplicatedIndex(fields=["subscription_list"], name="subscription_by_list"),
            UndeduplicatedIndex(
                fields=["company", "opt_in_date"], name="subscription_company_optin"
            ),
            models.Index(
                fields=["acquisition_campaign"],
                condition=Q(acquisition_campaign__isnull=False),
                name="subscription_by_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} on {self.subscription_list}"

    @property
    def is_active(self) -> bool:
        return self.opt_out_date is None

    @property
    def url(self) -> str:
        return f"{self.person.url}/subscriptions/{self.subscription_list_id}"


class ConsentRecordQuerySet(models.QuerySet):
    """The ledger is append-only: bulk updates and deletes are refused (SPEC section 13)."""

    def update(self, **kwargs):
        raise ConsentLedgerImmutable("consent records are never updated")

    def delete(self):
        raise ConsentLedgerImmutable("consent records are never deleted")


class ConsentLedgerImmutable(Exception):
    pass


class ConsentRecord(models.Model):
    """One opt-in or opt-out, as it happened, hash-chained to the company's previous record.

    Written only by `mobiledb.subscriptions.consent`. The application never changes or
    deletes a record (this model refuses; on PostgreSQL a trigger refuses too), and the
    chain makes a change made behind its back detectable (`verify_consent_ledger`).
    Persons, lists and campaigns are kept as plain ids: the proof outlives them.
    """

    class Action(models.TextChoices):
        OPT_IN = "opt_in"
        OPT_OUT = "opt_out"

    class Channel(models.TextChoices):
        KEYWORD = "keyword"
        WEB = "web"
        API = "api"
        IMPORT = "import"
        ADMIN = "admin"
        BULK = "bulk"
        CARRIER = "carrier"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="consent_records")
    sequence = models.PositiveBigIntegerField()
    mdn = models.CharField("MDN", max_length=20, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    subscription_list_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    source = models.TextField(blank=True)
    text = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["company", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["company", "sequence"], name="consent_chain_sequence")
        ]
        indexes = [
            models.Index(fields=["company", "mdn", "sequence"], name="consent_by_mdn"),
            models.Index(fields=["company", "person_id", "sequence"], name="consent_by_person"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.mdn or self.person_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ConsentLedgerImmutable("consent records are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ConsentLedgerImmutable("consent records are never deleted")


class ConsentChain(models.Model):
    """The head of a company's consent chain: appends lock this row, so records of one
    company get consecutive sequence numbers and each names its predecessor's hash."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, primary_key=True, related_name="consent_chain"
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"consent chain of company {self.company_id} at #{self.last_sequence}"


class SuppressedNumber(models.Model):
    """A number that texted STOP: nothing but the opt-out confirmation (and answers to its
    own HELP) is sent to it until it opts in again. `ended_list_ids` are the lists that
    STOP ended, which START/UNSTOP subscribe again."""

    # Keyed by (company, mdn), no surrogate id: an .opt_outs import silences a million
    # numbers, and an id column cost each its own index entry and sequence value, a third
    # of the silencing's server work (benchmarks/README.md). Migration 0012.
    pk = models.CompositePrimaryKey("company", "mdn")
    # No index of its own: the primary key leads with it (an import inserts millions).
    # No foreign key constraint either: its per-row check at COMMIT cost an .opt_outs import
    # a third of its extra server work. Triggers of migration 0011 enforce the same
    # reference with one query per statement; Django's collector still cascades.
    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="suppressed_numbers",
        db_index=False,
        db_constraint=False,
    )
    mdn = models.CharField("MDN", max_length=20)
    ended_list_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.mdn
