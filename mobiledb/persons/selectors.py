"""Reads that are more than one ORM call: schemas, person lookups and searches."""

from __future__ import annotations

import re
import threading
import uuid

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from vibesweb.api.permissions import RouteRow
from vibesweb.db import ModelRows, index_probes
from vibesweb.tenancy.models import Company

from ..errors import InvalidPersonID, PersonNotFound
from ..validation import CustomFieldSchema, FieldSpec, SelectOption
from .models import CustomField, Person, PersonTag

_schema_cache: dict[tuple[int, int], CustomFieldSchema] = {}
_schema_lock = threading.Lock()


def custom_field_schema(company: Company) -> CustomFieldSchema:
    """The company's custom field schema, cached per process by its schema_version.

    Any change to a field or option bumps `Company.schema_version` (mobiledb.persons.signals),
    and every request reads the company row, so a cached schema is never stale.
    """
    cache_key = (company.pk, company.schema_version)
    schema = _schema_cache.get(cache_key)
    if schema is None:
        schema = load_custom_field_schema(company)
        with _schema_lock:
            for stale in [k for k in _schema_cache if k[0] == company.pk]:
                _schema_cache.pop(stale, None)
            _schema_cache[cache_key] = schema
    return schema


def load_custom_field_schema(company: Company) -> CustomFieldSchema:
    fields = CustomField.objects.filter(company=company).prefetch_related("options")
    specs = [
        FieldSpec(
            id=cf.pk,
            name=cf.name,
            data_type=cf.data_type,
            character_set=cf.character_set,
            max_length=cf.max_length,
            label=cf.label,
            list_column=cf.list_column,
            options={
                o.key: SelectOption(id=o.pk, key=o.key, label=o.label) for o in cf.options.all()
            },
        )
        for cf in fields
    ]
    return CustomFieldSchema(specs)


_DIGITS = re.compile(r"^[0-9]{1,18}$")


def _person_column(id_or_key: str) -> tuple[str, int | uuid.UUID]:
    """(column, value) of a `person_id` (digits) or `person_key` (UUID); InvalidPersonID."""
    value = str(id_or_key).strip()
    if _DIGITS.match(value):
        return "id", int(value)
    try:
        return "person_key", uuid.UUID(value)
    except ValueError:
        raise InvalidPersonID(f"Invalid person_id '{value[:64]}'") from None


def person_get(*, company: Company, id_or_key: str) -> Person:
    """A person by `person_id` (digits) or `person_key` (UUID); PersonNotFound, InvalidPersonID."""
    column, lookup = _person_column(id_or_key)
    person = person_by_column(company, column, lookup)
    if person is None:
        raise PersonNotFound()
    person.company = company  # spare a query when building URLs
    return person


_persons = ModelRows(Person)


def person_by_column(company: Company, column: str, value) -> Person | None:
    """The company's person whose unique `column` (id, person_key, external_person_id,
    mdn) is `value`, or None; one raw query (vibesweb.db: this runs on every person
    request and every incentive issuance)."""
    quote = connection.ops.quote_name
    field = Person._meta.get_field(column)
    param = field.get_db_prep_value(value, connection)
    tail = f"WHERE {quote('company_id')} = %s AND {quote(field.column)} = %s"
    return _persons.first(tail, [company.pk, param])


def person_route_row(route_kwargs: dict) -> RouteRow | None:
    """The person `persons/:person_id_or_key` names, for the authentication to read with
    the membership (vibesweb.api.permissions.RouteRow); None for another spelling or an
    invalid id, which `person_from_route` then reads or refuses itself."""
    if "person_id" not in route_kwargs:
        return None
    try:
        column, lookup = _person_column(route_kwargs["person_id"])
    except InvalidPersonID:
        return None
    field = Person._meta.get_field(column)
    return RouteRow(_persons, field.column, field.get_db_prep_value(lookup, connection))


def persons_by_identity(
    company: Company, *, mdn: str | None, external_person_id: str | None, lock: bool = False
) -> list[Person]:
    """The persons holding `mdn` or `external_person_id` (at most two), in one raw query,
    locked FOR UPDATE where the database can (the add path's merge decision)."""
    quote = connection.ops.quote_name
    clauses, params = [], [company.pk]
    if mdn:
        clauses.append(f"{quote('mdn')} = %s")
        params.append(mdn)
    if external_person_id:
        clauses.append(f"{quote('external_person_id')} = %s")
        params.append(external_person_id)
    if not clauses:
        return []
    tail = f"WHERE {quote('company_id')} = %s AND ({' OR '.join(clauses)})"
    if lock and connection.features.has_select_for_update:
        tail += " FOR UPDATE"
    return _persons.select(tail, params)


def person_get_by_external_id(*, company: Company, external_person_id: str) -> Person:
    person = Person.objects.filter(company=company, external_person_id=external_person_id).first()
    if person is None:
        raise PersonNotFound()
    person.company = company
    return person


def person_from_route(*, company: Company, route_kwargs: dict) -> Person:
    """The person a URL names: `persons/:person_id_or_key/...` or
    `persons/external/:external_person_id/...` (both spellings the platform documents)."""
    if "external_person_id" in route_kwargs:
        return person_get_by_external_id(
            company=company, external_person_id=route_kwargs["external_person_id"]
        )
    return person_get(company=company, id_or_key=route_kwargs["person_id"])


def persons_of_company(company: Company) -> QuerySet[Person]:
    return Person.objects.filter(company=company)


def person_id_from_text(value: str) -> int:
    """A `person_id` written as text (an import cell); InvalidPersonID unless digits."""
    text = value.strip()
    if not _DIGITS.match(text):
        raise InvalidPersonID(f"Invalid person_id '{text[:64]}'")
    return int(text)


def person_key_from_text(value: str) -> str:
    """A `person_key` written as text, in its canonical lowercase form; InvalidPersonID."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidPersonID(f"Invalid person_key '{value.strip()[:64]}'") from None


def tags_of_companies(company_ids: list[int], *, limit: int = 100) -> list[str]:
    """The first `limit` distinct tags (by name) of the persons of `company_ids`.

    Driven by the tags (few) rather than the persons (millions): each tag row probes its
    person's company by primary key (on PostgreSQL forced, see `index_probes`).
    """
    of_companies = Person.objects.filter(pk=OuterRef("person_id"), company__in=company_ids)
    tags = (
        PersonTag.objects.filter(Exists(of_companies))
        .values_list("tag", flat=True)
        .order_by("tag")
        .distinct()[:limit]
    )
    with index_probes():
        return list(tags)
