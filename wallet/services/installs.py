"""Installs and removals of passes: device registrations (Apple's web service, Google's
callbacks), the item's `active` flag, and the `wallet_item_install` /
`wallet_item_remove` callbacks (SPEC 10), emitted through the callbacks outbox in the
same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from callbacks.services import callback_event_emit
from mobiledb.validation import format_platform_datetime

from ..models import DeviceRegistration, WalletItem
from .items import item_expiration

PROVIDER_OF = {
    DeviceRegistration.Provider.APPLE: WalletItem.Provider.PASSBOOK,
    DeviceRegistration.Provider.GOOGLE: WalletItem.Provider.GOOGLE_WALLET,
}


def device_register(
    *, item: WalletItem, device_library_identifier: str, push_token: str, provider: str
) -> bool:
    """Register the pass on a device; returns True when new (Apple: 201), False when the
    device already had it (200; its push token is refreshed).

    The item's first open registration makes it active and emits `wallet_item_install`.
    """
    with transaction.atomic():
        locked = WalletItem.objects.select_for_update().get(pk=item.pk)
        open_registrations = DeviceRegistration.objects.filter(
            item=locked, unregistered_at__isnull=True
        )
        existing = open_registrations.filter(
            device_library_identifier=device_library_identifier
        ).first()
        if existing is not None:
            if push_token and existing.push_token != push_token:
                existing.push_token = push_token
                existing.save(update_fields=["push_token"])
            return False
        first = not open_registrations.exists()
        registration = DeviceRegistration.objects.create(
            item=locked,
            provider=provider,
            device_library_identifier=device_library_identifier,
            push_token=push_token,
            registered_at=timezone.now(),
        )
        if first:
            locked.active = True
            locked.provider = PROVIDER_OF[provider]
            locked.save(update_fields=["active", "provider", "updated_at"])
            _emit(item, registration, "wallet_item_install")
        return True


def device_unregister(*, item: WalletItem, device_library_identifier: str) -> bool:
    """Close the device's registration; returns whether there was one. The last open
    registration's end makes the item inactive and emits `wallet_item_remove`."""
    with transaction.atomic():
        locked = WalletItem.objects.select_for_update().get(pk=item.pk)
        registration = DeviceRegistration.objects.filter(
            item=locked,
            device_library_identifier=device_library_identifier,
            unregistered_at__isnull=True,
        ).first()
        if registration is None:
            return False
        registration.unregistered_at = timezone.now()
        registration.save(update_fields=["unregistered_at"])
        remaining = DeviceRegistration.objects.filter(item=locked, unregistered_at__isnull=True)
        if not remaining.exists():
            locked.active = False
            locked.save(update_fields=["active", "updated_at"])
            _emit(item, registration, "wallet_item_remove")
        return True


def _emit(item: WalletItem, registration: DeviceRegistration, callback_type: str) -> None:
    campaign = item.campaign
    callback_event_emit(
        company=campaign.company,
        callback_type=callback_type,
        body=lambda api_version: install_body(item, registration),
        person_id=item.person_id,
        scope={"campaign_token": campaign.wallet_id},
    )


def install_body(item: WalletItem, registration: DeviceRegistration) -> dict:
    """The platform's wallet callback body (SPEC 10)."""
    campaign = item.campaign
    return {
        "wallet_instance": {
            "registered_at": format_platform_datetime(registration.registered_at),
            "unregistered_at": format_platform_datetime(registration.unregistered_at),
            "wallet_instance_uid": str(registration.instance_uid),
            "provider": registration.provider,
        },
        "wallet_item": {
            "uuid": item.uuid,
            "wallet_object_uid": str(item.pk),
            "expiration_date": format_platform_datetime(item_expiration(item)),
            "tokens": item.tokens,
            "url": item.url,
        },
        "wallet_campaign": {
            "wallet_campaign_uid": str(campaign.pk),
            "token": campaign.wallet_id,
            "url": campaign.url,
        },
    }
