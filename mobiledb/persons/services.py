"""Adding and updating persons: the rules shared by the API, the admin and the import.

Inputs are already validated (mobiledb.validation): MDNs in E.164, custom field values in
their stored form, `None` meaning "clear". Omitted arguments (UNSET) leave fields as
they are.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from callbacks.services import registrations_may_exist
from vibesweb.db import ModelInsert
from vibesweb.tenancy.models import Company

from ..errors import (
    ExternalIdAlreadyAssigned,
    ExternalIdMismatch,
    MdnChangeNotAllowed,
    MobilePhoneAlreadyAssigned,
    PersonCreateRequiresIdentifier,
)
from ..validation import clean_timezone
from .callbacks import person_added_emit, person_updated_emit
from .models import Person, PersonTag
from .selectors import persons_by_identity


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
_ADD_ATTEMPTS = 3
# The API's add: one prepared INSERT instead of `save()`, which compiled its InsertQuery
# anew on every add (a fifth of a POST person's CPU). Person has no save() of its own and
# no pre_save/post_save receivers; tests/mobiledb/test_person_insert.py keeps it so.
_person_insert = ModelInsert(Person)


def person_add(
    *,
    company: Company,
    mdn: str | None = UNSET,
    external_person_id: str | None = UNSET,
    carrier_code: str | None = UNSET,
    timezone: str | None = UNSET,
    custom_fields: dict | None = None,
) -> tuple[Person, bool]:
    """Add a person, or merge into the person that already has this MDN.

    Returns (person, created). Raises ExternalIdMismatch (409) when the MDN's person has
    a different external id, ExternalIdAlreadyAssigned (409) when the external id is
    another person's, PersonCreateRequiresIdentifier without MDN or external id.
    Safe under concurrency: a lost insert race is retried as a merge.
    """
    if not mdn and not external_person_id:
        raise PersonCreateRequiresIdentifier()
    if timezone is not UNSET:
        timezone = clean_timezone(timezone)  # before any write: refused alike on every path
    if not registrations_may_exist(company):
        # Nobody is to be told of the add, so a new person is one INSERT that stands
        # alone: written unless its MDN or external id is taken, and then the merge
        # below decides as it would have (2 statements for a new person instead of 6).
        person = _new_person(
            company, mdn or None, external_person_id or None, carrier_code, timezone, custom_fields
        )
        if _person_insert.insert_if_new(person):
            return person, True
    for attempt in range(_ADD_ATTEMPTS):
        try:
            with transaction.atomic():
                return _person_add_once(
                    company=company,
                    mdn=mdn or None,
                    external_person_id=external_person_id or None,
                    carrier_code=carrier_code,
                    timezone=timezone,
                    custom_fields=custom_fields or {},
                )
        except IntegrityError:
            # Another request inserted the same MDN or external id first: look again.
            if attempt == _ADD_ATTEMPTS - 1:
                raise ExternalIdAlreadyAssigned() from None
    raise AssertionError("unreachable")


def _person_add_once(
    *, company, mdn, external_person_id, carrier_code, timezone, custom_fields
) -> tuple[Person, bool]:
    candidates = persons_by_identity(
        company, mdn=mdn, external_person_id=external_person_id, lock=True
    )
    existing = next((p for p in candidates if mdn and p.mdn == mdn), None)
    if existing is not None:
        if (
            external_person_id
            and existing.external_person_id
            and existing.external_person_id != external_person_id
        ):
            raise ExternalIdMismatch()
        existing.company = company
        person, _ = _apply_changes(
            existing,
            external_person_id=external_person_id or UNSET,
            carrier_code=carrier_code,
            timezone=timezone,
            custom_fields=custom_fields,
        )
        return person, False
    if external_person_id and any(p.external_person_id == external_person_id for p in candidates):
        raise ExternalIdAlreadyAssigned(
            f"external_person_id '{external_person_id}' is already assigned to another person"
        )
    person = _new_person(company, mdn, external_person_id, carrier_code, timezone, custom_fields)
    _person_insert.insert(person)
    person_added_emit(person)
    return person, True


def _new_person(company, mdn, external_person_id, carrier_code, timezone, custom_fields) -> Person:
    custom_fields = custom_fields or {}
    timezone = clean_timezone(timezone or None)
    return Person(
        company=company,
        mdn=mdn,
        external_person_id=external_person_id,
        carrier_code=carrier_code or None,
        timezone=timezone or None,
        timezone_source="api" if timezone else None,
        custom_fields={k: v for k, v in custom_fields.items() if v is not None},
    )


@transaction.atomic
def person_update(
    *,
    person: Person,
    mdn: str | None = UNSET,
    external_person_id: str | None = UNSET,
    carrier_code: str | None = UNSET,
    timezone: str | None = UNSET,
    custom_fields: dict | None = None,
) -> Person:
    """Update a person: omitted fields stay, a custom field set to None is cleared.

    Raises MdnChangeNotAllowed (409) when the person has another MDN,
    MobilePhoneAlreadyAssigned (409) when the new MDN is another person's,
    ExternalIdAlreadyAssigned (409) when the external id is another person's.
    """
    if mdn is not UNSET and mdn != person.mdn:
        if person.mdn:
            raise MdnChangeNotAllowed()
        if mdn and Person.objects.filter(company_id=person.company_id, mdn=mdn).exists():
            raise MobilePhoneAlreadyAssigned()
    try:
        # No savepoint: an IntegrityError leaves through the outer atomic block anyway
        # (which rolls back, or back to its own savepoint inside a caller's transaction).
        with transaction.atomic(savepoint=False):
            person, _ = _apply_changes(
                person,
                mdn=mdn if mdn else UNSET,
                external_person_id=external_person_id,
                carrier_code=carrier_code,
                timezone=timezone,
                custom_fields=custom_fields or {},
            )
    except IntegrityError:
        raise MobilePhoneAlreadyAssigned() from None
    return person


def _external_id_taken(company: Company, external_person_id: str, *, exclude: int | None) -> bool:
    queryset = Person.objects.filter(company=company, external_person_id=external_person_id)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.exists()


def _apply_changes(
    person: Person,
    *,
    mdn: str | None = UNSET,
    external_person_id: str | None = UNSET,
    carrier_code: str | None = UNSET,
    timezone: str | None = UNSET,
    custom_fields: dict,
) -> tuple[Person, bool]:
    """Apply the given changes and save if anything changed; emits person_updated then."""
    changed: list[str] = []
    if external_person_id is not UNSET and external_person_id != person.external_person_id:
        if external_person_id and _external_id_taken(
            person.company, external_person_id, exclude=person.pk
        ):
            raise ExternalIdAlreadyAssigned(
                f"external_person_id '{external_person_id}' is already assigned to another person"
            )
        person.external_person_id = external_person_id
        changed.append("external_person_id")
    if mdn is not UNSET and mdn != person.mdn:
        person.mdn = mdn
        changed.append("mdn")
    if carrier_code is not UNSET and carrier_code != person.carrier_code:
        person.carrier_code = carrier_code
        changed.append("carrier_code")
    if timezone is not UNSET:
        timezone = clean_timezone(timezone)
    if timezone is not UNSET and timezone != person.timezone:
        person.timezone = timezone
        person.timezone_source = "api" if timezone else None
        changed += ["timezone", "timezone_source"]
    merged = dict(person.custom_fields)
    for name, value in custom_fields.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    if merged != person.custom_fields:
        person.custom_fields = merged
        changed.append("custom_fields")
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
        person_updated_emit(person)
    return person, bool(changed)


# --- tags ---------------------------------------------------------------------------------


def person_tag_add(*, person: Person, tag: str) -> bool:
    """Tag `person` (the API's PUT .../tags/:tag, the admin's bulk tag); whether it was new."""
    _, created = PersonTag.objects.get_or_create(person=person, tag=tag)
    return created


def person_tag_remove(*, person: Person, tag: str) -> bool:
    """Remove a tag from `person`; whether it had it."""
    deleted, _ = PersonTag.objects.filter(person=person, tag=tag).delete()
    return bool(deleted)
