"""Reads of incentive pools and codes: company-scoped lookups and live counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from vibesweb.api.permissions import RouteRow
from vibesweb.db import ModelRows
from vibesweb.inputs import parse_id
from vibesweb.tenancy.models import Company

from .errors import IncentiveCodeNotFound, IncentivePoolNotFound
from .models import IncentiveCode, IncentiveIssuance, IncentivePool, IncentiveRedemption


@dataclass(frozen=True)
class PoolCounts:
    total: int
    issued: int
    remaining: int


def identifier_as_int(value) -> int | None:
    """An identifier sent as an integer or a string of digits (SPEC section 12)."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return parse_id(text)


_pools = ModelRows(IncentivePool)


def incentive_pool_route_row(pool_id) -> RouteRow | None:
    """The pool `pools/:pool_id` names, for the authentication to read with the membership
    (vibesweb.api.permissions.RouteRow); None for an id that is no id."""
    pk = identifier_as_int(pool_id)
    return RouteRow(_pools, "id", pk) if pk is not None else None


def incentive_pool_get(
    *, company: Company, pool_id, for_update: bool = False, read: tuple[bool, Any] = (False, None)
) -> IncentivePool:
    """The company's pool `pool_id`; IncentivePoolNotFound (404) for an unknown id or
    another company's pool. One raw query (vibesweb.db): every issuance runs it, unless
    `read` (CompanyAPIView.route_row_read) holds it as the authentication read it."""
    pk = identifier_as_int(pool_id)
    already_read, pool = read
    if pk is not None and not already_read:
        quote = connection.ops.quote_name
        tail = f"WHERE {quote('company_id')} = %s AND {quote('id')} = %s"
        if for_update and connection.features.has_select_for_update:
            tail += " FOR UPDATE"
        pool = _pools.first(tail, [company.pk, pk])
    if pool is None:
        raise IncentivePoolNotFound(f"Incentive pool {str(pool_id)[:64]} not found")
    pool.company = company
    return pool


def incentive_pool_exists(company: Company, pool_id: str) -> bool:
    pk = identifier_as_int(pool_id)
    return pk is not None and IncentivePool.objects.filter(company=company, pk=pk).exists()


def incentive_pools_of(company: Company) -> QuerySet[IncentivePool]:
    return IncentivePool.objects.filter(company=company).order_by("id")


def incentive_codes_of(
    company: Company, *, pool: IncentivePool | None = None
) -> QuerySet[IncentiveCode]:
    codes = IncentiveCode.objects.filter(company=company).order_by("id")
    return codes.filter(pool=pool) if pool is not None else codes


def incentive_code_get(*, company: Company, code: str) -> IncentiveCode:
    """The company's code `code` (exact, case-sensitive); IncentiveCodeNotFound (404)."""
    found = IncentiveCode.objects.select_related("pool").filter(company=company, code=code).first()
    if found is None:
        raise IncentiveCodeNotFound(f"Incentive code {code[:64]!r} not found")
    found.company = company
    found.pool.company = company
    return found


def pool_counts_many(pools: list[IncentivePool]) -> dict[int, PoolCounts]:
    """Live counts of several pools in two grouped queries: exact, whatever runs at once,
    since they are counted, not maintained."""
    ids = [pool.pk for pool in pools]
    # Two counts, each matching one partial index (unissued / issued codes).
    unissued = _codes_per_pool(ids, issued=False)
    issued_codes = _codes_per_pool(ids, issued=True)
    multi_ids = [pool.pk for pool in pools if not pool.is_unique]
    multi_issued = {
        row["pool_id"]: row["n"]
        for row in IncentiveIssuance.objects.filter(pool_id__in=multi_ids)
        .values("pool_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    counts = {}
    for pool in pools:
        left, issued = unissued.get(pool.pk, 0), issued_codes.get(pool.pk, 0)
        total = left + issued
        if pool.is_unique:
            counts[pool.pk] = PoolCounts(total, issued, left)
        else:
            # A shared code never runs out: every code of the pool stays available.
            counts[pool.pk] = PoolCounts(total, multi_issued.get(pool.pk, 0), total)
    return counts


def _codes_per_pool(pool_ids: list[int], *, issued: bool) -> dict[int, int]:
    rows = (
        IncentiveCode.objects.filter(pool_id__in=pool_ids, issued_at__isnull=not issued)
        .values("pool_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["pool_id"]: row["n"] for row in rows}


def pool_counts(pool: IncentivePool) -> PoolCounts:
    return pool_counts_many([pool])[pool.pk]


def code_counts(code: IncentiveCode) -> dict:
    issuances = IncentiveIssuance.objects.filter(code=code).aggregate(
        total=Count("id"), unique=Count("issuee_key", distinct=True)
    )
    redemptions = IncentiveRedemption.objects.filter(code=code).aggregate(
        total=Count("id"), unique=Count("issuance__issuee_key", distinct=True)
    )
    return {"issuances": issuances, "redemptions": redemptions}


def issuances_of_code(code: IncentiveCode) -> QuerySet[IncentiveIssuance]:
    return IncentiveIssuance.objects.filter(code=code).order_by("id")


def redemptions_of_code(code: IncentiveCode) -> QuerySet[IncentiveRedemption]:
    return IncentiveRedemption.objects.filter(code=code).select_related("issuance").order_by("id")
