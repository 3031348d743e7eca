"""Admin of lists, subscriptions, broadcasts, messages, campaigns: scoped per company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from campaigns.models import InboundEvent, Participation
from mobiledb.models import Broadcast, OutboundMessage, Subscription, SubscriptionList
from tests.factories import CompanyFactory, MembershipFactory, PersonFactory, UserFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "mobiledb/subscriptionlist",
    "mobiledb/subscription",
    "mobiledb/broadcast",
    "mobiledb/outboundmessage",
    "campaigns/acquisitioncampaign",
    "campaigns/participation",
    "campaigns/inboundevent",
]


@pytest.fixture
def two_companies(company):
    other = CompanyFactory(key="OTHER", name="Other")
    rows = {}
    for owner, label in ((company, "mine"), (other, "theirs")):
        person = PersonFactory(company=owner, external_person_id=f"P-{label}")
        subscription_list = SubscriptionList.objects.create(company=owner, name=f"list-{label}")
        SubscriptionFactory(person=person, subscription_list=subscription_list)
        campaign = AcquisitionCampaignFactory(
            company=owner, name=f"campaign-{label}", lists=[subscription_list]
        )
        Participation.objects.create(
            company=owner, campaign=campaign, person=person, status="SUBSCRIBED"
        )
        broadcast = Broadcast.objects.create(
            company=owner,
            name=f"broadcast-{label}",
            send_scheduled_date=timezone.now() + timedelta(days=1),
            message_template=f"text-{label}",
        )
        broadcast.source_lists.set([subscription_list])
        OutboundMessage.objects.create(
            company=owner, person=person, mdn=person.mdn, body=f"message-{label}"
        )
        InboundEvent.objects.create(
            company=owner,
            event_id=f"e-{label}",
            mdn=person.mdn,
            message=f"sms-{label}",
            outcome="unmatched",
        )
        rows[label] = {"list": subscription_list, "campaign": campaign, "broadcast": broadcast}
    return rows


@pytest.fixture
def staff_client(company):
    user = UserFactory(username="marketer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["mobiledb", "campaigns"])
    )
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@x.io", "pw"))
    return client


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_staff_sees_only_their_companys_rows(staff_client, two_companies, changelist):
    response = staff_client.get(f"/admin/{changelist}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mine" in html or "Acme" in html
    assert "theirs" not in html and "P-theirs" not in html


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_superuser_sees_every_company(superuser_client, two_companies, changelist):
    response = superuser_client.get(f"/admin/{changelist}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mine" in html and "theirs" in html
    assert response.context["cl"].result_count == 2


def test_staff_cannot_open_another_companys_row(staff_client, two_companies):
    theirs = two_companies["theirs"]["list"]
    response = staff_client.get(f"/admin/mobiledb/subscriptionlist/{theirs.pk}/change/")
    assert response.status_code in (302, 404)


def test_broadcast_form_offers_only_own_lists_and_companies(staff_client, two_companies):
    html = staff_client.get("/admin/mobiledb/broadcast/add/").content.decode()
    assert "list-mine" in html and "list-theirs" not in html
    assert "Other (OTHER)" not in html


def test_admin_refuses_a_broadcast_in_the_past(staff_client, company, two_companies):
    mine = two_companies["mine"]["list"]
    moment = timezone.now() - timedelta(days=1)
    response = staff_client.post(
        "/admin/mobiledb/broadcast/add/",
        {
            "company": company.pk,
            "name": "late",
            "send_scheduled_date_0": moment.strftime("%Y-%m-%d"),
            "send_scheduled_date_1": moment.strftime("%H:%M:%S"),
            "message_template": "hi",
            "source_lists": [mine.pk],
            "filters": "{}",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "That time has passed" in response.content.decode()
    assert not Broadcast.objects.filter(name="late").exists()


def test_admin_creates_a_list_through_the_service(staff_client, company, emitted):
    response = staff_client.post(
        "/admin/mobiledb/subscriptionlist/add/",
        {"company": company.pk, "name": "VIP", "description": ""},
    )
    assert response.status_code == 302
    assert SubscriptionList.objects.filter(company=company, name="VIP").exists()
    assert emitted.types() == ["subscription_list_added"]


def test_admin_opt_out_action_uses_admin_opt_out(staff_client, two_companies, emitted):
    mine = Subscription.objects.get(subscription_list=two_companies["mine"]["list"])
    response = staff_client.post(
        "/admin/mobiledb/subscription/",
        {"action": "opt_out_selected", "_selected_action": [mine.pk]},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.opt_out_reason == "admin_opt_out"
    assert emitted.types() == ["subscription_removed"]


def test_admin_cancel_stops_a_broadcast_in_progress(staff_client, two_companies):
    broadcast = two_companies["mine"]["broadcast"]
    Broadcast.objects.filter(pk=broadcast.pk).update(status="in_progress")
    staff_client.post(
        "/admin/mobiledb/broadcast/",
        {"action": "cancel_selected", "_selected_action": [broadcast.pk]},
    )
    broadcast.refresh_from_db()
    assert broadcast.status == "canceled"


def test_campaign_form_refuses_a_reserved_keyword(staff_client, company, two_companies):
    response = staff_client.post(
        "/admin/campaigns/acquisitioncampaign/add/",
        {
            "company": company.pk,
            "name": "Bad",
            "keyword": "stop",
            "subscription_lists": [two_companies["mine"]["list"].pk],
            "opt_in": "single",
            "status": "active",
            "confirmation_message": "Reply YES",
            "welcome_message": "",
        },
    )
    assert response.status_code == 200
    assert "reserved" in response.content.decode()


def test_person_inlines_are_importable_for_the_person_admin():
    from campaigns.admin import ParticipationInline
    from mobiledb.broadcasts.admin import OutboundMessageInline
    from mobiledb.subscriptions.admin import SubscriptionHistoryInline

    assert SubscriptionHistoryInline.model is Subscription
    assert OutboundMessageInline.model is OutboundMessage
    assert ParticipationInline.model is Participation


def test_person_page_shows_history_participations_and_messages_to_a_marketer(
    company, two_companies
):
    """The person admin's own inlines (no patching), for a staff user of the Marketers
    group made by create_api_user --staff: its person's history, and nothing of the
    other company's twin rows."""
    from mobiledb.models import Person

    call_command("create_api_user", company.key, "marketer2", "--password", "pw", "--staff")
    client = Client()
    assert client.login(username="marketer2", password="pw")
    person = Person.objects.get(external_person_id="P-mine")
    response = client.get(f"/admin/mobiledb/person/{person.pk}/change/")
    assert response.status_code == 200
    inline_models = {f.opts.model for f in response.context["inline_admin_formsets"]}
    assert {Subscription, Participation, OutboundMessage} <= inline_models
    html = response.content.decode()
    assert "list-mine" in html and "campaign-mine" in html and "message-mine" in html
    assert "theirs" not in html
    theirs = Person.objects.get(external_person_id="P-theirs")
    assert client.get(f"/admin/mobiledb/person/{theirs.pk}/change/").status_code == 302


@pytest.mark.parametrize("kind", ["list", "campaign", "broadcast"])
def test_change_pages_open_with_the_company_fixed(staff_client, two_companies, kind):
    row = two_companies["mine"][kind]
    path = {
        "list": "mobiledb/subscriptionlist",
        "campaign": "campaigns/acquisitioncampaign",
        "broadcast": "mobiledb/broadcast",
    }[kind]
    response = staff_client.get(f"/admin/{path}/{row.pk}/change/")
    assert response.status_code == 200
    assert 'name="company"' not in response.content.decode()


def test_admin_edits_a_campaign(staff_client, two_companies):
    campaign = two_companies["mine"]["campaign"]
    response = staff_client.post(
        f"/admin/campaigns/acquisitioncampaign/{campaign.pk}/change/",
        {
            "name": "Renamed",
            "keyword": campaign.keyword,
            "subscription_lists": [two_companies["mine"]["list"].pk],
            "opt_in": "double",
            "status": "active",
            "confirmation_message": "Reply YES",
            "welcome_message": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.opt_in) == ("Renamed", "double")
