"""The consent ledger: every opt-in and opt-out from any path appends one immutable,
hash-chained record; the chain verifies, and fails after a record is altered by hand."""

from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client

from mobiledb.models import ConsentRecord, Subscription
from mobiledb.segments.services import bulk_action_start
from mobiledb.subscriptions.consent import consent_ledger_verify
from mobiledb.subscriptions.models import ConsentLedgerImmutable
from mobiledb.subscriptions.services import (
    subscription_add,
    subscription_list_update,
    subscription_opt_out,
)
from tests.conftest import APIClient
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    PersonFactory,
    SubscriptionListFactory,
    UserFactory,
)
from tests.subscriptions.helpers import AcquisitionCampaignFactory
from vibesweb.actors import acting_as

pytestmark = pytest.mark.django_db
MDN = "+12295551234"
_ids = itertools.count(1)


def subscriptions_path(person, subscription_list=None) -> str:
    path = f"/companies/{person.company.key}/mobiledb/persons/{person.pk}/subscriptions"
    return f"{path}/{subscription_list.pk}" if subscription_list else path


def sms(api, message: str, mdn: str = MDN, key: str = "ACME"):
    body = {
        "event_id": f"ledger-{next(_ids)}",
        "event_type": "inbound_message",
        "mdn": mdn,
        "short_code": "12345",
        "message": message,
    }
    assert api.post(f"/companies/{key}/events", body).status_code == 201


def records(company) -> list[ConsentRecord]:
    return list(ConsentRecord.objects.filter(company=company).order_by("sequence"))


@pytest.fixture
def person(company):
    return PersonFactory(company=company, mdn=MDN)


@pytest.fixture
def marketer_client(company):
    user = UserFactory(username="marketer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["mobiledb", "campaigns"])
    )
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    return client


def test_api_subscribe_and_opt_out_are_recorded_with_the_api_user(api, company, person):
    subscription_list = SubscriptionListFactory(company=company)
    assert api.put(subscriptions_path(person, subscription_list), {}).status_code == 201
    assert api.delete(subscriptions_path(person, subscription_list)).status_code == 200
    opt_in, opt_out = records(company)
    assert (opt_in.action, opt_out.action) == ("opt_in", "opt_out")
    for record in (opt_in, opt_out):
        assert record.channel == "api"
        assert "acme-api" in record.source
        assert (record.mdn, record.person_id) == (MDN, person.pk)
        assert record.subscription_list_id == subscription_list.pk
    assert opt_out.previous_hash == opt_in.hash
    assert opt_in.sequence + 1 == opt_out.sequence


def test_admin_opt_out_is_recorded_with_the_admin_user(marketer_client, company, person):
    subscription_list = SubscriptionListFactory(company=company)
    subscription, _ = subscription_add(person=person, subscription_list=subscription_list)
    response = marketer_client.post(
        "/admin/mobiledb/subscription/",
        {"action": "opt_out_selected", "_selected_action": [subscription.pk]},
    )
    assert response.status_code == 302
    record = records(company)[-1]
    assert (record.action, record.channel) == ("opt_out", "admin")
    assert "marketer" in record.source


def test_keyword_join_and_yes_confirmation_are_recorded_with_the_text_sent(api, company):
    single = AcquisitionCampaignFactory(company=company, keyword="JOIN")
    double = AcquisitionCampaignFactory(company=company, keyword="DEALS", opt_in="double")
    sms(api, "Join please")
    sms(api, "DEALS")
    sms(api, "yes")
    joined, confirmed = records(company)
    assert (joined.action, joined.channel, joined.text) == ("opt_in", "keyword", "Join please")
    assert joined.campaign_id == single.pk
    assert "12345" in joined.source
    assert (confirmed.channel, confirmed.text, confirmed.campaign_id) == (
        "keyword",
        "yes",
        double.pk,
    )


def test_participant_added_through_the_api_is_recorded_as_api(api, company):
    campaign = AcquisitionCampaignFactory(company=company)
    response = api.post(
        f"/companies/ACME/campaigns/acquisition/{campaign.pk}/participants",
        {"mobile_phone": {"mdn": "2295551234"}},
    )
    assert response.status_code == 201
    (record,) = records(company)
    assert (record.channel, record.campaign_id, record.mdn) == ("api", campaign.pk, MDN)


def test_carrier_deactivation_and_list_archiving_are_recorded(company, person):
    lists = [SubscriptionListFactory(company=company) for _ in range(2)]
    for subscription_list in lists:
        subscription_add(person=person, subscription_list=subscription_list)
    subscription_opt_out(person=person, subscription_list=lists[0], reason="disconnect")
    with acting_as("admin", source="admin user boss"):
        subscription_list_update(subscription_list=lists[1], archived=True)
    carrier, archived = records(company)[-2:]
    assert (carrier.channel, carrier.source) == ("carrier", "carrier: disconnect")
    assert (archived.channel, archived.source) == ("admin", "admin user boss")


def test_a_mixed_run_verifies_and_a_hand_altered_record_breaks_the_chain(api, company, person):
    lists = [SubscriptionListFactory(company=company) for _ in range(3)]
    for subscription_list in lists:
        api.put(subscriptions_path(person, subscription_list), {})
    sms(api, "STOP")
    sms(api, "START")
    sms(api, "STOP", mdn="+12295550000")
    call_command("verify_consent_ledger", "ACME")
    assert consent_ledger_verify(company=company).checked == 3 + 3 + 3 + 1

    victim = records(company)[4]
    _alter_by_hand(victim.pk, "text", "YES PLEASE")
    result = consent_ledger_verify(company=company)
    assert not result.intact
    assert result.broken_sequence == victim.sequence
    with pytest.raises(CommandError, match=f"#{victim.sequence}"):
        call_command("verify_consent_ledger", "ACME")


def test_a_record_removed_by_hand_breaks_the_chain(api, company, person):
    for subscription_list in [SubscriptionListFactory(company=company) for _ in range(3)]:
        api.put(subscriptions_path(person, subscription_list), {})
    victim = records(company)[1]
    _delete_by_hand(victim.pk)
    result = consent_ledger_verify(company=company)
    assert result.broken_sequence == victim.sequence


def test_records_refuse_to_be_changed_or_deleted_through_the_orm(company, person):
    subscription_add(person=person, subscription_list=SubscriptionListFactory(company=company))
    (record,) = records(company)
    record.text = "changed"
    with pytest.raises(ConsentLedgerImmutable):
        record.save()
    with pytest.raises(ConsentLedgerImmutable):
        record.delete()
    with pytest.raises(ConsentLedgerImmutable):
        ConsentRecord.objects.filter(pk=record.pk).update(text="changed")
    with pytest.raises(ConsentLedgerImmutable):
        ConsentRecord.objects.filter(pk=record.pk).delete()


@pytest.mark.postgres_only
def test_postgresql_refuses_to_change_a_record_below_the_orm(company, person):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL trigger")
    subscription_add(person=person, subscription_list=SubscriptionListFactory(company=company))
    (record,) = records(company)
    for statement in [
        "UPDATE mobiledb_consentrecord SET text = 'x' WHERE id = %s",
        "DELETE FROM mobiledb_consentrecord WHERE id = %s",
    ]:
        with (
            pytest.raises(Exception, match="never updated or deleted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [record.pk])


def test_each_company_has_its_own_chain_for_the_same_number(api, company):
    other = CompanyFactory(key="OTHER")
    other_api = APIClient(MembershipFactory(company=other, user=UserFactory()).user.username)
    mine = PersonFactory(company=company, mdn=MDN)
    theirs = PersonFactory(company=other, mdn=MDN)
    api.put(subscriptions_path(mine, SubscriptionListFactory(company=company)), {})
    other_api.put(subscriptions_path(theirs, SubscriptionListFactory(company=other)), {})
    sms(other_api, "STOP", key="OTHER")
    assert [r.sequence for r in records(company)] == [1]
    assert [r.sequence for r in records(other)] == [1, 2]
    assert records(company)[0].person_id == mine.pk
    assert {r.person_id for r in records(other)} == {theirs.pk}
    assert consent_ledger_verify(company=company).intact
    assert consent_ledger_verify(company=other).intact


def test_consent_api_gives_the_persons_history_oldest_first(api, company, person):
    subscription_list = SubscriptionListFactory(company=company)
    sms(api, "STOP")  # before any subscription: recorded for the number
    api.put(subscriptions_path(person, subscription_list), {})
    api.delete(subscriptions_path(person, subscription_list))
    response = api.get(f"/companies/ACME/mobiledb/persons/{person.pk}/consent")
    assert response.status_code == 200
    body = response.json()
    assert [entry["action"] for entry in body] == ["opt_out", "opt_in", "opt_out"]
    assert set(body[1]) == {
        "action",
        "list",
        "campaign",
        "channel",
        "source",
        "text",
        "occurred_at",
        "hash",
        "previous_hash",
    }
    assert body[0]["list"] is None and body[0]["channel"] == "keyword"
    assert body[1]["list"] == {
        "id": str(subscription_list.pk),
        "url": f"/companies/ACME/mobiledb/subscription_lists/{subscription_list.pk}",
    }
    assert body[2]["previous_hash"] == body[1]["hash"]


def test_consent_api_of_another_companys_person_is_404(api, company):
    theirs = PersonFactory(company=CompanyFactory(key="OTHER"), mdn=MDN)
    response = api.get(f"/companies/ACME/mobiledb/persons/{theirs.pk}/consent")
    assert response.status_code == 404


def test_admin_audit_export_gives_a_numbers_history_with_hashes(
    api, marketer_client, company, person
):
    api.put(subscriptions_path(person, SubscriptionListFactory(company=company)), {})
    sms(api, "STOP")
    other = PersonFactory(company=CompanyFactory(key="OTHER"), mdn=MDN)
    subscription_add(person=other, subscription_list=SubscriptionListFactory(company=other.company))

    page = marketer_client.get("/admin/mobiledb/consentrecord/", {"q": "(229) 555-1234"})
    assert page.status_code == 200
    assert "Audit export (CSV)" in page.content.decode()
    exported = marketer_client.get(
        "/admin/mobiledb/consentrecord/audit-export/json/", {"q": "229-555-1234"}
    )
    rows = json.loads(b"".join(exported.streaming_content))
    assert [(row["company"], row["action"]) for row in rows] == [
        ("ACME", "opt_in"),
        ("ACME", "opt_out"),
    ]
    assert rows[1]["previous_hash"] == rows[0]["hash"]
    csv_text = b"".join(
        marketer_client.get("/admin/mobiledb/consentrecord/audit-export/csv/").streaming_content
    ).decode()
    assert csv_text.splitlines()[0].startswith("company,sequence,mdn")
    assert "OTHER" not in csv_text
    assert len(csv_text.strip().splitlines()) == 3


def test_admin_verify_reports_an_intact_chain(marketer_client, company, person):
    subscription_add(person=person, subscription_list=SubscriptionListFactory(company=company))
    response = marketer_client.get("/admin/mobiledb/consentrecord/verify/", follow=True)
    assert "ACME: the consent ledger is intact (1 record(s) verified)" in response.content.decode()


def test_the_ledger_admin_offers_no_change_or_delete(marketer_client, company, person):
    subscription_add(person=person, subscription_list=SubscriptionListFactory(company=company))
    (record,) = records(company)
    assert marketer_client.post(
        f"/admin/mobiledb/consentrecord/{record.pk}/delete/", {"post": "yes"}
    ).status_code in (403, 302)
    assert ConsentRecord.objects.filter(pk=record.pk).exists()
    assert Subscription.objects.count() == 1


def _alter_by_hand(pk: int, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # triggers off
        cursor.execute(
            f"UPDATE mobiledb_consentrecord SET {column} = %s WHERE id = %s", [value, pk]
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def _delete_by_hand(pk: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # triggers off
        cursor.execute("DELETE FROM mobiledb_consentrecord WHERE id = %s", [pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_a_bulk_action_is_recorded_as_bulk_with_who_started_it(company):
    marketer = UserFactory(username="bulk-marketer", is_staff=True)
    subscription_list = SubscriptionListFactory(company=company)
    persons = [PersonFactory(company=company, mdn=f"+1229555000{n}") for n in range(3)]
    bulk_action_start(
        company=company,
        kind="subscribe",
        subscription_list=subscription_list,
        person_ids=[person.pk for person in persons],
        user=marketer,
    )
    recorded = records(company)
    assert [(r.action, r.channel) for r in recorded] == [("opt_in", "bulk")] * 3
    assert all("bulk-marketer" in r.source for r in recorded)


@pytest.mark.parametrize("term", ["²", "١٢٣", "12345678901234567890123"])
def test_the_ledger_search_takes_any_text_without_an_error(marketer_client, term):
    assert marketer_client.get("/admin/mobiledb/consentrecord/", {"q": term}).status_code == 200


def test_consent_api_shows_only_this_companys_records_of_a_shared_number(api, company):
    other = CompanyFactory(key="OTHER")
    theirs = PersonFactory(company=other, mdn=MDN)
    subscription_add(person=theirs, subscription_list=SubscriptionListFactory(company=other))
    mine = PersonFactory(company=company, mdn=MDN)
    api.put(subscriptions_path(mine, SubscriptionListFactory(company=company)), {})
    body = api.get(f"/companies/ACME/mobiledb/persons/{mine.pk}/consent").json()
    assert [entry["channel"] for entry in body] == ["api"]
    assert body[0]["previous_hash"] == "0" * 64


@pytest.mark.parametrize(
    "source",
    ["import a.opt_outs row 2", 'quote " backslash \\ tab \t newline \n', "é 中 😀 \x00 \x1f \x7f"],
)
def test_the_hash_covers_the_same_bytes_as_the_first_ledgers_json_encoding(source):
    """Records hashed before the encoder changed must still verify: the canonical form is
    the compact JSON array that `json.dumps(ensure_ascii=False)` wrote."""
    import hashlib
    from datetime import UTC, datetime

    from mobiledb.subscriptions.consent import fields_hash

    moment = datetime(2026, 12, 2, 6, 30, 1, 5, tzinfo=UTC)
    fields = (7, 12, MDN, None, "opt_out", 3, None, "import", source, "", moment)
    first_encoding = json.dumps(
        ["f" * 64, *fields[:-1], "2026-12-02T06:30:01.000005Z"],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    assert fields_hash("f" * 64, fields) == hashlib.sha256(first_encoding).hexdigest()


def test_a_bulk_append_hashes_each_record_as_verification_does(company):
    from mobiledb.subscriptions.consent import ConsentEntry, consent_records_append, record_hash
    from vibesweb.actors import Actor

    entries = [
        ConsentEntry(mdn=f"+1229555{n:04d}", person_id=None, action="opt_out",
                     actor=Actor(channel="import", source=f"row {n} \\ \t é"))
        for n in range(3)
    ]  # fmt: skip
    with transaction.atomic():
        assert consent_records_append(company=company, entries=entries) == 3
    stored = records(company)
    assert [record_hash(r) for r in stored] == [r.hash for r in stored]
    assert stored[1].source == "row 1 \\ \t é"
    assert consent_ledger_verify(company=company).intact


def test_prepared_records_move_the_head_only_from_the_head_they_were_hashed_after(company):
    from django.utils import timezone

    from mobiledb.subscriptions.consent import (
        GENESIS_HASH,
        ConsentEntry,
        consent_chain_advance,
        consent_chain_start,
        consent_records_insert,
        consent_records_prepare,
    )
    from vibesweb.actors import Actor

    actor, now = Actor(channel="import", source="x.opt_outs"), timezone.now()
    entries = [ConsentEntry(f"+1229555{n:04d}", None, "opt_out", occurred_at=now)
               for n in range(3)]  # fmt: skip

    def prepared(entry, head):
        return consent_records_prepare(company=company, entries=[entry], head=head, actor=actor)

    def appended(records) -> bool:
        with transaction.atomic():
            if not consent_chain_advance(company=company, prepared=records):
                return False
            consent_records_insert(prepared=records)
            return True

    assert not appended(prepared(entries[0], (0, GENESIS_HASH)))  # the chain has no head row
    assert consent_chain_start(company=company) == (0, GENESIS_HASH)  # now it has
    first = prepared(entries[0], (0, GENESIS_HASH))
    assert appended(first)
    second, late = prepared(entries[1], first.last), prepared(entries[2], first.last)
    assert appended(second)
    assert not appended(late)  # hashed after a head that is no longer the head

    stored = records(company)
    assert [(r.sequence, r.mdn) for r in stored] == [(1, entries[0].mdn), (2, entries[1].mdn)]
    assert consent_chain_start(company=company) == second.last == (2, stored[-1].hash)
    assert stored[1].previous_hash == stored[0].hash
    assert consent_ledger_verify(company=company).intact
