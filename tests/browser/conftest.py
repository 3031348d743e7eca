"""Fixtures of the browser tests: Debian's Chromium driven by Playwright.

Where Chromium or Playwright is missing a developer's run skips the browser tests,
visibly; in CI (`CI` set, as `.ci/run` does) they fail instead, so a broken browser
install can never pass as green.
"""

from __future__ import annotations

import importlib
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = [pytest.mark.browser]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(present: bool, what: str) -> None:
    """Skip without `what` on a developer's machine; fail in CI."""
    if present:
        return
    if in_ci():
        pytest.fail(f"{what} (CI is set: the browser tests must run, not skip)")
    pytest.skip(what)


@pytest.fixture
def browser(monkeypatch):
    require(os.path.exists(CHROMIUM), f"Debian's chromium is not installed at {CHROMIUM}")
    try:
        playwright_api = importlib.import_module("playwright.sync_api")
    except ImportError:
        playwright_api = None
    require(playwright_api is not None, "playwright is not installed")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test
    # makes are still synchronous, which Django must be told is fine here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


from .marketer import shop  # noqa: E402, F401  (the marketer tests' fixture)
