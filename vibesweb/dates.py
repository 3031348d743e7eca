"""The platform's date-time format, shared by every app (callbacks' envelopes, the API)."""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["format_platform_datetime", "parse_platform_datetime"]


def parse_platform_datetime(value: str) -> datetime:
    """`YYYY-MM-DDTHH:MM:SSZ` or with an offset (`-0500`, `-05:00`), or a bare date (UTC)."""
    text = value.strip()
    if len(text) == 10:
        parsed_date = date.fromisoformat(text)
        return datetime(parsed_date.year, parsed_date.month, parsed_date.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past datetime.max in UTC
        raise ValueError(f"'{text[:40]}' is out of range") from None


def format_platform_datetime(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
