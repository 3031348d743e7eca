"""/api/docs and /api/redoc work without internet: every asset comes from this server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .conftest import needs_chromium


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_docs_pages_reference_only_local_static_urls_that_are_served(client, path):
    html = client.get(path).content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, html
    assert not [url for url in urls if urlsplit(url).netloc], urls
    assets = [url for url in urls if url.startswith("/static/")]
    assert assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content if response.streaming else [response.content])


@needs_chromium[0]
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_docs_render_in_chromium_with_every_request_to_this_server(browser, live_server, path):
    page = browser.new_page()
    elsewhere: list[str] = []
    host = urlsplit(live_server.url).netloc

    def refuse_other_hosts(route):
        # As offline: anything not asked of this server fails instead of loading.
        if urlsplit(route.request.url).netloc not in (host, ""):
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse_other_hosts)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector("text=vibesweb API", timeout=20_000)
    page.get_by_text("/companies/{company_key}/mobiledb/persons").first.wait_for(timeout=20_000)
    # ReDoc's bundle shows its maker's logo from their CDN: the one outside request, and
    # the page is whole without it.
    allowed = {"https://cdn.redoc.ly/redoc/logo-mini.svg"} if path == "/api/redoc" else set()
    assert [url for url in elsewhere if url not in allowed] == []
