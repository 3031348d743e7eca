"""A missing browser skips on a developer's machine and fails in CI."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped

from .conftest import require


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_a_missing_browser_fails_in_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(Failed, match="must run, not skip"):
        require(False, "chromium is missing")


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_a_missing_browser_skips_for_a_developer(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(Skipped):
        require(False, "chromium is missing")


def test_a_present_browser_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("CI", "1")
    require(True, "chromium is missing")
