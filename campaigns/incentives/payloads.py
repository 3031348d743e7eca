"""The platform's incentive shapes (vibes-platform-openapi.json, SPEC section 11), used by
the API and the callback bodies alike."""

from __future__ import annotations

from mobiledb.validation import format_platform_datetime

from .models import IncentiveCode, IncentiveIssuance, IncentivePool, IncentiveRedemption
from .selectors import PoolCounts


def _pool_url(company_key: str, pool_id: int) -> str:
    return f"/companies/{company_key}/incentives/pools/{pool_id}"


def _code_url(company_key: str, code: str) -> str:
    return f"/companies/{company_key}/incentives/codes/{code}"


def pool_payload(pool: IncentivePool, counts: PoolCounts, *, company_key: str) -> dict:
    return {
        "id": pool.pk,
        "name": pool.name,
        "issuance_allowed": pool.issuance_allowed,
        "redemption_allowed": pool.redemption_allowed,
        "incentive_codes": {
            "total": counts.total,
            "issued": counts.issued,
            "remaining": counts.remaining,
            "low_threshold": pool.low_threshold,
            "max_characters": pool.max_characters,
        },
        "distribution": {"method": pool.distribution},
        "notification_email_address": pool.notification_email_address,
        "created_at": format_platform_datetime(pool.created_at),
        "updated_at": format_platform_datetime(pool.updated_at),
        "url": _pool_url(company_key, pool.pk),
    }


def code_payload(code: IncentiveCode, counts: dict, *, company_key: str) -> dict:
    return {
        "code": code.code,
        "active": code.pool.issuance_allowed,
        "issuances": counts["issuances"],
        "redemptions": counts["redemptions"],
        "incentive_pool": {"id": code.pool_id, "url": _pool_url(company_key, code.pool_id)},
        "created_at": format_platform_datetime(code.created_at),
        "updated_at": format_platform_datetime(code.updated_at),
        "url": _code_url(company_key, code.code),
    }


def code_list_payload(code: IncentiveCode, *, company_key: str) -> dict:
    """A code in a list: no counts (they would cost two queries per code)."""
    return {
        "code": code.code,
        "issued": code.issued_at is not None,
        "incentive_pool": {"id": code.pool_id, "url": _pool_url(company_key, code.pool_id)},
        "created_at": format_platform_datetime(code.created_at),
        "updated_at": format_platform_datetime(code.updated_at),
        "url": _code_url(company_key, code.code),
    }


def issuance_payload(issuance: IncentiveIssuance, *, company_key: str) -> dict:
    code = issuance.code.code
    return {
        "id": issuance.pk,
        "external_issuee_id": issuance.external_issuee_id or None,
        "issuee_id": issuance.issuee_id or None,
        "referring_application": issuance.referring_application or None,
        "referring_application_ref_id": issuance.referring_application_ref_id or None,
        "incentive_code": {"code": code, "url": _code_url(company_key, code)},
        "incentive_pool": {
            "id": issuance.pool_id,
            "url": _pool_url(company_key, issuance.pool_id),
        },
        "created_at": format_platform_datetime(issuance.created_at),
        "updated_at": format_platform_datetime(issuance.updated_at),
    }


def redemption_payload(redemption: IncentiveRedemption, *, company_key: str) -> dict:
    issuance = redemption.issuance
    code = redemption.code.code
    return {
        "id": redemption.pk,
        "external_issuee_id": issuance.external_issuee_id or None,
        "issuee_id": issuance.issuee_id or None,
        "referring_application": redemption.referring_application or None,
        "referring_application_ref_id": redemption.referring_application_ref_id or None,
        "incentive_code": {"code": code, "url": _code_url(company_key, code)},
        "incentive_pool": {
            "id": issuance.pool_id,
            "url": _pool_url(company_key, issuance.pool_id),
        },
        "issuance": {"id": issuance.pk},
        "created_at": format_platform_datetime(redemption.created_at),
        "updated_at": format_platform_datetime(redemption.updated_at),
    }
