"""Cells a spreadsheet would run as a formula, guarded on export and read back on import.

OWASP's list of formula starts: = + - @, TAB and CR. An exported cell starting with one
(after any apostrophes) gets one more apostrophe in front, and the importer takes exactly
one off such a cell, so every value survives the round trip, including one that really
starts with an apostrophe (`'=x` is written `''=x` and read back `'=x`).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(text: str) -> bool:
    return text.lstrip("'")[:1] in FORMULA_STARTS and text.lstrip("'") != ""


def escape_cell(text: str) -> str:
    """A cell (value or column name) safe to open in a spreadsheet (export, reports)."""
    return "'" + text if text and _guarded(text) else text


def unescape_cell(text: str) -> str:
    """The reverse of escape_cell: one apostrophe off a guarded cell."""
    return text[1:] if text[:1] == "'" and _guarded(text) else text
