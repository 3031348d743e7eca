"""Subscribe and opt out from the person page and in bulk (a selection, or the whole
filtered result by a Celery task with live progress), tag and untag in bulk: through the
services the API uses, so the same callbacks fire."""

from __future__ import annotations

import pytest

from callbacks.models import CallbackEvent
from mobiledb.models import Person, PersonBulkAction, PersonTag, Subscription
from mobiledb.segments.tasks import person_bulk_action
from tests.factories import CallbackRegistrationFactory

from .conftest import needs_chromium
from .marketer import SIZES, expect_message, horizontal_overflow, log_in, new_page

pytestmark = needs_chromium


@pytest.fixture
def registered(shop):
    for callback_type in ("subscription_added", "subscription_removed"):
        CallbackRegistrationFactory(company=shop["company"], callback_type=callback_type)
    return shop


def events(callback_type: str) -> int:
    return CallbackEvent.objects.filter(callback_type=callback_type).count()


@SIZES
def test_subscribe_and_opt_out_from_the_person_page(browser, live_server, registered, size):
    bob, news = registered["bob"], registered["news"]
    page = new_page(browser, size)
    log_in(page, live_server.url, f"/admin/mobiledb/person/{bob.pk}/change/")
    assert "Bob Jones" in page.locator("h1").inner_text()
    assert page.title().startswith("Bob Jones")
    page.select_option("#subscribe-list", str(news.pk))
    page.click("#do-subscribe")
    expect_message(page, "Subscribed to News")
    assert Subscription.objects.filter(person=bob, opt_out_date__isnull=True).count() == 1
    assert events("subscription_added") == 1
    page.select_option("#subscribe-list", str(news.pk))
    page.click("#do-opt-out")
    expect_message(page, "Opted out of News")
    ended = Subscription.objects.get(person=bob)
    assert ended.opt_out_reason == "admin_opt_out"
    assert events("subscription_removed") == 1
    assert horizontal_overflow(page) <= 0


@SIZES
def test_bulk_tag_and_subscribe_a_selection(browser, live_server, registered, size):
    ana, bob, news = registered["ana"], registered["bob"], registered["news"]
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    for person in (ana, bob):
        page.check(f"input.action-select[value='{person.pk}']")
    page.select_option("select[name=action]", "add_tag")
    page.fill("input[name=tag]", "spring-sale")
    page.click("button[name=index]")
    expect_message(page, "done for 2 of 2 persons")
    assert set(PersonTag.objects.filter(tag="spring-sale").values_list("person_id", flat=True)) == {
        ana.pk,
        bob.pk,
    }
    for person in (ana, bob):
        page.check(f"input.action-select[value='{person.pk}']")
    page.select_option("select[name=action]", "subscribe_to_list")
    page.select_option("select[name=subscription_list]", str(news.pk))
    page.click("button[name=index]")
    # Ana was subscribed already: one new subscription, one callback
    expect_message(page, "done for 1 of 2 persons")
    assert events("subscription_added") == 1
    page.check(f"input.action-select[value='{bob.pk}']")
    page.select_option("select[name=action]", "remove_tag")
    page.fill("input[name=tag]", "spring-sale")
    page.click("button[name=index]")
    assert not PersonTag.objects.filter(person=bob, tag="spring-sale").exists()


def test_a_bulk_action_without_its_list_says_what_is_missing(browser, live_server, shop):
    page = new_page(browser, "desktop")
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    page.check(f"input.action-select[value='{shop['bob'].pk}']")
    page.select_option("select[name=action]", "subscribe_to_list")
    page.click("button[name=index]")
    expect_message(page, "Choose a subscription list.")


@SIZES
def test_opt_out_the_whole_filtered_result_runs_as_a_task_with_live_progress(
    browser, live_server, registered, size
):
    company, news = registered["company"], registered["news"]
    Person.objects.bulk_create(
        Person(company=company, mdn=f"+1612600{n:04d}", custom_fields={"tier": "gold"})
        for n in range(600)
    )
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/person/?cf.tier=gold")
    # subscribe every gold person (not only this page of 50): the whole filtered result
    page.check("#action-toggle")
    page.click("div.actions span.question a")  # "Select all N persons"
    page.select_option("select[name=action]", "subscribe_to_list")
    page.select_option("select[name=subscription_list]", str(news.pk))
    page.click("button[name=index]")
    expect_message(page, "started for 601 persons")
    page.click("ul.messagelist a:text('See its progress')")
    page.wait_for_selector("#bulk-progress")
    assert page.locator("#bulk-status").inner_text() == "pending"

    action = PersonBulkAction.objects.get()
    person_bulk_action(action.pk)  # what the worker does with the queued task
    page.wait_for_function("document.getElementById('bulk-status').textContent === 'done'")
    assert page.locator("#bulk-processed").inner_text() == "601"
    assert page.locator("#bulk-changed").inner_text() == "600"  # Ana was subscribed
    assert Subscription.objects.filter(subscription_list=news, opt_out_date=None).count() == 601
    assert events("subscription_added") == 600
    assert Subscription.objects.filter(person=registered["bob"]).count() == 0  # silver
