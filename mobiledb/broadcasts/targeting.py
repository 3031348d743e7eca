"""A broadcast's targeting filters and its send schedule, as the platform writes them.

`targeting.filters` is an array of filter objects (the platform's OpenAPI, `broadcastRequest`):

    [{"name": "tier", "selector": "=", "value": ["gold", "silver"]}]

`name` is a custom field, `value` one string per value (each checked by the field's own
rules, the one validation path), `selector` one of SELECTORS (default `=`: any of the
values). The older object form `{"tier": "gold"}` is still taken, as `=` filters.

`send_schedule {method: by_time_zone, send_date, send_time, field_name, default_time_zone}`
sends at `send_time` on `send_date` in each recipient's own time zone (the person's
`timezone`, or the custom field `field_name` holding it; `default_time_zone` for the rest).

Both live in the broadcast's `filters` JSON column: a plain list of filter objects, or,
for a time-zone broadcast, `{"filters": [...], "send_schedule": {...}, "passes": [...]}`
(`passes` written when sending starts: one per distinct send instant). An object without
`send_schedule` is the older `{"field": value}` form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from vibesweb.errors import DomainError, ErrorCode

from ..persons.models import Person
from ..validation import CustomFieldSchema, clean_custom_field_value

EQUALS = ("=", "equals", "is", "in", "any")
NOT_EQUALS = ("!=", "not_equals", "is_not", "not_in")
RANGES = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
SELECTORS = (*EQUALS, *NOT_EQUALS, "starts_with", *RANGES)
# every IANA offset lies between UTC-12 and UTC+14: the first recipient's send instant
# is the local time at UTC+14
_EARLIEST_OFFSET = timedelta(hours=14)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class BroadcastTargetingInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "BroadcastErrors::Invalid"


# --- filters ---------------------------------------------------------------------------------


def filters_clean(raw: Any, schema: CustomFieldSchema) -> list[dict]:
    """Filter objects checked against the company's custom fields; the canonical list.

    Raises BroadcastTargetingInvalid, CustomFieldNotFound or InvalidCustomFieldValue (400).
    """
    if raw is None:
        return []
    if isinstance(raw, dict):  # the older {"tier": "gold"} form
        raw = [{"name": name, "selector": "=", "value": value} for name, value in raw.items()]
    if not isinstance(raw, list):
        raise BroadcastTargetingInvalid(
            'targeting.filters must be an array such as [{"name": "tier", "selector": "=", '
            '"value": ["gold"]}]'
        )
    return [_filter_clean(item, schema) for item in raw]


def _filter_clean(item: Any, schema: CustomFieldSchema) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise BroadcastTargetingInvalid("targeting.filters: each filter needs a name")
    spec = schema.spec(item["name"])  # CustomFieldNotFound (400)
    selector = item.get("selector") or "="
    if selector not in SELECTORS:
        raise BroadcastTargetingInvalid(
            f"targeting.filters: selector '{str(selector)[:20]}' is not one of "
            f"{', '.join(SELECTORS)}"
        )
    values = item.get("value")
    if spec.data_type == "multi_select" and isinstance(values, list) and selector in EQUALS:
        pass  # a list of option keys: any of them
    elif not isinstance(values, list):
        values = [values]
    if not values or any(value is None for value in values):
        raise BroadcastTargetingInvalid(f"targeting.filters: '{spec.name}' needs a value")
    if selector == "starts_with" and spec.data_type != "string":
        raise BroadcastTargetingInvalid("targeting.filters: starts_with is for string fields")
    if selector in RANGES and spec.data_type not in ("integer", "date"):
        raise BroadcastTargetingInvalid(
            f"targeting.filters: {selector} is for integer and date fields"
        )
    if selector in RANGES and len(values) != 1:
        raise BroadcastTargetingInvalid(f"targeting.filters: {selector} takes one value")
    for value in values:
        if selector != "starts_with":
            _stored(spec, value)  # InvalidCustomFieldValue (400) for a bad value
    return {"name": spec.name, "selector": selector, "value": [_text(v) for v in values]}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _stored(spec, value: Any) -> Any:
    """A filter value (written as text, or typed) in the form the person rows store."""
    from_text = isinstance(value, str)
    if spec.data_type == "multi_select":
        return clean_custom_field_value(spec, value, from_text=from_text)[0]
    return clean_custom_field_value(spec, value, from_text=from_text)


def filters_apply(persons: QuerySet[Person], filters: list[dict], schema) -> QuerySet[Person]:
    """`persons` narrowed by every filter (all must hold)."""
    for position, item in enumerate(filters):
        spec = schema.by_name.get(item["name"])
        if spec is None:
            return persons.none()  # a field deleted since scheduling matches nobody
        if spec.data_type == "multi_select":
            # matched on the JSON text of the stored list: portable to SQLite
            persons = persons.annotate(**{f"_cf_{position}": KT(f"custom_fields__{spec.name}")})
        persons = persons.filter(_condition(spec, item, position))
    return persons


def _condition(spec, item: dict, position: int) -> Q:
    selector, name = item["selector"], spec.name
    if selector == "starts_with":
        return Q(**{f"custom_fields__{name}__startswith": item["value"][0]})
    if selector in RANGES:
        return Q(**{f"custom_fields__{name}__{RANGES[selector]}": _stored(spec, item["value"][0])})
    if spec.data_type == "multi_select":
        matches = Q()
        for value in item["value"]:
            matches |= Q(**{f"_cf_{position}__contains": json.dumps(_stored(spec, value))})
    else:
        matches = Q(**{f"custom_fields__{name}__in": [_stored(spec, v) for v in item["value"]]})
    return ~matches if selector in NOT_EQUALS else matches


# --- the targeting document ---------------------------------------------------------------


@dataclass(frozen=True)
class Targeting:
    filters: list[dict]
    send_schedule: dict | None = None
    passes: list[dict] | None = None

    def stored(self) -> Any:
        if self.send_schedule is None:
            return self.filters
        document: dict = {"filters": self.filters, "send_schedule": self.send_schedule}
        if self.passes is not None:
            document["passes"] = self.passes
        return document


def _normalized(item: dict) -> dict:
    """A stored filter with its defaults (rows written by hand or by an older version)."""
    value = item.get("value")
    return {
        "name": item.get("name"),
        "selector": item.get("selector") or "=",
        "value": value if isinstance(value, list) else [value],
    }


def targeting_read(stored: Any) -> Targeting:
    """The broadcast's `filters` column as filters and schedule (see the module's doc)."""
    if isinstance(stored, list):
        return Targeting(filters=[_normalized(item) for item in stored])
    if isinstance(stored, dict) and "send_schedule" in stored:
        return Targeting(
            filters=[_normalized(item) for item in stored.get("filters") or []],
            send_schedule=stored["send_schedule"],
            passes=stored.get("passes"),
        )
    older = stored or {}
    return Targeting(
        filters=[
            {"name": name, "selector": "=", "value": value if isinstance(value, list) else [value]}
            for name, value in older.items()
        ]
    )


# --- send by time zone -----------------------------------------------------------------------


def send_schedule_clean(raw: Any, schema: CustomFieldSchema) -> dict | None:
    """The checked `send_schedule`, or None for the default `by_date` (send at
    send_scheduled_date). Raises BroadcastTargetingInvalid / CustomFieldNotFound (400)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BroadcastTargetingInvalid("send_schedule must be an object")
    method = raw.get("method") or "by_date"
    if method == "by_date":
        return None
    if method != "by_time_zone":
        raise BroadcastTargetingInvalid("send_schedule.method: by_date or by_time_zone")
    try:
        send_date = date.fromisoformat(str(raw.get("send_date")))
    except ValueError:
        raise BroadcastTargetingInvalid("send_schedule.send_date: expected YYYY-MM-DD") from None
    match = _TIME.match(str(raw.get("send_time") or ""))
    if not match:
        raise BroadcastTargetingInvalid("send_schedule.send_time: expected HH:MM (24-hour)")
    send_time = time(int(match.group(1)), int(match.group(2)))
    if in_quiet_hours(send_time):
        raise BroadcastTargetingInvalid(
            f"send_schedule.send_time: {match.group(0)} is inside the quiet hours "
            f"({settings.BROADCAST_QUIET_HOURS}, each recipient's local time)"
        )
    field_name = raw.get("field_name") or None
    if field_name is not None:
        spec = schema.spec(str(field_name))
        if spec.data_type != "string":
            raise BroadcastTargetingInvalid(
                "send_schedule.field_name: a string custom field holding IANA time zones"
            )
    default_zone = raw.get("default_time_zone") or settings.BROADCAST_DEFAULT_TIME_ZONE
    if zone_or_none(default_zone) is None:
        raise BroadcastTargetingInvalid(
            "send_schedule.default_time_zone: an IANA time zone such as America/Chicago"
        )
    return {
        "method": "by_time_zone",
        "send_date": send_date.isoformat(),
        "send_time": match.group(0),
        "field_name": field_name,
        "default_time_zone": default_zone,
    }


def zone_or_none(name: Any) -> ZoneInfo | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local_send(schedule: dict) -> datetime:
    send_date = date.fromisoformat(schedule["send_date"])
    hours, minutes = (int(part) for part in schedule["send_time"].split(":"))
    return datetime.combine(send_date, time(hours, minutes))


def send_instant(schedule: dict, zone: str) -> datetime:
    """When a recipient in `zone` gets the message (UTC)."""
    return _local_send(schedule).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def earliest_send_instant(schedule: dict) -> datetime:
    """The first moment any time zone reaches the local send time: when sending starts."""
    return (_local_send(schedule) - _EARLIEST_OFFSET).replace(tzinfo=UTC)


def _quiet_bounds() -> tuple[time, time]:
    start, end = settings.BROADCAST_QUIET_HOURS.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def in_quiet_hours(local: time) -> bool:
    """Whether a local time of day is inside BROADCAST_QUIET_HOURS (e.g. 21:00-08:00)."""
    start, end = _quiet_bounds()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(zone: str, now: datetime) -> datetime | None:
    """When the quiet hours now running in `zone` end (UTC), or None if it is not quiet."""
    local = now.astimezone(ZoneInfo(zone))
    if not in_quiet_hours(local.time().replace(tzinfo=None)):
        return None
    _, end = _quiet_bounds()
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def zone_expression(schedule: dict):
    """Where a person's time zone is read: the custom field named by the schedule, or the
    person's own `timezone`."""
    field_name = schedule.get("field_name")
    if not field_name:
        return F("timezone")
    # as plain text: a key transform's own `in`/`isnull` lookups would compare JSON values
    return Cast(KT(f"custom_fields__{field_name}"), TextField())


def send_passes(schedule: dict, zones: list[str | None]) -> list[dict]:
    """One pass per distinct send instant, earliest first: `{at, zones, default}`; the
    default time zone's pass also takes everyone whose zone is missing or unknown."""
    default_zone = schedule["default_time_zone"]
    by_instant: dict[datetime, set[str]] = {}
    for name in {*zones, default_zone}:
        if zone_or_none(name) is not None:
            by_instant.setdefault(send_instant(schedule, name), set()).add(name)
    default_at = send_instant(schedule, default_zone)
    return [
        {
            "at": moment.isoformat(),
            "zones": sorted(names),
            "default": moment == default_at,
        }
        for moment, names in sorted(by_instant.items())
    ]


def persons_of_pass(persons: QuerySet[Person], schedule: dict, passes: list[dict], index: int):
    """The persons a pass sends to: those whose time zone is one of its zones, and, for the
    default time zone's pass, those whose zone no pass names (missing, unknown, or new)."""
    current = passes[index]
    known = sorted({zone for item in passes for zone in item["zones"]})
    persons = persons.annotate(_send_zone=zone_expression(schedule))
    condition = Q(_send_zone__in=current["zones"])
    if current["default"]:
        condition |= Q(_send_zone__isnull=True) | ~Q(_send_zone__in=known)
    return persons.filter(condition)
