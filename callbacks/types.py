"""Callback types (SPEC section 6), their accepted aliases and the scope each one takes."""

from __future__ import annotations

CALLBACK_TYPES = (
    "person_added",
    "person_updated",
    "subscription_added",
    "subscription_removed",
    "subscription_list_added",
    "subscription_list_updated",
    "ack_participant_added",
    "ack_participant_changed",
    "wallet_item_install",
    "wallet_item_remove",
    "incentive_issued",
    "incentive_redeemed",
)

# seeds/003 names the person callback `person_add`.
ALIASES = {"person_add": "person_added", "person_update": "person_updated"}

# Which scope keys a registration of each type may narrow itself by.
SCOPE_KEYS: dict[str, tuple[str, ...]] = {
    "subscription_added": ("list_id",),
    "subscription_removed": ("list_id",),
    "subscription_list_updated": ("list_id",),
    "ack_participant_added": ("campaign_id",),
    "ack_participant_changed": ("campaign_id",),
    # SPEC 10: wallet registrations are scoped by the campaign's token (its wallet_id).
    "wallet_item_install": ("campaign_token",),
    "wallet_item_remove": ("campaign_token",),
    "incentive_issued": ("pool_id",),
    "incentive_redeemed": ("pool_id",),
}

# Where a scope value sits in a body, for emitters that do not pass `scope=` themselves.
SCOPE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "list_id": (("subscription", "subscription_list", "id"), ("subscription_list", "id")),
    "campaign_id": (
        ("participant", "acquisition_campaign", "id"),
        ("acquisition_campaign", "id"),
        ("campaign", "id"),
    ),
    "pool_id": (("issuance", "pool", "id"), ("pool", "id")),
    "campaign_token": (("wallet_campaign", "token"),),
}


def canonical_type(name: str) -> str | None:
    """The canonical callback type for `name` (aliases accepted), or None if unknown."""
    name = ALIASES.get(name, name)
    return name if name in CALLBACK_TYPES else None


def scope_from_body(body: dict) -> dict:
    """The scope values found in a callback body, as strings."""
    found = {}
    for key, paths in SCOPE_PATHS.items():
        for path in paths:
            value = _dig(body, path)
            if value is not None:
                found[key] = str(value)
                break
    return found


def scope_matches(wanted: dict, actual: dict) -> bool:
    """A registration's scope matches when every key it names has the event's value."""
    return all(str(value) == actual.get(key) for key, value in (wanted or {}).items())


def _dig(body, path):
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body
