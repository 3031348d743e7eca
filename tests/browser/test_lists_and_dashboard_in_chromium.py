"""Lists with their subscriber counts, opt-ins/opt-outs over time and subscribers page;
the dashboard's chart with dated axes; the product's own name; empty sections that say
what to do next."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mobiledb.models import Subscription
from mobiledb.subscriptions.services import subscription_add, subscription_opt_out
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium
from .marketer import SIZES, expect_text, horizontal_overflow, log_in, new_page, result_rows

pytestmark = needs_chromium


@SIZES
def test_lists_show_counts_activity_over_time_and_their_subscribers(
    browser, live_server, shop, size
):
    news, bob = shop["news"], shop["bob"]
    subscription_add(person=bob, subscription_list=news)
    subscription_opt_out(person=bob, subscription_list=news, reason="api_opt_out")
    # Ana's opt-in a week ago, so the chart has two different days
    Subscription.objects.filter(person=shop["ana"]).update(
        opt_in_date=timezone.now() - timedelta(days=7)
    )
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/subscriptionlist/")
    row = page.locator("#result_list tbody tr", has_text="News")
    cells = ["active_subscribers", "opt_ins_30_days", "opt_outs_30_days"]
    assert [row.locator(f"td.field-{c}").inner_text() for c in cells] == ["1", "2", "1"]
    page.click("#result_list a:text('News')")
    page.wait_for_load_state()  # the chart below is read without waiting
    expect_text(page.locator("#list-subscribers"), "1")
    chart = page.locator("#list-activity .opt-chart")
    week_ago = (timezone.now() - timedelta(days=7)).date()
    titles = chart.locator("title").all_text_contents()
    assert f"{week_ago:%a %b} {week_ago.day}: 1 opt-ins" in titles
    assert len(chart.locator(".opt-chart-tick").all()) >= 4  # dated x axis
    assert chart.locator(".opt-chart-y span").first.inner_text() == "1"  # counted y axis
    page.click("#list-subscribers-link")
    page.wait_for_url("**/person/?*list=*")
    rows = result_rows(page)
    assert len(rows) == 1 and "Ana Smith" in rows[0]
    assert horizontal_overflow(page) <= 0


@SIZES
def test_dashboard_has_our_name_dated_axes_and_says_what_to_do_first(
    browser, live_server, transactional_db, size
):
    company = CompanyFactory(key="NEW", name="New")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    page = new_page(browser, size)
    log_in(page, live_server.url)
    assert "Django administration" not in page.content()
    assert "vibesweb" in page.locator("#site-name").inner_text()
    assert page.title().endswith("vibesweb")
    assert "Create a subscription list" in page.locator("#dashboard-empty").inner_text()
    today = timezone.now().date()
    ticks = page.locator("#dashboard .opt-chart-tick").all_inner_texts()
    assert ticks[-1] == f"{today:%b} {today.day}"
    assert page.locator("#dashboard .opt-chart-x").is_visible()
    page.goto(f"{live_server.url}/admin/mobiledb/person/")
    assert "No persons yet" in page.locator("#persons-empty").inner_text()
    assert horizontal_overflow(page) <= 0
