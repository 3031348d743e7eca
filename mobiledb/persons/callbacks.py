"""Person callbacks: the bodies of `person_added` / `person_updated` and their emission.

The callbacks app stores and sends the bodies it is given; the person JSON is this
package's to build (the API's PersonOutputSerializer, per API version).
`person_batch_bodies` is registered with callbacks at ready (mobiledb.apps), so the
expansion of an import's batched events builds the same bodies.
"""

from __future__ import annotations

from collections.abc import Iterable

from callbacks.services import BodyBuilder, callback_event_emit, callback_events_emit_bulk
from vibesweb.tenancy.models import Company

from .api.serializers import PersonOutputSerializer
from .models import Person
from .selectors import custom_field_schema

PERSON_TYPES = ("person_added", "person_updated")


def person_body(person: Person, *, schema, api_version: int) -> dict:
    """`{"person": ...}`: the person JSON as the API shows it in that version."""
    context = {"schema": schema, "api_version": api_version}
    return {"person": dict(PersonOutputSerializer(person, context=context).data)}


def _person_builder(person: Person, company: Company) -> BodyBuilder:
    person.company = company  # the person's url needs it; never one query per person

    def build(api_version: int) -> dict:
        return person_body(person, schema=custom_field_schema(company), api_version=api_version)

    return build


def person_added_emit(person: Person) -> None:
    """Emit `person_added` for a person just created (call inside its transaction)."""
    callback_event_emit(
        company=person.company,
        callback_type="person_added",
        body=_person_builder(person, person.company),
        person_id=person.pk,
    )


def person_updated_emit(person: Person) -> None:
    """Emit `person_updated` for a person just saved (call inside its transaction)."""
    callback_event_emit(
        company=person.company,
        callback_type="person_updated",
        body=_person_builder(person, person.company),
        person_id=person.pk,
    )


def person_events_emit_bulk(*, company: Company, callback_type: str, persons: Iterable) -> int:
    """Emit `person_added` or `person_updated` for many persons of `company` (imports).

    Returns the number of events written; `persons` is not consumed when nothing is
    registered.
    """
    return callback_events_emit_bulk(
        company=company,
        callback_type=callback_type,
        items=((p.pk, _person_builder(p, company)) for p in persons),
    )


def person_batch_bodies(company: Company, person_ids: list[int]) -> dict[int, BodyBuilder]:
    """Body builders of a batch's persons, read now; persons deleted since are left out."""
    schema = custom_field_schema(company)
    persons = Person.objects.filter(company=company).in_bulk(person_ids)
    bodies = {}
    for pk, person in persons.items():
        person.company = company  # its url needs it; never one query per person

        def body(api_version: int, person=person) -> dict:
            return person_body(person, schema=schema, api_version=api_version)

        bodies[pk] = body
    return bodies
