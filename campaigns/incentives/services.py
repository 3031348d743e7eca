"""Issue and redeem incentive codes (SPEC section 11), race-free on SQLite and PostgreSQL.

A unique pool's code is taken off its queue (`queue.py`: one conditional UPDATE of a
never-issued row, `FOR UPDATE SKIP LOCKED` on PostgreSQL) in the transaction that
records the issuance. The issuance row is unique per (pool, issuee), so the same issuee
asking twice at once gets one code; the redemption row is unique per issuance.
Callbacks are written in the same transaction (the outbox); the low-codes email goes out
after commit. The issuance path reads and writes with raw statements (vibesweb.db):
compiling its ORM queries cost several times more than running them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from callbacks.services import callback_event_emit
from mobiledb.models import Person
from mobiledb.persons.selectors import person_by_column
from vibesweb.db import ModelInsert, ModelRows
from vibesweb.errors import DomainError, ErrorCode
from vibesweb.inputs import parse_id
from vibesweb.tenancy.models import Company

from .alerts import pool_low_check_on_commit
from .errors import (
    CodeAlreadyRedeemed,
    CodeIssuedToAnother,
    CodeNotInPool,
    CodeNotIssuedToIssuee,
    IssuanceNotAllowed,
    IssueeRequired,
    PoolExhausted,
    RedemptionNotAllowed,
)
from .models import IncentiveCode, IncentiveIssuance, IncentivePool, IncentiveRedemption
from .payloads import issuance_payload, redemption_payload
from .queue import code_take, code_take_next, code_take_next_recorded
from .selectors import incentive_code_get

MAX_ID_LENGTH = 128


@dataclass(frozen=True)
class Issuee:
    """Who receives a code: `key` identifies them within a pool."""

    issuee_id: str
    external_issuee_id: str
    person: Person | None

    @property
    def key(self) -> str:
        if self.issuee_id:
            return f"id:{self.issuee_id}"
        return f"ext:{self.external_issuee_id}"


class IssueeInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "IncentiveErrors::InvalidIssuee"


def _identifier(name: str, value) -> str:
    """An identifier sent as a string or an integer (SPEC section 12); '' when absent."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise IssueeInvalid(f"{name} must be a string or an integer", field=name)
    text = str(value).strip()
    if len(text) > MAX_ID_LENGTH:
        raise IssueeInvalid(f"{name} is longer than {MAX_ID_LENGTH} characters", field=name)
    return text


def _person_named(company: Company, issuee_id: str, external_issuee_id: str) -> Person | None:
    # Only this company's persons (person_by_column): another company's id links nothing.
    if not issuee_id:
        return person_by_column(company, "external_person_id", external_issuee_id)
    if parse_id(issuee_id) is not None:
        return person_by_column(company, "id", parse_id(issuee_id))
    try:
        return person_by_column(company, "person_key", uuid.UUID(issuee_id))
    except ValueError:
        return None


def issuee_resolve(*, company: Company, issuee_id=None, external_issuee_id=None) -> Issuee:
    """The issuee of a request body: `issuee_id` (a person id or key of the company links
    that person) or `external_issuee_id` (a person's external id links them too).
    IssueeRequired (400) when neither is given, IssueeInvalid (400) for a bad value."""
    issuee_id = _identifier("issuee_id", issuee_id)
    external_issuee_id = _identifier("external_issuee_id", external_issuee_id)
    if not issuee_id and not external_issuee_id:
        raise IssueeRequired()
    person = _person_named(company, issuee_id, external_issuee_id)
    return Issuee(issuee_id, external_issuee_id, person)


def issuee_for_person(person: Person) -> Issuee:
    """The issuee a message template issues to: the recipient's person."""
    return Issuee(str(person.pk), person.external_person_id or "", person)


# --- issuance ---------------------------------------------------------------------------


_issuances = ModelRows(IncentiveIssuance)
_codes = ModelRows(IncentiveCode)
_issuance_insert = ModelInsert(IncentiveIssuance)


def _existing_issuance(pool: IncentivePool, issuee: Issuee) -> IncentiveIssuance | None:
    quote = connection.ops.quote_name
    tail = f"WHERE {quote('pool_id')} = %s AND {quote('issuee_key')} = %s"
    found = _issuances.first(tail, [pool.pk, issuee.key])
    if found is not None:
        found.code = _codes.first(f"WHERE {quote('id')} = %s", [found.code_id])
    return found


def _code_of_pool(pool: IncentivePool, code: str) -> IncentiveCode:
    found = IncentiveCode.objects.filter(company_id=pool.company_id, code=code).first()
    if found is None or found.pool_id != pool.pk:
        raise CodeNotInPool(f"The code {code[:64]!r} is not in incentive pool {pool.pk}")
    return found


def _code_to_issue(pool: IncentivePool, code: str | None, now: datetime) -> IncentiveCode:
    if not pool.is_unique:
        # A multi pool hands everyone its shared code (the first one loaded).
        if code is not None:
            return _code_of_pool(pool, code)
        shared = IncentiveCode.objects.filter(pool_id=pool.pk).order_by("id").first()
        if shared is None:
            raise PoolExhausted(f"Incentive pool {pool.pk} has no code to share")
        return shared
    taken = code_take_next(pool, now) if code is None else code_take(pool, code, now)
    if taken is not None:
        return taken
    if code is None:
        raise PoolExhausted(f"No codes are available from incentive pool {pool.pk}")
    _code_of_pool(pool, code)  # CodeNotInPool when it is not this pool's
    raise CodeIssuedToAnother(f"The code {code[:64]!r} was already issued to another issuee")


def _folds_issuee_read(pool: IncentivePool, code: str | None) -> bool:
    """On PostgreSQL a unique pool's next code is taken, the issuance written and the
    issuee's earlier issuance looked for by one statement (`_record`)."""
    return pool.is_unique and code is None and connection.vendor == "postgresql"


def _held_sql(pool: IncentivePool, issuee: Issuee) -> tuple[str, list]:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('id')} FROM {quote(IncentiveIssuance._meta.db_table)} "
        f"WHERE {quote('pool_id')} = %s AND {quote('issuee_key')} = %s",
        [pool.pk, issuee.key],
    )


def _record(
    pool: IncentivePool,
    issuance: IncentiveIssuance,
    issuee: Issuee,
    code: str | None,
    now: datetime,
) -> bool:
    """Give `issuance` its code and write it; False when the issuee already holds one
    (only `_folds_issuee_read` finds that here: elsewhere the caller looked first)."""
    if _folds_issuee_read(pool, code):
        record = _issuance_insert.insert_from(
            issuance,
            source="taken",
            computed={"code_id": "taken.id"},
            returning="code_id, (SELECT code FROM taken), id",
        )
        taken = code_take_next_recorded(pool, now, record, held=_held_sql(pool, issuee))
        if taken is None:
            raise PoolExhausted(f"No codes are available from incentive pool {pool.pk}")
        if taken[0] is None:
            return False
        issuance.code = taken[0]
        ModelInsert.mark_saved(issuance, taken[1])
        return True
    issuance.code = _code_to_issue(pool, code, now)
    _issuance_insert.insert(issuance)
    return True


def _check_existing(existing: IncentiveIssuance, code: str | None) -> IncentiveIssuance:
    if code is not None and existing.code.code != code:
        raise CodeIssuedToAnother(
            f"This issuee already holds code {existing.code.code!r} from this pool"
        )
    return existing


def incentive_issue(
    *,
    pool: IncentivePool,
    issuee: Issuee,
    code: str | None = None,
    referring_application: str = "",
    referring_application_ref_id: str = "",
) -> tuple[IncentiveIssuance, bool]:
    """Issue a code of `pool` to `issuee`; returns (issuance, created).

    The same issuee gets the same issuance again (created False). A unique pool hands a
    never-issued code (or `code`, if it is free); a multi pool its shared code. Raises
    IssuanceNotAllowed / PoolExhausted / CodeNotInPool / CodeIssuedToAnother (422).
    Transactional; the `incentive_issued` callback is written in the same transaction.
    """
    if not pool.issuance_allowed:
        raise IssuanceNotAllowed(f"Issuance is not allowed for incentive pool {pool.pk}")
    company = pool.company
    looked_in_claim = _folds_issuee_read(pool, code)
    for _attempt in range(3):
        if not looked_in_claim:
            existing = _existing_issuance(pool, issuee)
            if existing is not None:
                return _check_existing(existing, code), False
        try:
            with transaction.atomic():
                issuance = IncentiveIssuance(
                    company_id=pool.company_id,
                    pool=pool,
                    issuee_key=issuee.key,
                    issuee_id=issuee.issuee_id,
                    external_issuee_id=issuee.external_issuee_id,
                    person=issuee.person,
                    referring_application=referring_application or "",
                    referring_application_ref_id=referring_application_ref_id or "",
                )
                created = _record(pool, issuance, issuee, code, timezone.now())
                if created:
                    _emit(company, "incentive_issued", issuance, "issuance", issuance_payload)
                    if pool.is_unique and pool.low_notified_at is None:
                        pool_low_check_on_commit(pool)
            if created:
                return issuance, True
            existing = _existing_issuance(pool, issuee)  # the claim found it: nothing taken
            if existing is not None:
                return _check_existing(existing, code), False
        except IntegrityError:
            # The same issuee was issued a code at this very moment: the claim above was
            # rolled back, and the next round returns their issuance.
            continue
    raise PoolExhausted("The issuance could not be completed; please retry")


# --- redemption -------------------------------------------------------------------------


def _issuance_of(code: IncentiveCode, issuee: Issuee) -> IncentiveIssuance | None:
    issuances = IncentiveIssuance.objects.filter(code=code)
    found = issuances.filter(issuee_key=issuee.key).first()
    if found is None and issuee.person is not None:
        found = issuances.filter(person_id=issuee.person.pk).first()
    return found


def incentive_redeem(
    *,
    company: Company,
    code: str,
    issuee: Issuee,
    referring_application: str = "",
    referring_application_ref_id: str = "",
) -> IncentiveRedemption:
    """Redeem `code` for `issuee`. IncentiveCodeNotFound (404); RedemptionNotAllowed,
    CodeNotIssuedToIssuee, CodeAlreadyRedeemed (422): a unique pool's code redeems once,
    a multi pool's once per issuee. The `incentive_redeemed` callback is written in the
    same transaction."""
    found = incentive_code_get(company=company, code=code)
    pool = found.pool
    if not pool.redemption_allowed:
        raise RedemptionNotAllowed(f"Redemption is not allowed for incentive pool {pool.pk}")
    issuance = _issuance_of(found, issuee)
    if issuance is None:
        raise CodeNotIssuedToIssuee(f"The code {code[:64]!r} was not issued to this issuee")
    issuance.code = found
    if pool.is_unique and IncentiveRedemption.objects.filter(code=found).exists():
        raise CodeAlreadyRedeemed(f"The code {code[:64]!r} was already redeemed")
    try:
        with transaction.atomic():
            redemption = IncentiveRedemption(
                company_id=company.pk,
                issuance=issuance,
                code=found,
                referring_application=referring_application or "",
                referring_application_ref_id=referring_application_ref_id or "",
            )
            redemption.save(force_insert=True)
            _emit(company, "incentive_redeemed", redemption, "redemption", redemption_payload)
    except IntegrityError:
        raise CodeAlreadyRedeemed(f"The code {code[:64]!r} was already redeemed") from None
    return redemption


def _emit(company: Company, callback_type: str, row, key: str, payload) -> None:
    person_id = row.person_id if key == "issuance" else row.issuance.person_id
    pool_id = row.pool_id if key == "issuance" else row.issuance.pool_id
    callback_event_emit(
        company=company,
        callback_type=callback_type,
        body=lambda api_version: {key: payload(row, company_key=company.key)},
        person_id=person_id,
        scope={"pool_id": pool_id},
    )
