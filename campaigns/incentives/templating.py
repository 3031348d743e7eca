"""`{{incentive_code:POOL_ID}}` in message templates: each recipient is issued a code of
that pool (the recipient's person is the issuee; the same person gets the same code
again). Registered with mobiledb.broadcasts.templating at app ready; an empty pool, or one with
issuance off, skips the recipient (SkipRecipient) instead of sending a broken text."""

from __future__ import annotations

from mobiledb.broadcasts.templating import SkipRecipient, placeholder_resolver_register
from mobiledb.models import Person
from vibesweb.errors import DomainError
from vibesweb.tenancy.models import Company

from .errors import IncentivePoolInvalid
from .models import IncentivePool
from .selectors import identifier_as_int
from .services import incentive_issue, issuee_for_person

PLACEHOLDER_NAME = "incentive_code"
REFERRING_APPLICATION = "message_template"


def _pool_of(company_id: int, argument: str) -> IncentivePool | None:
    pk = identifier_as_int(argument)
    if pk is None:
        return None
    return (
        IncentivePool.objects.select_related("company").filter(company_id=company_id, pk=pk).first()
    )


def incentive_code_render(person: Person, argument: str) -> str:
    """The code issued to `person` from pool `argument`; SkipRecipient when none can be."""
    pool = _pool_of(person.company_id, argument)
    if pool is None:
        raise SkipRecipient(f"incentive pool {argument} does not exist")
    try:
        issuance, _created = incentive_issue(
            pool=pool,
            issuee=issuee_for_person(person),
            referring_application=REFERRING_APPLICATION,
        )
    except DomainError as error:
        raise SkipRecipient(error.message) from None
    return issuance.code.code


def incentive_code_check(company: Company, argument: str) -> None:
    if _pool_of(company.pk, argument) is None:
        raise IncentivePoolInvalid(
            f"{{{{incentive_code:{argument}}}}}: no incentive pool {argument!r} in this company"
        )


def register() -> None:
    placeholder_resolver_register(
        PLACEHOLDER_NAME, render=incentive_code_render, check=incentive_code_check
    )
