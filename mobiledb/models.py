"""The `mobiledb` app's models, defined in its capability packages and re-exported here so
the app label (and every migration) stays `mobiledb`."""

from __future__ import annotations

from .broadcasts.models import Broadcast, OutboundMessage
from .imports.models import PersonImport, PersonImportError
from .persons.models import CustomField, CustomFieldOption, Person, PersonTag
from .segments.models import PersonBulkAction, PersonSearchEntry, PersonSearchState, Segment
from .subscriptions.models import (
    ConsentChain,
    ConsentRecord,
    Subscription,
    SubscriptionList,
    SuppressedNumber,
)

__all__ = [
    "Broadcast",
    "ConsentChain",
    "ConsentRecord",
    "CustomField",
    "CustomFieldOption",
    "OutboundMessage",
    "Person",
    "PersonImport",
    "PersonImportError",
    "PersonBulkAction",
    "PersonSearchEntry",
    "PersonSearchState",
    "PersonTag",
    "Segment",
    "Subscription",
    "SubscriptionList",
    "SuppressedNumber",
]
