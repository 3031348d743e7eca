"""Person search: `?mdn=&external_person_id=&person_key=&updated_since=` and custom fields.

Custom field filters are written `custom_fields[NAME]=VALUE` (or `custom_fields.NAME=`),
or by the field's own name (`?tier=gold`, as the platform filters wallet items by token);
the value is read as text and checked by the field's own rules, and a multi-select
matches persons that have that option.
"""

from __future__ import annotations

import json
import re

import django_filters
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from vibesweb.api.views import PAGINATION_PARAMETERS, InvalidQueryParameter

from ...validation import (
    clean_custom_field_value,
    normalize_mdn_for_search,
    parse_platform_datetime,
)
from ..models import Person
from ..selectors import custom_field_schema

_CUSTOM_FIELD_PARAM = re.compile(r"^custom_fields(?:\[(?P<a>.+)\]|\.(?P<b>.+))$")


class PersonFilter(django_filters.FilterSet):
    mdn = django_filters.CharFilter(method="filter_mdn")
    external_person_id = django_filters.CharFilter(field_name="external_person_id")
    person_key = django_filters.UUIDFilter(field_name="person_key")
    updated_since = django_filters.CharFilter(method="filter_updated_since")

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_mdn(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        mdn = normalize_mdn_for_search(value)
        if mdn is None:
            raise InvalidQueryParameter(f"mdn: '{value[:32]}' is not a phone number")
        return queryset.filter(mdn=mdn)

    def filter_updated_since(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        try:
            moment = parse_platform_datetime(value)
        except ValueError:
            raise InvalidQueryParameter(
                "updated_since: expected a date such as 2017-01-15T15:34:52Z"
            ) from None
        return queryset.filter(updated_at__gte=moment)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.is_valid():
            problems = [f"{name}: {' '.join(errs)}" for name, errs in self.errors.items()]
            raise InvalidQueryParameter("; ".join(problems))
        queryset = super().filter_queryset(queryset)
        return self._filter_custom_fields(queryset)

    @classmethod
    def parameter_allowed(cls, name: str, *, company) -> bool:
        """A search parameter, `custom_fields[NAME]`, or a defined custom field's name."""
        if name in cls.base_filters or name in PAGINATION_PARAMETERS:
            return True
        return _CUSTOM_FIELD_PARAM.match(name) is not None or custom_field_schema(
            company
        ).has_field(name)

    def _custom_field_name(self, param: str) -> str | None:
        if param in self.base_filters or param in PAGINATION_PARAMETERS:
            return None  # the search's own parameters win over a field of the same name
        match = _CUSTOM_FIELD_PARAM.match(param)
        if match:
            return match.group("a") or match.group("b")
        return param if custom_field_schema(self.request.company).has_field(param) else None

    def _filter_custom_fields(self, queryset: QuerySet) -> QuerySet:
        company = self.request.company
        for param, value in self.data.items():
            name = self._custom_field_name(param)
            if name is None:
                continue
            spec = custom_field_schema(company).spec(name)
            if spec.data_type == "multi_select":
                # Matched on the JSON text of the stored list: portable to SQLite, whose
                # JSON fields have no `contains` lookup.
                keys = clean_custom_field_value(spec, value, from_text=True)
                as_text = queryset.annotate(_cf_text=KT(f"custom_fields__{name}"))
                for key in keys:
                    as_text = as_text.filter(_cf_text__contains=json.dumps(key))
                queryset = as_text
            else:
                stored = clean_custom_field_value(spec, value, from_text=True)
                queryset = queryset.filter(**{f"custom_fields__{name}": stored})
        return queryset
