"""Message templates, one syntax everywhere: `{{field}}` is a person's custom field (or
`mdn`, `external_person_id`), and a sender may add its own names (a campaign's replies
add `{{campaign}}`). Also what a text costs as SMS: its encoding, length and segments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..persons.models import Person
from ..validation import _GSM7_CHARACTERS, CustomFieldSchema

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
PERSON_PLACEHOLDERS = {"mdn", "external_person_id"}
# GSM 03.38's extension table: each of these takes two of a segment's septets.
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def message_render(
    template: str,
    *,
    person: Person | None,
    schema: CustomFieldSchema,
    extra: dict[str, str] | None = None,
) -> str:
    """`template` with each `{{name}}` replaced: `extra`'s names first, then the person's
    fields (select options by label); unknown or unset names become empty. Campaign
    messages written before `{{campaign}}` (as `{campaign}`) still render."""
    extra = extra or {}

    def value_of(match: re.Match) -> str:
        name = match.group(1)
        if name in extra:
            return str(extra[name])
        if person is None:
            return ""
        if name in PERSON_PLACEHOLDERS:
            return str(getattr(person, name) or "")
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

    text = PLACEHOLDER.sub(value_of, template)
    for name, value in extra.items():
        text = text.replace("{" + name + "}", str(value))  # the older single-brace form
    return text


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
