"""A campaign's platform pass templates: the iOS `passbook_template` and the Android
`wallet_template` (reference OpenAPI), one of each per campaign.

A template is the design its kind of pass is built from (wallet.passkit.bundle and
wallet.google read it through `template_of`). Why a passbook template change pushes: an
installed Apple pass only changes when Wallet downloads it again, which it does when told
through a push and finds the serial among those updated since its last tag. A new design
is a change of every pass the campaign issued, so every item's update tag is bumped and
every Apple device holding one is pushed, exactly as a campaign `design` change does. A
Google template change bumps nothing: Google has no device push of ours, and the next
"Save to Google Wallet" link carries the new design in its JWT.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from mobiledb.validation import format_platform_datetime

from ..errors import WalletAlreadyExists, WalletRequired, WalletTemplateNotFound
from ..models import WalletCampaign, WalletTemplate
from ..pass_templates import (
    ENVELOPES,
    PASSBOOK,
    template_clean,
    template_masked,
    template_merge,
)
from .campaigns import campaign_passes_changed

KIND_NAMES = {PASSBOOK: "Apple Wallet", "google_wallet": "Google Wallet"}


def template_body(kind: str, body: dict) -> dict:
    """The template of a `{"passbook_template": {...}}` (or `wallet_template`) body; a
    bare template object is accepted, as the campaign API accepts a bare campaign."""
    inner = body.get(ENVELOPES[kind], body)
    if not isinstance(inner, dict):
        raise WalletRequired(f'the body must be {{"{ENVELOPES[kind]}": {{...}}}}')
    return inner


def template_of(campaign: WalletCampaign, kind: str) -> dict | None:
    """The active template of `kind` the campaign's passes are built from, or None (an
    unsaved campaign, such as the admin's live preview, has none)."""
    if campaign.pk is None:
        return None
    cache = campaign.__dict__.setdefault("_templates", {})
    if kind not in cache:
        row = WalletTemplate.objects.filter(campaign=campaign, kind=kind, active=True).first()
        cache[kind] = row.body if row else None
    return cache[kind]


def wallet_template_get(*, campaign: WalletCampaign, kind: str) -> WalletTemplate:
    """The campaign's template of `kind`; WalletTemplateNotFound (404) without one."""
    template = WalletTemplate.objects.filter(campaign=campaign, kind=kind).first()
    if template is None:
        raise WalletTemplateNotFound(
            f"Wallet campaign {campaign.wallet_id} has no {KIND_NAMES[kind]} template"
        )
    template.campaign = campaign
    return template


def wallet_template_create(*, campaign: WalletCampaign, kind: str, body: dict) -> WalletTemplate:
    """Create the campaign's template of `kind` from a request body (201).

    Raises DomainErrors for a bad or incomplete template, WalletAlreadyExists (409) when the
    campaign has one (each campaign has a single template of a kind: PUT changes it).
    """
    cleaned = template_merge(kind, {}, template_clean(kind, template_body(kind, body)))
    template = WalletTemplate(company_id=campaign.company_id, campaign=campaign, kind=kind)
    template.body = cleaned
    try:
        with transaction.atomic():
            template.save(force_insert=True)
            _passes_changed(campaign, kind)
    except IntegrityError:
        raise WalletAlreadyExists(
            f"Wallet campaign {campaign.wallet_id} already has a {KIND_NAMES[kind]} template; "
            "PUT updates it"
        ) from None
    return template


def wallet_template_update(*, campaign: WalletCampaign, kind: str, body: dict) -> WalletTemplate:
    """Update the campaign's template of `kind`: the properties given replace theirs,
    omitted ones stay, `null` removes one. WalletTemplateNotFound (404) without one;
    DomainErrors for bad input (nothing written)."""
    changes = template_clean(kind, template_body(kind, body))
    with transaction.atomic():
        template = wallet_template_get(campaign=campaign, kind=kind)
        template = WalletTemplate.objects.select_for_update().get(pk=template.pk)
        template.body = template_merge(kind, template.body, changes)
        template.save()
        _passes_changed(campaign, kind)
    template.campaign = campaign
    return template


def _passes_changed(campaign: WalletCampaign, kind: str) -> None:
    campaign.__dict__.pop("_templates", None)
    if kind == PASSBOOK:  # the module's docstring says why only Apple's
        campaign_passes_changed(campaign=campaign)


def template_payload(template: WalletTemplate) -> dict:
    """The platform's template answer: id, active, timestamps and the template."""
    return {
        "id": str(template.pk),
        "active": template.active,
        **template_masked(template.body),
        "created_at": format_platform_datetime(template.created_at),
        "updated_at": format_platform_datetime(template.updated_at),
    }
