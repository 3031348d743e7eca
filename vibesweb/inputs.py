"""What every input must be before any layer looks at it (issue 16).

One module, used at each edge: the request guard middleware (paths, query strings,
headers, the Basic-auth username), the JSON parser (bodies at any depth), the shared
validation (custom field values, import rows) and the admin's forms.

- Text never holds a NUL character (PostgreSQL refuses it) nor a lone surrogate (no
  UTF-8 encoding exists for it): once stored, either breaks every read of the row.
- An id written in the request is ASCII digits only: `"²".isdigit()` is true, and
  `int("²")` raises.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import BadRequest

from vibesweb.errors import DomainError, ErrorCode

_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits always fit a 64-bit integer
# Deeper JSON than this is no platform shape; it also bounds every recursive walk.
JSON_MAX_DEPTH = 32


class UnsafeText(DomainError):
    code = ErrorCode.UNSAFE_TEXT
    error_class = "InvalidCharacter"
    default_message = "Text must not contain NUL characters or unpaired surrogates"


class TooDeep(DomainError):
    code = ErrorCode.MALFORMED_BODY
    error_class = "MalformedBody"
    default_message = f"The JSON body is nested deeper than {JSON_MAX_DEPTH} levels"


def is_unsafe_text(value: str) -> bool:
    """True if `value` holds a NUL character or a lone surrogate."""
    return _UNSAFE_TEXT.search(value) is not None


def refuse_unsafe_text(value: str, *, where: str) -> str:
    """Return `value`, or raise UnsafeText naming `where` it was found."""
    if _UNSAFE_TEXT.search(value) is not None:
        raise UnsafeText(f"{where}: text must not contain NUL characters or unpaired surrogates")
    return value


def refuse_unsafe_json(value: Any, *, where: str = "body") -> Any:
    """Walk a parsed JSON value (keys too) without recursion; raise UnsafeText for the
    first unsafe string, TooDeep past JSON_MAX_DEPTH. Returns `value`."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            refuse_unsafe_text(item, where=path)
        elif isinstance(item, dict | list):
            if depth >= JSON_MAX_DEPTH:
                raise TooDeep()
            if isinstance(item, dict):
                for key, sub in item.items():
                    refuse_unsafe_text(str(key), where=f"{path} key")
                    stack.append((sub, f"{path}.{key}"[:200], depth + 1))
            else:
                stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(item))
    return value


def require_id(text: Any, *, name: str) -> int:
    """`text` as an id for a request parameter; BadRequest (400) otherwise."""
    value = parse_id(text)
    if value is None:
        raise BadRequest(f"{name} must be a number")
    return value


def storable_text(text: str) -> str:
    """`text` without what a database column refuses (NUL on PostgreSQL, lone surrogates
    in UTF-8), for text we store that came from outside but is no user's value: error
    messages, response excerpts, the original row of an import error."""
    text = text.replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8")


def parse_id(text: Any) -> int | None:
    """`text` as a non-negative integer id if it is 1 to 18 ASCII digits, else None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 <= text < 10**18 else None
    if isinstance(text, str) and _ASCII_DIGITS.fullmatch(text):
        return int(text)
    return None
