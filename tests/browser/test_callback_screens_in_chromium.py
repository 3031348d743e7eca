"""The callback failure queue in Chromium: a long raw error does not stretch the page, and
the health column says "failing" at a 100% failure rate (issue 14)."""

from __future__ import annotations

import pytest

from callbacks.models import CallbackDelivery, DeliveryAttempt
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import CallbackRegistrationFactory, CompanyFactory, PersonFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium
from .test_person_add_in_chromium import log_in

pytestmark = needs_chromium
RAW = (
    "connection error: ConnectionError: HTTPConnectionPool(host='crm.example.com', port=443): "
    "Max retries exceeded with url: /hooks/vibes/persons/added/with/a/very/long/path "
    "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at "
    "0x7f0e1c2b3d40>: Failed to establish a new connection: [Errno 111] Connection refused'))"
)


@pytest.fixture
def failed_deliveries(transactional_db):
    company = CompanyFactory(key="SHOP", name="Shop")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    registration = CallbackRegistrationFactory(company=company, url="http://127.0.0.1:9/hook")
    for _ in range(3):
        person_added_emit(PersonFactory(company=company))
    CallbackDelivery.objects.update(state="failed", attempts=1, last_error=RAW)
    for delivery in CallbackDelivery.objects.all():
        DeliveryAttempt.objects.create(
            delivery=delivery, registration=registration, number=1, error=RAW
        )
    return registration


@pytest.mark.parametrize("width", [1280, 390])
def test_the_failure_queue_fits_the_window_and_reads_in_words(
    browser, live_server, failed_deliveries, width
):
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/callbacks/callbackdelivery/?state__exact=failed")
    page.wait_for_selector("#result_list")

    error_cell = page.locator("#result_list td.field-error").first.bounding_box()
    assert error_cell["width"] < 250  # one short line, not the exception's repr
    if width >= 1280:
        table = page.locator("#result_list").bounding_box()
        content = page.locator("#content").bounding_box()
        assert table["width"] <= content["width"] * 1.1  # was several screens wide
    assert page.locator("#result_list td.field-error").first.inner_text() == "connection refused"
    assert "NewConnectionError" not in page.locator("#result_list").inner_text()

    page.goto(f"{live_server.url}/admin/callbacks/callbackregistration/")
    assert "failing (100% of attempts)" in page.locator("#result_list").inner_text()
