"""Wallet Manager (SPEC section 10): campaigns (pass designs), items (passes), the devices
they are installed on, the pushes that tell those devices to refresh, and messages."""

from __future__ import annotations

import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from mobiledb.models import Person
from vibesweb.tenancy.models import Company


def new_wallet_id() -> str:
    """A SmartLink token: short, random, URL-safe (11 characters, 64 bits)."""
    return secrets.token_urlsafe(8)


def new_authentication_token() -> str:
    # Apple: at least 16 characters; it authenticates the device's web service calls.
    return secrets.token_urlsafe(24)


class WalletCampaign(models.Model):
    """A pass design that issues items through its SmartLink."""

    class Type(models.TextChoices):
        OFFER = "offer"
        LOYALTY = "loyalty"
        EVENT_TICKET = "event_ticket", "Event ticket"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="wallet_campaigns")
    wallet_id = models.CharField(max_length=32, unique=True, default=new_wallet_id, editable=False)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=Type.choices)
    description = models.TextField(blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    redirect_link = models.URLField(max_length=1024, blank=True)
    # The pass design (wallet.design): colours, texts and the fields the pass shows,
    # whose values may hold {{token}} personalization tags.
    design = models.JSONField(default=dict, blank=True)
    # PNG bytes; Apple wants icon.png in every pass, a default one is drawn when empty.
    logo_image = models.BinaryField(blank=True, default=b"", editable=True)
    icon_image = models.BinaryField(blank=True, default=b"", editable=True)
    strip_image = models.BinaryField(blank=True, default=b"", editable=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["company", "-updated_at"], name="wallet_campaign_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.wallet_id})"

    @property
    def url(self) -> str:
        return f"/companies/{self.company.key}/campaigns/wallet/{self.wallet_id}"


class WalletItem(models.Model):
    """One pass of a campaign, addressed by its uuid (`wallet_item_id`, Apple's serial)."""

    class Provider(models.TextChoices):
        NONE = "", "not installed yet"
        PASSBOOK = "passbook", "Apple Wallet"
        GOOGLE_WALLET = "google_wallet", "Google Wallet"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="wallet_items")
    # Indexed by the (campaign, uuid) constraint: one index less to write per update.
    campaign = models.ForeignKey(
        WalletCampaign, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    uuid = models.CharField(max_length=64)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="wallet_items"
    )
    group_code = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=16, choices=Provider.choices, blank=True)
    active = models.BooleanField(default=False)
    tokens = models.JSONField(default=dict, blank=True)
    locations = models.JSONField(default=list, blank=True)
    notification = models.TextField(blank=True)
    google_messages = models.JSONField(default=list, blank=True)
    # Copies of tokens that messages filter on, so the filter is an indexed column.
    expiration_date = models.DateTimeField(null=True, blank=True)
    loyalty_balance = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    authentication_token = models.CharField(
        max_length=64, default=new_authentication_token, editable=False
    )
    # Bumped on every change that a phone should see: Apple's passesUpdatedSince tag.
    # Not indexed: the web service reaches items through a device's registrations, and
    # an index would make every message's update rewrite one more index per row.
    update_tag = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "uuid"], name="wallet_item_unique_uuid")
        ]
        indexes = [
            models.Index(fields=["uuid"], name="wallet_item_serial"),
            models.Index(fields=["campaign", "group_code"], name="wallet_item_group"),
        ]

    def __str__(self) -> str:
        return self.uuid

    @property
    def url(self) -> str:
        return f"{self.campaign.url}/items/{self.uuid}"


class DeviceRegistration(models.Model):
    """A pass installed on one device (Apple) or one Google account: its install and
    remove history. Open while `unregistered_at` is empty."""

    class Provider(models.TextChoices):
        APPLE = "apple"
        GOOGLE = "google"

    item = models.ForeignKey(WalletItem, on_delete=models.CASCADE, related_name="registrations")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    device_library_identifier = models.CharField(max_length=255)
    push_token = models.CharField(max_length=255, blank=True)
    instance_uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    registered_at = models.DateTimeField()
    unregistered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "device_library_identifier"],
                condition=Q(unregistered_at__isnull=True),
                name="wallet_registration_open_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["device_library_identifier"],
                condition=Q(unregistered_at__isnull=True),
                name="wallet_registration_device",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.device_library_identifier}"


class WalletPush(models.Model):
    """One "your pass changed" push to one device, as the push backend handled it."""

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"

    # A message writes one push per device: only the item's index is read (its admin
    # page); the others would be written 100,000 times a message for nothing.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(WalletItem, on_delete=models.CASCADE, related_name="pushes")
    registration = models.ForeignKey(
        DeviceRegistration, on_delete=models.CASCADE, related_name="pushes", db_index=False
    )
    push_token = models.CharField(max_length=255)
    backend = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "wallet pushes"

    def __str__(self) -> str:
        return f"push to {self.push_token[:12]}… ({self.status})"


class WalletMessage(models.Model):
    """A message to every item a campaign's filters select, sent in batches."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="wallet_messages")
    campaign = models.ForeignKey(WalletCampaign, on_delete=models.CASCADE, related_name="messages")
    wallet_message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    header = models.CharField(max_length=255, blank=True)
    template = models.TextField()
    link = models.URLField(max_length=1024, blank=True)
    message_type = models.CharField(max_length=64, blank=True)
    filters = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    recipient_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    # The last item id a batch handled: a batch resumes after it (claimable, idempotent).
    cursor = models.BigIntegerField(default=0)
    # Items created after the message are not its recipients.
    last_item_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.header or self.template[:40]} ({self.status})"

    @property
    def url(self) -> str:
        return f"{self.campaign.url}/messages/{self.wallet_message_id}"


class WalletTemplate(models.Model):
    """A campaign's platform pass template (reference OpenAPI: the iOS `passbook_template`
    and the Android `wallet_template`), one of each kind per campaign. When present it is
    the design that kind of pass is built from (wallet.pass_templates); without one the
    campaign's own `design` is."""

    class Kind(models.TextChoices):
        PASSBOOK = "passbook", "Apple Wallet (passbook_template)"
        GOOGLE_WALLET = "google_wallet", "Google Wallet (wallet_template)"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(WalletCampaign, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The template as the API takes it, checked by wallet.pass_templates (one path).
    body = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind"], name="wallet_template_one_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.campaign_id}"


class WalletLocation(models.Model):
    """A store of a campaign (reference OpenAPI `walletLocation`): where its passes are
    relevant. Coordinates are exact decimals (the platform writes them as strings)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(WalletCampaign, on_delete=models.CASCADE, related_name="locations")
    location_id = models.CharField("store id", max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=255, blank=True)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=255, blank=True)
    zip = models.CharField(max_length=32, blank=True)
    phone_number = models.CharField(max_length=64, blank=True)
    store_hours = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=10, decimal_places=6)
    # Apple's relevantText: the lock-screen message near this store.
    notification_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["campaign", "zip"], name="wallet_location_zip")]

    def __str__(self) -> str:
        return self.name or self.location_id or f"{self.latitude}, {self.longitude}"


class WalletLocationBatch(models.Model):
    """One `POST .../locations/bulk` by its Idempotency-Key: a retry with the same key
    answers the original result and inserts nothing."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        WalletCampaign, on_delete=models.CASCADE, related_name="location_batches"
    )
    idempotency_key = models.CharField(max_length=255)
    # SHA-256 of the request's locations: the same key with another body is refused.
    request_digest = models.CharField(max_length=64)
    response = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "idempotency_key"], name="wallet_location_batch_key"
            )
        ]

    def __str__(self) -> str:
        return self.idempotency_key


HEX_COLOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "a hex colour such as #ffffff")


def new_selector_token() -> str:
    return secrets.token_urlsafe(8)


class WalletLocationSelector(models.Model):
    """The branded "Add to Wallet" landing page of a campaign (reference OpenAPI
    `locationSelectorBody`): while it exists, the SmartLink first asks the customer to
    pick a store of the campaign, and the pass carries the store picked."""

    class Language(models.TextChoices):
        EN_US = "en-US"
        ES_ES = "es-ES"
        ES_419 = "es-419"
        FR_FR = "fr-FR"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign = models.OneToOneField(
        WalletCampaign, on_delete=models.CASCADE, related_name="location_selector"
    )
    token = models.CharField(max_length=32, unique=True, default=new_selector_token, editable=False)
    image_url = models.URLField(max_length=1024, blank=True)
    title = models.CharField(max_length=255, blank=True)
    tagline = models.CharField(max_length=255, blank=True)
    background_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOR])
    foreground_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOR])
    label_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOR])
    fontsize = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(6), MaxValueValidator(72)]
    )
    include_zipcode = models.BooleanField(default=False)
    add_to_wallet_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.EN_US
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title or self.token
