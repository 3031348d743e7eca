"""Message templates: `{{field}}` and `{{name:argument}}` placeholders, per recipient.

The one renderer of every text sent to a person (broadcasts here; confirmations in
`campaigns`; wallet messages in `wallet`). `{{mdn}}`, `{{external_person_id}}` and
`{{custom_field}}` are built in. Higher layers add placeholders with an argument through
a registry this module owns (mobiledb must not import them), filled at app ready:

    placeholder_resolver_register("incentive_code", render=issue_code, check=check_pool)

`render(person, argument) -> str` may raise `SkipRecipient`: that recipient must not get
the message at all (a broken text is worse than none); senders count the skip.
`check(company, argument)` runs when a template is saved and raises a DomainError (400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vibesweb.errors import DomainError, ErrorCode
from vibesweb.tenancy.models import Company

from ..persons.models import Person
from ..validation import _GSM7_CHARACTERS, CustomFieldSchema

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*(?::\s*([^{}]*?)\s*)?\}\}")
PERSON_PLACEHOLDERS = frozenset({"mdn", "external_person_id"})


class SkipRecipient(Exception):
    """A placeholder cannot be filled for this recipient: do not send them the message."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class TemplateInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "TemplateErrors::UnknownPlaceholder"


@dataclass(frozen=True)
class PlaceholderResolver:
    name: str
    render: Callable[[Person, str], str]
    check: Callable[[Company, str], None] | None = None


_resolvers: dict[str, PlaceholderResolver] = {}


def placeholder_resolver_register(
    name: str,
    *,
    render: Callable[[Person, str], str],
    check: Callable[[Company, str], None] | None = None,
) -> None:
    """Make `{{name:argument}}` available in every message template (idempotent: the
    last registration of a name wins, so a reloaded app does not fail)."""
    if name in PERSON_PLACEHOLDERS:
        raise ValueError(f"{name!r} is a built-in placeholder")
    _resolvers[name] = PlaceholderResolver(name, render, check)


def placeholder_resolvers() -> dict[str, PlaceholderResolver]:
    return dict(_resolvers)


def template_check(template: str, *, company: Company, schema: CustomFieldSchema) -> None:
    """Every placeholder of `template` exists: a custom field (CustomFieldNotFound) or a
    registered resolver whose `check` accepts the argument (TemplateInvalid, or the
    resolver's own DomainError)."""
    for name, argument in PLACEHOLDER.findall(template):
        resolver = _resolvers.get(name)
        if resolver is not None:
            if not argument:
                raise TemplateInvalid(f"{{{{{name}:...}}}} needs an argument after the colon")
            if resolver.check is not None:
                resolver.check(company, argument)
        elif argument:
            raise TemplateInvalid(f"Unknown placeholder {{{{{name}:{argument}}}}}")
        elif name not in PERSON_PLACEHOLDERS:
            schema.spec(name)  # CustomFieldNotFound (400) for an unknown field


def placeholders_fill(template: str, value_of: Callable[[str, str | None], object]) -> str:
    """The one substitution: each `{{name}}` / `{{name:argument}}` replaced by
    `value_of(name, argument)` (None renders empty). `template_render` fills it from a
    person; the wallet fills pass fields and messages from an item's tokens."""
    if "{{" not in template:  # most texts have no placeholder
        return template

    def replace(match: re.Match) -> str:
        value = value_of(match.group(1), match.group(2))
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(replace, template)


def placeholder_names(template: str) -> list[str]:
    """The names of the placeholders of `template`, in order."""
    return [name for name, _ in PLACEHOLDER.findall(template)]


def template_render(template: str, person: Person, *, schema: CustomFieldSchema) -> str:
    """`template` filled for `person`; raises SkipRecipient when a resolver says so.
    Unknown names render empty (a field deleted after the template was saved)."""

    def value_of(name: str, argument: str | None) -> str:
        resolver = _resolvers.get(name)
        if resolver is not None and argument:
            return resolver.render(person, argument)
        if name in PERSON_PLACEHOLDERS:
            return str(getattr(person, name) or "")
        return _custom_field_text(person, name, schema)

    return placeholders_fill(template, value_of)


def _custom_field_text(person: Person, name: str, schema: CustomFieldSchema) -> str:
    value = (person.custom_fields or {}).get(name)
    spec = schema.by_name.get(name)
    if value is None or spec is None:
        return ""
    if spec.data_type == "single_select":
        option = spec.options.get(value)
        return option.label if option else str(value)
    if spec.data_type == "multi_select":
        return ", ".join(spec.options[k].label if k in spec.options else k for k in value)
    return str(value)


# --- the admin's preview and SMS size (branch marketer) ------------------------------------

# GSM 03.38's extension table: each of these takes two of a segment's septets.
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def placeholders(template: str) -> list[str]:
    """The names of `template`'s placeholders, in order."""
    return [match.group(1) for match in PLACEHOLDER.finditer(template)]


def message_render(template: str, *, person: Person | None, schema: CustomFieldSchema) -> str:
    """`template` as `person` would read it, for a preview or a test send: their custom
    fields (select options by label), `mdn`, `external_person_id`; any other placeholder
    (an incentive code, which rendering would issue) stays as written."""

    def value_of(match: re.Match) -> str:
        name = match.group(1)
        spec = schema.by_name.get(name)
        if name in PERSON_PLACEHOLDERS:
            return str(getattr(person, name) or "") if person is not None else ""
        if spec is None:
            return match.group(0)
        value = (person.custom_fields or {}).get(name) if person is not None else None
        if value is None:
            return ""
        if spec.data_type == "single_select":
            option = spec.options.get(value)
            return option.label if option else str(value)
        if spec.data_type == "multi_select":
            return ", ".join(spec.options[k].label if k in spec.options else k for k in value)
        return str(value)

    return PLACEHOLDER.sub(value_of, template)


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # characters as the network counts them (GSM-7 extended ones count 2)
    segments: int
    per_segment: int

    def describe(self) -> str:
        plural = "s" if self.segments != 1 else ""
        return (
            f"{self.length} characters, {self.encoding}: {self.segments} SMS{plural} "
            f"(up to {self.per_segment} characters each)"
        )


def sms_size(text: str) -> SmsSize:
    """How `text` travels as SMS: GSM-7 when every character is in the GSM alphabet (160
    characters in one message, 153 per part when split), otherwise UCS-2 (70, then 67),
    counting characters outside the Basic Multilingual Plane (emoji) as two."""
    if all(ch in _GSM7_CHARACTERS for ch in text):
        length = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    if length <= single:
        return SmsSize(encoding, length, 1 if length else 0, single)
    return SmsSize(encoding, length, -(-length // multi), multi)
