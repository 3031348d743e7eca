"""The words a short code answers whatever campaigns exist (CTIA messaging principles):
HELP/INFO, STOP and its synonyms, START/UNSTOP (SPEC section 13).

STOP opts the number out of everything, suppresses every further message to it and sends
exactly one confirmation; HELP answers the program's help text at most once a minute per
number (a storm of HELPs gets one answer); START subscribes again what STOP ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.cache import cache

from mobiledb.broadcasts.messaging import message_send_to_number
from mobiledb.models import OutboundMessage, Person
from vibesweb.tenancy.models import Company

from ..models import MessagingProgram

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
HELP_WORDS = frozenset({"HELP", "INFO"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_INTERVAL_SECONDS = 60

_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")


def is_stop(message: str, first_word: str) -> bool:
    """STOP and its synonyms as the first word ('Stop please', 'stop.'), or the whole
    message spelled with spaces or punctuation ('Opt out', 'STOP ALL', 'un-subscribe')."""
    if first_word in STOP_WORDS:
        return True
    return _NOT_ALPHANUMERIC.sub("", (message or "").upper()) in STOP_WORDS


@dataclass(frozen=True)
class ProgramTexts:
    help: str
    stop: str
    start: str


def program_texts(*, company: Company, short_code: str) -> ProgramTexts:
    """The answers of the program on `short_code`: its own, else the company default,
    else standard texts naming the company."""
    programs = {
        program.short_code: program
        for program in MessagingProgram.objects.filter(
            company=company, short_code__in={short_code, ""}
        )
    }
    program = programs.get(short_code) or programs.get("")
    name = program.program_name if program else company.name
    contact = f" Help: {program.contact}." if program and program.contact else ""
    help_text = (program.help_text if program else "") or (
        f"{name}: recurring messages.{contact} Msg & data rates may apply. Reply STOP to cancel."
    )
    stop_text = (program.stop_text if program else "") or (
        f"{name}: you are unsubscribed and will receive no further messages. "
        "Reply START to resubscribe."
    )
    start_text = (program.start_text if program else "") or (
        f"{name}: you are subscribed again. Msg & data rates may apply. Reply STOP to cancel."
    )
    return ProgramTexts(help=help_text, stop=stop_text, start=start_text)


def help_answer(*, company: Company, mdn: str, short_code: str, person: Person | None) -> bool:
    """Text the help text unless this number got it within the last minute; True if sent.

    The shared cache makes the minute hold across web nodes (`cache.add` is atomic)."""
    if not cache.add(f"help-answered:{company.pk}:{mdn}", 1, HELP_INTERVAL_SECONDS):
        return False
    texts = program_texts(company=company, short_code=short_code)
    _answer(company, mdn, short_code, person, texts.help, OutboundMessage.Kind.HELP)
    return True


def stop_confirm(*, company: Company, mdn: str, short_code: str, person: Person | None) -> None:
    texts = program_texts(company=company, short_code=short_code)
    kind = OutboundMessage.Kind.STOP_CONFIRMATION
    _answer(company, mdn, short_code, person, texts.stop, kind)


def start_confirm(*, company: Company, mdn: str, short_code: str, person: Person | None) -> None:
    texts = program_texts(company=company, short_code=short_code)
    _answer(company, mdn, short_code, person, texts.start, OutboundMessage.Kind.OTHER)


def _answer(company, mdn: str, short_code: str, person, body: str, kind: str) -> None:
    message_send_to_number(
        company=company, mdn=mdn, person=person, short_code=short_code, body=body, kind=kind
    )
