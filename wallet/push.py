"""Pushes that tell a phone "this pass changed": a pluggable backend (SPEC section 10).

`settings.WALLET_PUSH_BACKEND` names the backend class (dotted path). The default,
`DatabasePushBackend`, stores each push as a WalletPush row and logs it, so the admin
shows what a phone would have been told (like the SMS backend). `APNsPushBackend`
sends each push to Apple's push service over HTTP/2 with the pass certificate, then
stores it with its outcome.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string

from vibesweb.bulk_sql import binary_cursor, sql_array

from .models import WalletPush
from .passkit.certificates import pass_credentials_files

logger = logging.getLogger("vibesweb.wallet.push")


@dataclass(slots=True)
class Push:
    """One push to send: a WalletPush row once stored (a plain object, as a message
    makes 100,000 of them and model instances cost more than their SQL)."""

    company_id: int
    item_id: int
    registration_id: int
    push_token: str
    created_at: datetime
    backend: str = ""
    status: str = WalletPush.Status.SENT
    detail: str = ""


class PushBackend:
    """Base class: `send_pushes(pushes)` delivers Push objects (and stores them)."""

    name = "base"

    def send_pushes(self, pushes: Sequence[Push]) -> None:
        raise NotImplementedError


class DatabasePushBackend(PushBackend):
    """The default: store every push and log it (no phone is reached)."""

    name = "database"

    def send_pushes(self, pushes: Sequence[Push]) -> None:
        for push in pushes:
            push.backend = push.backend or self.name
        with transaction.atomic():  # one commit for the batch's rows, not one each
            pushes_store(pushes)
        if logger.isEnabledFor(logging.INFO):
            lines = (f"{p.push_token} {p.status} {p.detail}".rstrip() for p in pushes)
            logger.info("wallet pushes (%d):\n%s", len(pushes), "\n".join(lines))


class APNsPushBackend(DatabasePushBackend):
    """Apple's push service: `POST /3/device/<push token>` over HTTP/2, an empty JSON
    body, `apns-topic` = the pass type identifier, TLS client auth with the pass
    certificate (Apple's "Updating a Pass"). Each push is stored with its outcome."""

    name = "apns"

    def client(self) -> httpx.Client:
        cert_file, key_file = pass_credentials_files()
        # WALLET_APNS_CA_FILE: trust another CA (a local test server); Apple's chain is
        # in the system store.
        context = ssl.create_default_context(cafile=settings.WALLET_APNS_CA_FILE or None)
        context.load_cert_chain(cert_file, key_file, settings.WALLET_PASS_KEY_PASSWORD or None)
        return httpx.Client(
            base_url=settings.WALLET_APNS_URL,
            http2=True,
            verify=context,
            timeout=settings.WALLET_APNS_TIMEOUT_SECONDS,
        )

    def send_pushes(self, pushes: Sequence[Push]) -> None:
        topic = settings.WALLET_PASS_TYPE_ID
        with self.client() as client:
            for push in pushes:
                push.status, push.detail = self._send_one(client, push.push_token, topic)
                push.backend = self.name
        super().send_pushes(pushes)

    @staticmethod
    def _send_one(client: httpx.Client, push_token: str, topic: str) -> tuple[str, str]:
        try:
            response = client.post(
                f"/3/device/{push_token}",
                content=b"{}",
                headers={"apns-topic": topic, "content-type": "application/json"},
            )
        except httpx.HTTPError as error:
            logger.warning("APNs push to %s failed: %s", push_token, error)
            return WalletPush.Status.FAILED, str(error)[:255]
        if response.status_code == 200:
            return WalletPush.Status.SENT, ""
        detail = f"{response.status_code} {response.text[:200]}"
        logger.warning("APNs refused the push to %s: %s", push_token, detail)
        return WalletPush.Status.FAILED, detail


_COLUMNS = ("company_id", "item_id", "registration_id", "push_token", "backend", "status")
_TYPES = ("bigint", "bigint", "bigint", "text", "text", "text")


def pushes_store(pushes: Sequence[Push]) -> None:
    """Insert the push rows in one statement (bulk_create's per-object SQL assembly was
    most of a wallet message's time)."""
    if not pushes:
        return
    quote = connection.ops.quote_name
    created = WalletPush._meta.get_field("created_at")
    columns = ", ".join(quote(name) for name in (*_COLUMNS, "detail", "created_at"))
    marks = ", ".join(["%s"] * (len(_COLUMNS) + 2))
    rows = [
        (
            *(getattr(push, name) for name in _COLUMNS),
            push.detail or "",
            created.get_db_prep_value(push.created_at, connection),
        )
        for push in pushes
    ]
    table = quote(WalletPush._meta.db_table)
    if connection.vendor == "postgresql":
        # One INSERT of arrays bound server-side: no round trip per row, no thousands of
        # placeholders, no client-side quoting of each element.
        columns_of_rows = [list(column) for column in zip(*rows, strict=True)]
        arrays = [
            sql_array(values, kind)
            for values, kind in zip(columns_of_rows[: len(_COLUMNS)], _TYPES, strict=True)
        ]
        arrays += [("%b::text[]", columns_of_rows[-2]), ("%b::timestamptz[]", columns_of_rows[-1])]
        with binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                f"SELECT * FROM unnest({', '.join(sql for sql, _ in arrays)})",
                [param for _, param in arrays],
            )
    else:  # SQLite runs executemany's rows in its C loop, one compiled statement
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


@cache
def _backend_class(path: str) -> type[PushBackend]:
    return import_string(path)


def push_backend() -> PushBackend:
    """An instance of the configured backend (settings.WALLET_PUSH_BACKEND)."""
    return _backend_class(settings.WALLET_PUSH_BACKEND)()
