"""The pluggable carrier lookup the import asks about every MDN it assigns (seeds/004).

`settings.PERSON_IMPORT_CARRIER_LOOKUP` names a class whose `lookup(mdns)` answers, for
each E.164 MDN, its carrier code (or None when unknown) or the error to report for that
row: CarrierLookupTransientFailure or CarrierLookupPermanentFailure. It is called once
per chunk with every MDN the chunk would assign, so a remote service sees batches.
The default accepts every possible number and knows no carrier.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from ..errors import DomainError


class AcceptAllCarrierLookup:
    """Every possible number is a mobile phone on an unknown carrier."""

    def lookup(self, mdns: list[str]) -> dict[str, str | None | DomainError]:
        return {}


DEFAULT_CARRIER_LOOKUP = "mobiledb.imports.carrier.AcceptAllCarrierLookup"


@cache
def _lookup_class(path: str) -> type:
    return import_string(path)


def carrier_lookup():
    """An instance of the configured carrier lookup."""
    path = getattr(settings, "PERSON_IMPORT_CARRIER_LOOKUP", DEFAULT_CARRIER_LOOKUP)
    return _lookup_class(path)()
