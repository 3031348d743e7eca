"""Entry points the rest of the system calls when something callback-worthy happens.

PLACEHOLDER until the callbacks subsystem lands (issue 3): these are no-ops.
"""

from __future__ import annotations


def person_added_emit(person) -> None:
    return None


def person_updated_emit(person) -> None:
    return None
