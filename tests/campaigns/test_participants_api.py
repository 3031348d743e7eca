"""`.../campaigns/acquisition[/:id[/participants]]` and pending acquisitions (SPEC section 3)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import AcquisitionCampaign, Participation
from campaigns.services.acquisition import participations_expire
from mobiledb.models import OutboundMessage, Person, Subscription
from tests.conftest import error_codes
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db
PARTICIPANT = {"external_person_id": "EXT542342", "mobile_phone": {"mdn": "2995551234"}}
PARTICIPANT_KEYS = ["person", "acquisition_campaign", "participation_date", "expire_date", "status"]


@pytest.fixture
def lists(company):
    return [SubscriptionListFactory(company=company), SubscriptionListFactory(company=company)]


@pytest.fixture
def single(company, lists):
    return AcquisitionCampaignFactory(company=company, lists=lists, keyword="JOIN")


@pytest.fixture
def double(company, lists):
    return AcquisitionCampaignFactory(
        company=company, lists=lists, keyword="CONFIRM", opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )


def participants(campaign) -> str:
    return f"/companies/ACME/campaigns/acquisition/{campaign.pk}/participants"


def test_campaigns_list_and_detail(api, single, double, company):
    AcquisitionCampaignFactory(company=company, status=AcquisitionCampaign.Status.DELETED)
    AcquisitionCampaignFactory(company=CompanyFactory())
    listed = api.get("/companies/ACME/campaigns/acquisition").json()
    assert [c["acquisition_id"] for c in listed] == [str(single.pk), str(double.pk)]
    detail = api.get(f"/companies/ACME/campaigns/acquisition/{single.pk}/").json()
    assert detail["description"] == single.name
    assert detail["status"] == "active"
    assert detail["campaign_type"] == {"code": "ACQUISITION"}
    assert detail["acquisition_campaign"] == {"keywords": ["JOIN"]}
    assert detail["opt_in"] == "single"
    assert len(detail["subscription_lists"]) == 2


@pytest.mark.parametrize("campaign_id", ["999999", "nope"])
def test_unknown_campaign_answers_404(api, campaign_id):
    response = api.post(
        f"/companies/ACME/campaigns/acquisition/{campaign_id}/participants", PARTICIPANT
    )
    assert response.status_code == 404
    assert api.get(f"/companies/ACME/campaigns/acquisition/{campaign_id}").status_code == 404


def test_another_companys_campaign_answers_404(api):
    foreign = AcquisitionCampaignFactory(company=CompanyFactory(key="OTHER"))
    assert api.post(participants(foreign), PARTICIPANT).status_code == 404


def test_single_opt_in_subscribes_at_once(api, single, lists, emitted):
    response = api.post(participants(single), PARTICIPANT)
    assert response.status_code == 201
    body = response.json()
    assert list(body) == PARTICIPANT_KEYS
    assert body["status"] == "SUBSCRIBED"
    assert body["person"]["mobile_phone"] == {"mdn": "2995551234"}
    person = Person.objects.get(external_person_id="EXT542342")
    subscriptions = Subscription.objects.filter(person=person, opt_out_date__isnull=True)
    assert sorted(s.subscription_list_id for s in subscriptions) == sorted(x.pk for x in lists)
    assert {s.acquisition_campaign_id for s in subscriptions} == {single.pk}
    assert OutboundMessage.objects.get(person=person).kind == "welcome"
    assert emitted.types() == ["subscription_added", "subscription_added", "ack_participant_added"]
    added = emitted.of_type("subscription_added")[0].body_v1["subscription"]
    assert added["acquisition_campaign"]["id"] == str(single.pk)


def test_double_opt_in_answers_201_pending_and_texts_a_confirmation_request(api, double, emitted):
    response = api.post(participants(double), PARTICIPANT)
    assert response.status_code == 201
    assert response.json()["status"] == "PENDING"
    assert response.json()["expire_date"] is not None
    assert not Subscription.objects.exists()
    [message] = OutboundMessage.objects.all()
    assert message.kind == "confirmation_request" and "YES" in message.body
    assert emitted.types() == ["ack_participant_added"]


def test_ack_participant_added_body_follows_the_platform(api_v2, double, emitted):
    api_v2.post(participants(double), {"mobile_phone": {"mdn": "+12995551234"}})
    [event] = emitted.of_type("ack_participant_added")
    participant = event.body_v2["participant"]
    assert list(participant) == PARTICIPANT_KEYS
    assert participant["person"]["mobile_phone"]["mdn"] == "+12995551234"
    assert event.body_v1["participant"]["person"]["mobile_phone"]["mdn"] == "2995551234"
    assert list(participant["acquisition_campaign"]) == ["id", "description", "url", "keyword"]
    assert participant["status"] == "PENDING"


def test_posting_again_while_pending_answers_200(api, double):
    api.post(participants(double), PARTICIPANT)
    response = api.post(participants(double), PARTICIPANT)
    assert response.status_code == 200
    assert response.json()["status"] == "PENDING"
    assert Participation.objects.count() == 1
    assert OutboundMessage.objects.count() == 1  # no second confirmation request


def test_already_subscribed_answers_409(api, single):
    api.post(participants(single), PARTICIPANT)
    response = api.post(participants(single), PARTICIPANT)
    assert response.status_code == 409
    assert error_codes(response) == [ErrorCode.ALREADY_EXISTS]


def test_subscribed_to_some_lists_subscribes_the_rest(api, single, lists, company):
    person = PersonFactory(company=company, mdn="+12995551234", external_person_id="EXT542342")
    SubscriptionFactory(person=person, subscription_list=lists[0])
    assert api.post(participants(single), PARTICIPANT).status_code == 201
    assert Subscription.objects.filter(person=person, opt_out_date__isnull=True).count() == 2


@pytest.mark.parametrize("mdn", ["12", "299555123X", "+12995551234"])
def test_bad_mdn_answers_400(api, single, mdn):
    response = api.post(participants(single), {"mobile_phone": {"mdn": mdn}})
    assert response.status_code == 400
    assert not Person.objects.exists()


def test_missing_mdn_answers_400(api, single):
    assert api.post(participants(single), {"custom_fields": {}}).status_code == 400


@pytest.mark.parametrize(
    "changes",
    [
        {"status": AcquisitionCampaign.Status.PAST},
        {"status": AcquisitionCampaign.Status.SCHEDULED},
        {"status": AcquisitionCampaign.Status.DELETED},
        {"end_date": timezone.now() - timedelta(days=1)},
        {"start_date": timezone.now() + timedelta(days=1)},
    ],
)
def test_inactive_campaign_answers_422(api, single, changes):
    AcquisitionCampaign.objects.filter(pk=single.pk).update(**changes)
    response = api.post(participants(single), PARTICIPANT)
    assert response.status_code == 422
    assert error_codes(response) == [ErrorCode.UNPROCESSABLE]
    assert not Person.objects.exists()


def test_external_id_mismatch_answers_422_and_changes_nothing(api, single, company):
    PersonFactory(company=company, mdn="+12995551234", external_person_id="SOMEONE-ELSE")
    response = api.post(participants(single), PARTICIPANT)
    assert response.status_code == 422
    assert "EXTERNALPERSONIDMISMATCH" in response.json()["errors"][0]["message"]
    assert not Subscription.objects.exists()


def test_refusal_leaves_the_person_unchanged(api, single, company, standard_fields):
    person = PersonFactory(company=company, mdn="+12995551234", external_person_id="EXT542342")
    SubscriptionFactory(person=person, subscription_list=single.subscription_lists.first())
    SubscriptionFactory(person=person, subscription_list=single.subscription_lists.last())
    body = {**PARTICIPANT, "custom_fields": {"first_name": "Changed"}}
    assert api.post(participants(single), body).status_code == 409
    person.refresh_from_db()
    assert "first_name" not in person.custom_fields


def test_unknown_custom_field_answers_400(api, single):
    body = {**PARTICIPANT, "custom_fields": {"nope": 1}}
    assert error_codes(api.post(participants(single), body)) == [ErrorCode.CUSTOM_FIELD_NOT_FOUND]


def test_participant_by_external_id_of_an_existing_person(api, single, company):
    existing = PersonFactory(company=company, mdn="+12995551234", external_person_id="EXT542342")
    response = api.post(participants(single), {"external_person_id": "EXT542342"})
    assert response.status_code == 201
    assert response.json()["person"]["id"] == str(existing.pk)
    assert list(Person.objects.filter(company=company).values_list("pk", flat=True)) == [
        existing.pk
    ]
    assert Participation.objects.get().person_id == existing.pk


def test_get_lists_pending_participants(api, double):
    api.post(participants(double), PARTICIPANT)
    api.post(participants(double), {"mobile_phone": {"mdn": "2995559999"}})
    pending = api.get(participants(double)).json()
    assert [p["status"] for p in pending] == ["PENDING", "PENDING"]


def test_pending_acquisitions_of_a_person(api, double):
    api.post(participants(double), PARTICIPANT)
    person = Person.objects.get()
    for spelling in ("pending_acquisitions", "pending_acquistions"):
        response = api.get(f"/companies/ACME/mobiledb/persons/{person.pk}/{spelling}")
        assert response.status_code == 200
        assert [p["acquisition_campaign"]["id"] for p in response.json()] == [str(double.pk)]


def test_pending_participation_expires(api, double):
    api.post(participants(double), PARTICIPANT)
    assert participations_expire() == 0
    later = timezone.now() + timedelta(days=2)
    assert participations_expire(now=later) == 1
    assert Participation.objects.get().status == Participation.Status.EXPIRED


def test_expiry_time_is_configurable(api, double, settings):
    settings.ACQUISITION_PENDING_TTL_SECONDS = 60
    api.post(participants(double), PARTICIPANT)
    participation = Participation.objects.get()
    assert participation.expire_date - participation.participation_date == timedelta(seconds=60)


def test_an_expired_pending_participation_can_join_again(api, double):
    api.post(participants(double), PARTICIPANT)
    Participation.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert api.post(participants(double), PARTICIPANT).status_code == 201
    assert api.get(participants(double)).json()[0]["status"] == "PENDING"
    assert Participation.objects.filter(status="EXPIRED").count() == 1


def test_create_acquisition_campaign_command_prints_the_id_last(company, lists):
    out = StringIO()
    call_command(
        "create_acquisition_campaign",
        "ACME",
        "Spring",
        "--list",
        str(lists[0].pk),
        "--keyword",
        "spring",
        "--double-opt-in",
        stdout=out,
    )
    campaign = AcquisitionCampaign.objects.get(pk=int(out.getvalue().strip().splitlines()[-1]))
    assert (campaign.keyword, campaign.opt_in, campaign.status) == ("SPRING", "double", "active")


@pytest.mark.parametrize(
    "args", [["--list", "999999"], ["--list", "{list}", "--keyword", "STOP"], ["--keyword", "X"]]
)
def test_create_acquisition_campaign_command_refuses_bad_input(company, lists, args):
    args = [a.replace("{list}", str(lists[0].pk)) for a in args]
    with pytest.raises((CommandError, SystemExit)):
        call_command(
            "create_acquisition_campaign",
            "ACME",
            "Spring",
            *args,
            stdout=StringIO(),
            stderr=StringIO(),
        )


def test_scheduler_starts_and_ends_campaigns_on_their_dates(company):
    from campaigns.services.acquisition import campaigns_roll_status

    now = timezone.now()
    starting = AcquisitionCampaignFactory(
        company=company, status="scheduled", start_date=now - timedelta(minutes=1)
    )
    later = AcquisitionCampaignFactory(
        company=company, status="scheduled", start_date=now + timedelta(days=1)
    )
    ending = AcquisitionCampaignFactory(company=company, end_date=now - timedelta(minutes=1))
    assert campaigns_roll_status(now=now) == 2
    statuses = {
        c.pk: c.status
        for c in AcquisitionCampaign.objects.filter(pk__in=[starting.pk, later.pk, ending.pk])
    }
    assert statuses == {starting.pk: "active", later.pk: "scheduled", ending.pk: "past"}
