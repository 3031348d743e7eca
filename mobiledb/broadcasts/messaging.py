"""Outbound SMS: one service, `messages_send`, and a pluggable backend (SPEC section 5).

`settings.MESSAGE_BACKEND` names the backend class (dotted path). The default,
`DatabaseMessageBackend`, stores each message as an OutboundMessage row and logs it, so
the admin shows exactly what a phone would have received. A real SMS gateway is a
subclass whose `send_messages` transmits and then stores (call `super()`).

Callers decide who may receive a message (broadcasts select only active subscribers);
`messages_send` is the single point every message passes through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from ..subscriptions.models import SuppressedNumber
from .models import OutboundMessage

logger = logging.getLogger("vibesweb.messages")


class MessageBackend:
    """Base class: `send_messages(messages)` delivers unsaved OutboundMessage objects.

    Raise an exception to refuse the whole batch: the caller's transaction rolls back,
    so nothing is recorded as sent.
    """

    name = "base"

    def send_messages(self, messages: Sequence[OutboundMessage]) -> None:
        raise NotImplementedError


class DatabaseMessageBackend(MessageBackend):
    """The default: store every message and log it (no phone is reached)."""

    name = "database"
    insert_batch_size = 1000

    def send_messages(self, messages: Sequence[OutboundMessage]) -> None:
        for message in messages:
            message.backend = self.name
        OutboundMessage.objects.bulk_create(messages, batch_size=self.insert_batch_size)
        if logger.isEnabledFor(logging.INFO):
            for message in messages:
                logger.info("SMS to %s (%s): %s", message.mdn, message.kind, message.body)


@cache
def _backend_class(path: str) -> type[MessageBackend]:
    return import_string(path)


def message_backend() -> MessageBackend:
    """An instance of the configured backend (settings.MESSAGE_BACKEND)."""
    return _backend_class(settings.MESSAGE_BACKEND)()


def messages_send(messages: Sequence[OutboundMessage]) -> int:
    """Hand unsaved messages to the backend; returns how many were sent.

    Call it inside the transaction that decided to send them (a broadcast batch, a
    participation), so a rollback never leaves a message recorded without its cause.
    A number that texted STOP gets nothing here but the opt-out confirmation and answers
    to its own HELP (SPEC section 13), whoever asks to text it.
    """
    messages = _without_suppressed([m for m in messages if m.mdn])
    if messages:
        message_backend().send_messages(messages)
    return len(messages)


def message_send_to_number(
    *, company, mdn: str, body: str, kind: str, short_code: str = "", person=None
) -> OutboundMessage | None:
    """Send one SMS to a number that may not be a person yet (a HELP or STOP answer)."""
    message = OutboundMessage(
        company=company, person=person, mdn=mdn, short_code=short_code, body=body, kind=kind
    )
    return message if messages_send([message]) else None


# What a number that texted STOP may still receive (CTIA): the one confirmation of its
# opt-out, and the program's help text when it asks for it.
_ALLOWED_AFTER_STOP = {OutboundMessage.Kind.STOP_CONFIRMATION, OutboundMessage.Kind.HELP}


def _without_suppressed(messages: list[OutboundMessage]) -> list[OutboundMessage]:
    candidates = [m for m in messages if m.kind not in _ALLOWED_AFTER_STOP]
    if not candidates:
        return messages
    suppressed = set(
        SuppressedNumber.objects.filter(
            company_id__in={m.company_id for m in candidates},
            mdn__in={m.mdn for m in candidates},
        ).values_list("company_id", "mdn")
    )
    if not suppressed:
        return messages
    kept = []
    for message in messages:
        if message.kind not in _ALLOWED_AFTER_STOP and (message.company_id, message.mdn) in (
            suppressed
        ):
            logger.info("SMS to %s not sent: the number texted STOP", message.mdn)
            continue
        kept.append(message)
    return kept


# Answers to something the phone itself just asked for (a keyword, an API opt-in).
_REQUESTED_KINDS = {OutboundMessage.Kind.CONFIRMATION_REQUEST, OutboundMessage.Kind.WELCOME}


def message_send(
    *, company, person, body: str, kind: str, short_code: str = "", broadcast=None
) -> OutboundMessage | None:
    """Send one SMS to `person`'s MDN; None (nothing sent) when the person has no MDN or
    is an opted-out subscriber (subscribed once, active nowhere) and the message is not
    the answer to their own opt-in (a confirmation request or welcome)."""
    if not person.mdn:
        return None
    if kind not in _REQUESTED_KINDS and _opted_out_everywhere(person):
        logger.info("SMS to %s not sent: opted out of every list", person.mdn)
        return None
    message = OutboundMessage(
        company=company,
        person=person,
        mdn=person.mdn,
        short_code=short_code,
        body=body,
        kind=kind,
        broadcast=broadcast,
    )
    return message if messages_send([message]) else None


def _opted_out_everywhere(person) -> bool:
    subscriptions = person.subscriptions.all()
    return subscriptions.exists() and not subscriptions.filter(opt_out_date__isnull=True).exists()
