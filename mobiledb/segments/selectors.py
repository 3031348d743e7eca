"""The persons list's filters as one function: the admin list, segments, bulk actions and
the CSV export all read persons through `persons_filtered`, so each sees the same persons."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast, Upper

from vibesweb.tenancy.models import Company

from ..persons.models import Person, PersonTag
from ..persons.selectors import custom_field_schema
from ..subscriptions.models import Subscription
from ..validation import CustomFieldSchema, normalize_mdn_for_search
from . import search
from .models import PersonSearchEntry, Segment

CUSTOM_FIELD_PARAM = "cf."
DATE_PARAMS = ("created_at__gte", "created_at__lt", "updated_at__gte", "updated_at__lt")
# The persons list's query parameters a segment keeps (paging, ordering and the admin's
# own bookkeeping are not filters).
FILTER_PARAMS = ("q", "company", "list", "status", "tag", *DATE_PARAMS)
STATUS_CHOICES = [
    ("subscribed", "Subscribed to a list"),
    ("opted_out", "Opted out of every list"),
    ("never", "Never subscribed"),
]
_SHORTEST_MDN_SUFFIX = 3


def _is_id(raw: str) -> bool:
    """ASCII digits that fit a database id ("²".isdigit() is true, int("²") fails)."""
    return re.fullmatch(r"[0-9]{1,18}", raw) is not None


def filters_from_params(params) -> dict[str, str]:
    """The filter parameters of a persons list query string (a QueryDict or a dict)."""
    kept: dict[str, str] = {}
    for key in params:
        if key in FILTER_PARAMS or key.startswith(CUSTOM_FIELD_PARAM):
            value = params.get(key)
            if value not in (None, ""):
                kept[key] = str(value)
    return kept


def persons_search(persons: QuerySet[Person], term: str) -> QuerySet[Person]:
    """The persons list's search box.

    Whole MDNs (any common format), person keys, person ids are exact indexed lookups; a
    run of digits also finds MDNs ending in it (a partial MDN such as `0003`); external
    ids match whatever their case; any other word matches custom field values (names
    included), every word of the term in the same person. Partial MDNs and values are
    read from the search index (mobiledb.segments.search) where it is up to date.
    """
    term = term.strip()
    if not term:
        return persons
    mdn = normalize_mdn_for_search(term)
    if mdn is not None:
        return persons.filter(mdn=mdn)
    try:
        return persons.filter(person_key=uuid.UUID(term))
    except ValueError:
        pass
    # Indexed lookups first (an id, an external id in any case); only when they find
    # nobody does the search scan values (a name, a partial MDN).
    # The any-case external id match reads its expression index alone (ids, then scoped
    # by `persons`): next to a company filter, SQLite would walk the company instead.
    ids = list(
        Person.objects.alias(_external_upper=Upper("external_person_id"))
        .filter(_external_upper=term.upper())
        .values_list("pk", flat=True)[:100]
    )
    digits = term.lstrip("+")
    if re.fullmatch(r"\+?[0-9]+", term) and len(digits) < 19:
        ids.append(int(digits))
    found = persons.filter(pk__in=ids)
    if found.exists():
        return found
    if re.fullmatch(r"\+?[0-9]+", term):
        if len(digits) < _SHORTEST_MDN_SUFFIX:
            return found
        return _indexed_or_scanned(
            persons, scan=Q(mdn__endswith=digits), hits=lambda cap: _mdn_suffix_hits(digits, cap)
        )
    words = term.split()
    scan = Q()
    for word in words:
        scan &= Q(_custom_text__icontains=word)
    persons = persons.alias(_custom_text=Cast("custom_fields", TextField()))
    if any(len(word) < 3 or any(c in word for c in "%_\\") for word in words):
        return persons.filter(scan)  # no trigram to look up: scan
    return _indexed_or_scanned(persons, scan=scan, hits=lambda cap: search.hits(words, cap))


# Above this many index hits (or persons changed since the indexer's mark) a search is a
# scan that stops early (a common value: the first page and the capped count find their
# persons among the first rows), not a list of ids.
SEARCH_IDS_CAP = 10_000


def _mdn_suffix_hits(digits: str, cap: int) -> list[int]:
    """Ids of entries whose MDN ends in `digits`: the reversed digits' prefix, a range."""
    prefix = digits[::-1]
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    entries = PersonSearchEntry.objects.filter(mdn_reversed__gte=prefix, mdn_reversed__lt=upper)
    return list(entries.values_list("person_id", flat=True)[:cap])


def _ids_of(persons: QuerySet[Person], ids: list[int]) -> list[int]:
    """Those of `ids` that are in `persons`, probed id by id. As `persons.filter(pk__in=
    ids)` SQLite (no statistics) walks the company's index instead: 75 ms for 100 ids
    among a million persons."""
    if not ids:
        return []
    inside = persons.order_by().filter(pk=OuterRef("pk"))
    return list(
        Person.objects.filter(Exists(inside), pk__in=ids).order_by().values_list("pk", flat=True)
    )


def _indexed_or_scanned(persons: QuerySet[Person], *, scan: Q, hits) -> QuerySet[Person]:
    """`persons` matching `scan`, read from the search index where it is up to date.

    Entries are trusted for persons changed at or before the indexer's mark; persons
    changed after it (few, when the indexer keeps up) are found through the
    `(company, updated_at)` index and scanned. Each part is a list of ids, read without
    the company (an index lookup alone; on SQLite the planner would otherwise walk the
    company's rows), then scoped by `persons`: another company's persons can make a
    search take the scan, never change what it finds. With many (a common value, or the
    indexer far behind after a big import) the scan alone, exact too.
    """
    mark = search.indexed_through()
    if mark is None:
        return persons.filter(scan)
    cap = SEARCH_IDS_CAP + 1
    # every company, as literals: a range of the (company, updated_at) index per company
    companies = list(Company.objects.values_list("pk", flat=True))
    changed = Person.objects.filter(company_id__in=companies, updated_at__gt=mark)
    recent = list(changed.values_list("pk", flat=True)[:cap])
    indexed = hits(cap)
    if len(recent) >= cap or len(indexed) >= cap:
        return persons.filter(scan)
    matched = _ids_of(persons.filter(scan), recent)
    matched += _ids_of(persons.filter(updated_at__lte=mark), indexed)
    # The ids were read through `persons`' filters (its company scoping included): the
    # result is these ids alone, so every database probes them. With the company filter
    # kept, SQLite (no statistics) counted them by walking the company's index (76 ms
    # for 100 persons of a million).
    return Person.objects.filter(pk__in=matched).order_by(*persons.query.order_by)


def _with_custom_field(
    persons: QuerySet[Person], schema: CustomFieldSchema, name: str, raw: str
) -> QuerySet[Person]:
    spec = schema.by_name.get(name)
    if spec is None:
        return persons.none()
    if spec.data_type == "multi_select":
        # a multi-select holds a JSON list; one key is matched inside its text
        alias = f"_cf_text_{spec.id}"
        persons = persons.alias(**{alias: Cast(f"custom_fields__{name}", TextField())})
        return persons.filter(**{f"{alias}__contains": f'"{raw}"'})
    if spec.data_type == "boolean":
        value = raw.lower() in ("true", "1", "yes")
        return persons.filter(**{f"custom_fields__{name}": value})
    if spec.data_type == "string":
        return persons.filter(**{f"custom_fields__{name}__iexact": raw})
    if spec.data_type in ("integer", "decimal"):
        try:
            number: Any = int(raw) if spec.data_type == "integer" else float(raw)
        except ValueError:
            return persons.none()
        return persons.filter(**{f"custom_fields__{name}": number})
    return persons.filter(**{f"custom_fields__{name}": raw})


def _date_value(raw: str) -> date | datetime | None:
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def persons_filtered(
    persons: QuerySet[Person], filters: dict[str, str], *, company: Company | None = None
) -> QuerySet[Person]:
    """`persons` narrowed by the persons list's filters (see FILTER_PARAMS; `cf.<name>`
    a custom field's value). Bad values match nobody rather than failing: a saved segment
    outlives a deleted list or field."""
    for key, raw in filters.items():
        if key == "q":
            persons = persons_search(persons, raw)
        elif key == "company":
            persons = persons.filter(company_id=int(raw)) if _is_id(raw) else persons.none()
        elif key == "list":
            if not _is_id(raw):
                persons = persons.none()
                continue
            # driven by the list's subscriptions (an index), not a probe per person
            active = Subscription.objects.filter(
                subscription_list_id=int(raw), opt_out_date__isnull=True
            ).values("person_id")
            persons = persons.filter(pk__in=active)
        elif key == "status":
            persons = _with_status(persons, raw)
        elif key == "tag":
            persons = persons.filter(
                Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag=raw))
            )
        elif key in DATE_PARAMS:
            moment = _date_value(raw)
            persons = persons.filter(**{key: moment}) if moment else persons.none()
        elif key.startswith(CUSTOM_FIELD_PARAM) and company is not None:
            name = key[len(CUSTOM_FIELD_PARAM) :]
            persons = _with_custom_field(persons, custom_field_schema(company), name, raw)
    return persons


def _with_status(persons: QuerySet[Person], status: str) -> QuerySet[Person]:
    active = Subscription.objects.filter(person=OuterRef("pk"), opt_out_date__isnull=True)
    any_subscription = Subscription.objects.filter(person=OuterRef("pk"))
    if status == "subscribed":
        subscribed = Subscription.objects.filter(opt_out_date__isnull=True).values("person_id")
        return persons.filter(pk__in=subscribed)
    if status == "opted_out":
        return persons.filter(Exists(any_subscription), ~Exists(active))
    if status == "never":
        return persons.filter(~Exists(any_subscription))
    return persons.none()


def segment_persons(segment: Segment) -> QuerySet[Person]:
    """The segment's persons now (a live set)."""
    persons = Person.objects.filter(company_id=segment.company_id)
    return persons_filtered(persons, segment.filters or {}, company=segment.company)


# Counting stops here: a segment's filters may scan (custom field values), and "more
# than 10,000" is as useful to a marketer as the exact figure.
COUNT_CAP = 10_000


def capped_count(persons: QuerySet[Person], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many persons, counting at most `cap` (exact below it): (count, capped)."""
    found = persons.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap
