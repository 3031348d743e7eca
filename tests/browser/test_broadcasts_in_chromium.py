"""Preparing a broadcast in Chromium: the audience before sending (lists and segments),
a preview personalized for a sample recipient, SMS length and segments (GSM-7 vs UCS-2),
a test send to one number, and every form error at once in a marketer's words."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mobiledb.broadcasts.services import broadcast_send_next_batch, broadcast_start
from mobiledb.models import Broadcast, OutboundMessage, Person, Segment
from mobiledb.subscriptions.services import subscription_add, subscription_list_create

from .conftest import needs_chromium
from .marketer import SIZES, expect_message, horizontal_overflow, log_in, new_page

pytestmark = needs_chromium


def fill_broadcast(page, *, name: str, message: str, when: str) -> None:
    page.fill("#id_name", name)
    date, time = when.split(" ")
    page.fill("#id_send_scheduled_date_0", date)
    page.fill("#id_send_scheduled_date_1", time)
    page.fill("#id_message_template", message)


@SIZES
def test_audience_preview_sms_size_and_test_send_before_sending(browser, live_server, shop, size):
    news = shop["news"]
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/broadcast/add/")
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d 10:00:00")
    fill_broadcast(page, name="Spring", message="Hi {{first_name}}, 20% off today!", when=tomorrow)
    page.select_option("#id_source_lists", [str(news.pk)])
    page.wait_for_function("document.getElementById('preview-audience').textContent === '1 person'")
    assert page.locator("#preview-text").inner_text() == "Hi Ana, 20% off today!"
    assert "Ana Smith" in page.locator("#preview-sample").inner_text()
    assert "GSM-7: 1 SMS" in page.locator("#preview-sms").inner_text()

    page.fill("#id_message_template", "Hi {{first_name}} 🎉 " + "x" * 70)
    page.wait_for_function("document.getElementById('preview-sms').textContent.includes('UCS-2')")
    assert "2 SMSs" in page.locator("#preview-sms").inner_text()

    page.fill("#test-mdn", "(612) 555-0999")
    page.click("#test-send")
    page.wait_for_function(
        "document.getElementById('test-result').textContent.includes('Test sent')"
    )
    test = OutboundMessage.objects.get(mdn="+16125550999")
    assert test.body.startswith("Hi Ana 🎉")  # personalized for the sample recipient
    assert not Broadcast.objects.exists()  # a test sends nothing else, saves nothing
    assert horizontal_overflow(page) <= 0


@SIZES
def test_every_form_error_at_once_in_a_marketers_words(browser, live_server, shop, size):
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/broadcast/add/")
    fill_broadcast(page, name="Oops", message="Hi {{frist_name}}", when="2020-01-01 10:00:00")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")  # the form again, with its errors
    errors = page.locator(".errorlist").all_inner_texts()
    text = " ".join(errors)
    assert "That time has passed" in text
    assert "{{frist_name}}: not a custom field of yours" in text
    assert "Choose at least one list or segment to send to." in text
    assert len(errors) >= 3


def test_a_broadcast_to_a_segment_reaches_its_subscribed_members(browser, live_server, shop):
    company, ana, bob = shop["company"], shop["ana"], shop["bob"]
    promos = subscription_list_create(company=company, name="Promos")
    subscription_add(person=bob, subscription_list=promos)
    outsider = Person.objects.create(company=company, mdn="+16125550777",
                                     custom_fields={"city": "Austin"})  # fmt: skip
    page = new_page(browser, "desktop")
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    page.goto(f"{live_server.url}/admin/mobiledb/person/?cf.city=austin")
    page.fill("#segment-name", "Austin")
    page.click(".segment-save input[type=submit]")
    expect_message(page, "Saved the segment")
    segment = Segment.objects.get(name="Austin")
    assert segment.filters == {"cf.city": "austin"}

    page.goto(f"{live_server.url}/admin/mobiledb/segment/")
    row = page.locator("#result_list tbody tr", has_text="Austin").inner_text()
    assert "\t2\t" in row or " 2 " in f" {row} "  # Ana and the outsider, live

    page.goto(f"{live_server.url}/admin/mobiledb/broadcast/add/")
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d 10:00:00")
    fill_broadcast(page, name="Austin news", message="Hello {{city}}", when=tomorrow)
    page.select_option("#id_source_lists", [str(promos.pk)])
    page.select_option("#id_segments", [str(segment.pk)])
    # Bob (Promos) + Ana (Austin, subscribed to News); the outsider never opted in
    page.wait_for_function(
        "document.getElementById('preview-audience').textContent === '2 persons'"
    )
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    broadcast = Broadcast.objects.get(name="Austin news")
    Broadcast.objects.filter(pk=broadcast.pk).update(send_scheduled_date=timezone.now())
    assert broadcast_start(broadcast_id=broadcast.pk)
    while broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=1):
        pass
    sent = dict(OutboundMessage.objects.filter(broadcast=broadcast).values_list("mdn", "body"))
    assert sent == {ana.mdn: "Hello Austin", bob.mdn: "Hello Boston"}
    assert outsider.mdn not in sent
