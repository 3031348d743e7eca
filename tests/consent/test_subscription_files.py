"""`.subscriptions` and `.opt_outs` files through the import engine (SPEC section 13)."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from mobiledb.imports import subscription_files
from mobiledb.imports.models import PersonImport, PersonImportError
from mobiledb.imports.services import person_import_cancel, person_import_create, person_import_run
from mobiledb.models import ConsentRecord, Person, Subscription, SuppressedNumber
from mobiledb.subscriptions.consent import consent_ledger_verify
from mobiledb.subscriptions.services import number_stop, subscription_add
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def write_file(tmp_path):
    def write(name: str, content: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        return str(path)

    return write


def run_command(*args) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("import_subscriptions", *args, "--json", stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())


def errors_of(person_import) -> list[tuple[int, str]]:
    return list(
        PersonImportError.objects.filter(person_import=person_import)
        .order_by("row")
        .values_list("row", "error_class")
    )


def active_lists(person) -> set[int]:
    return set(
        Subscription.objects.filter(person=person, opt_out_date__isnull=True).values_list(
            "subscription_list_id", flat=True
        )
    )


def test_subscriptions_file_subscribes_by_every_identifier_and_records_consent(company, write_file):
    lists = [SubscriptionListFactory(company=company) for _ in range(2)]
    by_key = PersonFactory(company=company, mdn="+12295550001")
    by_external = PersonFactory(company=company, external_person_id="CRM-7", mdn="+12295550002")
    content = (
        "mdn,person_key,external_person_id,subscription_list_id,opt_in_date,source\n"
        f",{by_key.person_key},,{lists[0].pk},2025-06-01,store kiosk\n"
        f",,CRM-7,{lists[1].pk},2025-06-02T10:00:00Z,\n"
        f"(229) 555-0003,,,{lists[0].pk},,https://acme.example/join\n"
    )
    code, summary = run_command("ACME", write_file("optins.subscriptions", content))
    assert code == 0
    assert summary["errors"] == []
    assert (summary["rows"], summary["created"], summary["failed"]) == (3, 3, 0)
    new_person = Person.objects.get(company=company, mdn="+12295550003")
    assert active_lists(by_key) == {lists[0].pk}
    assert active_lists(by_external) == {lists[1].pk}
    assert active_lists(new_person) == {lists[0].pk}
    first = Subscription.objects.get(person=by_key)
    assert first.opt_in_date.isoformat().startswith("2025-06-01T00:00:00")
    records = list(ConsentRecord.objects.filter(company=company).order_by("sequence"))
    assert [r.channel for r in records] == ["import"] * 3
    assert "optins.subscriptions row 2" in records[0].source
    assert "store kiosk" in records[0].source
    assert "https://acme.example/join" in records[2].source
    assert consent_ledger_verify(company=company).intact


def test_subscriptions_file_fires_subscription_added_callbacks(company, write_file):
    from callbacks.models import CallbackEvent
    from tests.factories import CallbackRegistrationFactory

    CallbackRegistrationFactory(company=company, callback_type="subscription_added")
    subscription_list = SubscriptionListFactory(company=company)
    content = f"mdn,subscription_list_id\n2295550001,{subscription_list.pk}\n"
    run_command("ACME", write_file("a.subscriptions", content))
    (event,) = CallbackEvent.objects.filter(callback_type="subscription_added")
    body = next(iter(event.bodies.values()))
    assert body["subscription"]["subscription_list"]["id"] == str(subscription_list.pk)


def test_subscriptions_file_reports_bad_rows_and_applies_the_good(company, write_file):
    mine = SubscriptionListFactory(company=company)
    archived = SubscriptionListFactory(company=company, archived=True)
    theirs = SubscriptionListFactory(company=CompanyFactory(key="OTHER"))
    content = (
        "mdn,external_person_id,subscription_list_id,opt_in_date\n"
        f"2295550001,,{mine.pk},\n"  # 2 ok
        f"not-a-number,,{mine.pk},\n"  # 3 bad MDN
        f"2295550003,,{theirs.pk},\n"  # 4 another company's list
        f"2295550004,,{mine.pk},2999-01-01\n"  # 5 future opt_in_date
        f"2295550005,,{mine.pk},yesterday\n"  # 6 not a date
        f",NOBODY,{mine.pk},\n"  # 7 unknown external id
        f"2295550007,,{archived.pk},\n"  # 8 archived list
        f"2295550008,,,\n"  # 9 no list
        f",,{mine.pk},\n"  # 10 no identifier
        f"2295550001,,{mine.pk},\n"  # 11 already subscribed: unchanged
    )
    code, summary = run_command("ACME", write_file("mixed.subscriptions", content))
    assert code == 0
    assert (summary["rows"], summary["created"], summary["updated"], summary["failed"]) == (
        10,
        1,
        1,
        8,
    )
    assert [(e["row"], e["error_class"]) for e in summary["errors"]] == [
        (3, "MobilePhoneErrors::InvalidMDNFormat"),
        (4, "SubscriptionListErrors::NotFound"),
        (5, "SubscriptionErrors::InvalidOptInDate"),
        (6, "SubscriptionErrors::InvalidOptInDate"),
        (7, "PersonErrors::PersonNotFound"),
        (8, "SubscriptionErrors::ListArchived"),
        (9, "SubscriptionListErrors::NotFound"),
        (10, "SubscriptionErrors::MissingIdentifier"),
    ]
    assert not Subscription.objects.filter(subscription_list=theirs).exists()
    assert not Person.objects.filter(company__key="OTHER").exists()


def test_opt_outs_file_ends_one_list_or_every_list_and_silences_the_latter(company, write_file):
    lists = [SubscriptionListFactory(company=company) for _ in range(3)]
    one = PersonFactory(company=company, mdn="+12295550001")
    every = PersonFactory(company=company, mdn="+12295550002", external_person_id="CRM-2")
    for person in (one, every):
        for subscription_list in lists:
            subscription_add(person=person, subscription_list=subscription_list)
    content = (
        "mdn,external_person_id,subscription_list_id,opt_out_reason\n"
        f"2295550001,,{lists[0].pk},user_opt_out\n"
        f",CRM-2,,\n"
        "2295559999,,,\n"  # an unknown number: recorded, not an error
    )
    code, summary = run_command("ACME", write_file("stop.opt_outs", content))
    assert code == 0
    assert (summary["rows"], summary["failed"]) == (3, 0)
    assert active_lists(one) == {lists[1].pk, lists[2].pk}
    assert active_lists(every) == set()
    ended = Subscription.objects.get(person=one, subscription_list=lists[0])
    assert ended.opt_out_reason == "user_opt_out"
    assert set(
        Subscription.objects.filter(person=every).values_list("opt_out_reason", flat=True)
    ) == {"bulk_opt_out"}
    silenced = set(SuppressedNumber.objects.filter(company=company).values_list("mdn", flat=True))
    assert silenced == {"+12295550002", "+12295559999"}
    unknown = ConsentRecord.objects.get(company=company, mdn="+12295559999")
    assert (unknown.action, unknown.channel, unknown.person_id) == ("opt_out", "import", None)
    assert consent_ledger_verify(company=company).intact


def test_opt_outs_naming_another_companys_list_fail_and_change_nothing(company, write_file):
    theirs_company = CompanyFactory(key="OTHER")
    theirs = SubscriptionListFactory(company=theirs_company)
    twin = PersonFactory(company=theirs_company, mdn="+12295550001")
    subscription_add(person=twin, subscription_list=theirs)
    PersonFactory(company=company, mdn="+12295550001")
    content = f"mdn,subscription_list_id\n2295550001,{theirs.pk}\n"
    code, summary = run_command("ACME", write_file("x.opt_outs", content))
    assert summary["errors"][0]["error_class"] == "SubscriptionListErrors::NotFound"
    assert active_lists(twin) == {theirs.pk}


def test_rerunning_a_file_reaches_the_same_state(company, write_file):
    subscription_list = SubscriptionListFactory(company=company)
    path = write_file(
        "again.subscriptions", f"mdn,subscription_list_id\n2295550001,{subscription_list.pk}\n"
    )
    run_command("ACME", path)
    code, summary = run_command("ACME", path)
    assert (summary["created"], summary["updated"]) == (0, 1)
    assert Subscription.objects.filter(subscription_list=subscription_list).count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("mdn,first_name\n2295550001,Ann\n", "Unknown column 'first_name'"),
        ("mdn\n2295550001\n", "needs a subscription_list_id"),
        ("subscription_list_id\n1\n", "Couldn't find a"),
        (b"mdn,subscription_list_id\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_file_level_errors_fail_the_import(company, write_file, content, message):
    code, summary = run_command("ACME", write_file("bad.subscriptions", content))
    assert code == 1
    assert message in summary["message"]


def test_header_block_bom_crlf_and_tab_delimiter_are_read(company, write_file):
    subscription_list = SubscriptionListFactory(company=company)
    content = (
        "\ufeffFields: mdn,subscription_list_id\r\nDelimiter: tab\r\n\r\n"
        f"2295550001\t{subscription_list.pk}\r\n\r\n"
        f"+12295550002\t{subscription_list.pk}\r\n"
    )
    code, summary = run_command("ACME", write_file("h.subscriptions", content))
    assert (code, summary["created"], summary["failed"]) == (0, 2, 0)


def test_chunks_are_checkpointed_and_cancel_stops_after_one(company, write_file):
    subscription_list = SubscriptionListFactory(company=company)
    rows = "".join(f"22955500{n:02d},{subscription_list.pk}\n" for n in range(10))
    path = write_file("big.subscriptions", "mdn,subscription_list_id\n" + rows)
    person_import = person_import_create(company_key="ACME", file_path=path)
    assert person_import.kind == "subscriptions"

    def cancel_after_first(pi):
        person_import_cancel(pi)

    result = person_import_run(person_import.pk, chunk_size=3, on_chunk=cancel_after_first)
    assert result.status == PersonImport.Status.CANCELED
    assert result.rows == 3
    assert Subscription.objects.filter(subscription_list=subscription_list).count() == 3


@pytest.mark.parametrize("kind", ["subscriptions", "opt_outs"])
def test_a_chunk_ends_early_once_its_rows_span_the_chunk_weight(
    company, write_file, monkeypatch, kind
):
    # Long lines (a `source` may be up to a line's limit) must not pile up chunk_size rows
    # in memory: the chunk ends once it spans CHUNK_MAX_WEIGHT bytes of the file.
    monkeypatch.setattr(subscription_files, "CHUNK_MAX_WEIGHT", 20_000)
    monkeypatch.setattr(subscription_files, "_READ_BATCH", 5)
    subscription_list = SubscriptionListFactory(company=company)
    for n in range(300):
        subscription_add(person=PersonFactory(company=company, mdn=f"+1229555{n:04d}"),
                         subscription_list=subscription_list)  # fmt: skip
    column = "source" if kind == "subscriptions" else "opt_out_reason"
    cell = "x" * 900 if kind == "subscriptions" else "user_opt_out" + " " * 900
    rows = "".join(f"229555{n:04d},{subscription_list.pk},{cell}\n" for n in range(300))
    path = write_file(f"wide.{kind}", f"mdn,subscription_list_id,{column}\n{rows}")
    person_import = person_import_create(company_key="ACME", file_path=path)
    chunks = []

    result = person_import_run(
        person_import.pk, chunk_size=1000, on_chunk=lambda pi: chunks.append(pi.records_done)
    )

    assert (result.status, result.rows, result.failed) == ("finished", 300, 0)
    sizes = [after - before for before, after in zip([0, *chunks], chunks, strict=False)]
    assert len(sizes) > 3 and max(sizes) < 1000
    active = Subscription.objects.filter(subscription_list=subscription_list, opt_out_date=None)
    assert active.count() == (300 if kind == "subscriptions" else 0)


def test_import_persons_keeps_treating_files_as_persons(company, write_file):
    out = io.StringIO()
    call_command("import_persons", "ACME", write_file("p.persons", "mdn\n2295550001\n"), stdout=out)
    assert PersonImport.objects.get().kind == "persons"


def test_import_subscriptions_refuses_another_extension(company, write_file):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=".subscriptions or .opt_outs"):
        call_command("import_subscriptions", "ACME", write_file("p.persons", "mdn\n"))


def test_opt_outs_file_fires_subscription_removed_with_the_platforms_body(company, write_file):
    from callbacks.models import CallbackEvent
    from tests.factories import CallbackRegistrationFactory

    CallbackRegistrationFactory(company=company, callback_type="subscription_removed")
    subscription_list = SubscriptionListFactory(company=company)
    person = PersonFactory(company=company, mdn="+12295550001", external_person_id="CRM-1")
    subscription_add(person=person, subscription_list=subscription_list)
    run_command("ACME", write_file("x.opt_outs", "mdn,opt_out_reason\n2295550001,disconnect\n"))
    (event,) = CallbackEvent.objects.filter(callback_type="subscription_removed")
    body = next(iter(event.bodies.values()))["subscription"]
    assert body["person"] == {
        "id": str(person.pk),
        "external_id": "CRM-1",
        "url": f"/companies/ACME/mobiledb/persons/{person.pk}",
    }
    assert body["subscription_list"]["id"] == str(subscription_list.pk)
    assert body["opt_out_reason"] == "disconnect"
    assert body["opt_out_date"] is not None


def test_a_list_id_of_non_ascii_digits_is_a_row_error(company, write_file):
    content = "mdn,subscription_list_id\n2295550001,²\n2295550002,١٢\n"
    code, summary = run_command("ACME", write_file("u.subscriptions", content))
    assert code == 0
    assert [e["error_class"] for e in summary["errors"]] == ["SubscriptionListErrors::NotFound"] * 2


def opt_outs_state(company) -> tuple:
    """What an .opt_outs file changes: active subscriptions and silenced numbers."""
    return (
        sorted(
            Subscription.objects.filter(company=company).values_list(
                "person__mdn", "subscription_list_id", "opt_out_date", "opt_out_reason"
            )
        ),
        sorted(
            SuppressedNumber.objects.filter(company=company).values_list("mdn", "ended_list_ids")
        ),
    )


@pytest.fixture
def bulk_opt_outs(company, write_file):
    """An .opt_outs file of known and unknown numbers and bad rows, run in chunks of 4."""
    news, deals = SubscriptionListFactory(company=company), SubscriptionListFactory(company=company)
    for n in range(0, 20, 2):
        person = PersonFactory(company=company, mdn=f"+122955500{n:02d}")
        subscription_add(person=person, subscription_list=news)
        if n % 4 == 0:
            subscription_add(person=person, subscription_list=deals)
    rows = [f"22955500{n:02d},user_opt_out" for n in range(20)]
    rows[5] = "not-a-number,user_opt_out"  # line 7
    rows[12] = "2295550012,no_such_reason"  # line 14
    path = write_file("bulk.opt_outs", "mdn,opt_out_reason\n" + "\n".join(rows) + "\n")

    def run():
        person_import = person_import_create(company_key="ACME", file_path=path)
        return person_import_run(person_import.pk, chunk_size=4)

    return run, (news, deals)


def test_a_bulk_opt_outs_import_keeps_the_ledger_chain_verifiable(company, bulk_opt_outs):
    run, (news, deals) = bulk_opt_outs
    result = run()
    assert (result.status, result.rows, result.failed) == ("finished", 20, 2)
    imported = ConsentRecord.objects.filter(company=company, channel="import")
    # One record per ended subscription (4 persons on both lists, 5 on one; the sixth
    # on both is line 14, refused), or per row that ended none (the 9 unknown numbers).
    assert imported.count() == 4 * 2 + 5 * 1 + 9
    assert consent_ledger_verify(company=company).intact
    assert not Subscription.objects.filter(company=company, opt_out_date__isnull=True).exclude(
        person__mdn="+12295550012"
    )


def test_a_bulk_opt_outs_import_silences_unknown_numbers_and_reports_bad_rows(
    company, bulk_opt_outs
):
    run, (news, deals) = bulk_opt_outs
    result = run()
    assert errors_of(result) == [
        (7, "MobilePhoneErrors::InvalidMDNFormat"),
        (14, "SubscriptionErrors::InvalidOptOutReason"),
    ]
    silenced = dict(
        SuppressedNumber.objects.filter(company=company).values_list("mdn", "ended_list_ids")
    )
    assert len(silenced) == 18
    assert silenced["+12295550001"] == []  # unknown: silenced all the same
    assert silenced["+12295550004"] == sorted([news.pk, deals.pk])
    assert silenced["+12295550002"] == [news.pk]
    unknown = ConsentRecord.objects.get(company=company, mdn="+12295550001")
    assert (unknown.action, unknown.person_id) == ("opt_out", None)


def test_a_second_run_of_the_same_opt_outs_file_changes_nothing(company, bulk_opt_outs):
    run, _ = bulk_opt_outs
    run()
    before = opt_outs_state(company)
    again = run()
    assert (again.created, again.updated, again.failed) == (0, 18, 2)
    assert opt_outs_state(company) == before
    assert consent_ledger_verify(company=company).intact


def test_opting_out_a_silenced_number_adds_the_lists_it_ends(company, write_file):
    news, deals = SubscriptionListFactory(company=company), SubscriptionListFactory(company=company)
    person = PersonFactory(company=company, mdn="+12295550001")
    subscription_add(person=person, subscription_list=deals)
    # An earlier STOP ended `news` (the subscription since is to `deals`).
    SuppressedNumber.objects.create(company=company, mdn=person.mdn, ended_list_ids=[news.pk])
    run_command("ACME", write_file("x.opt_outs", "mdn\n2295550001\n"))
    (silenced,) = SuppressedNumber.objects.filter(company=company)
    assert silenced.ended_list_ids == sorted([news.pk, deals.pk])
    assert active_lists(person) == set()
    assert consent_ledger_verify(company=company).intact


def test_an_opt_outs_file_leaves_another_companys_twin_number_alone(company, write_file):
    other = CompanyFactory(key="OTHER")
    theirs = SubscriptionListFactory(company=other)
    twin = PersonFactory(company=other, mdn="+12295550001")
    subscription_add(person=twin, subscription_list=theirs)
    SuppressedNumber.objects.create(company=other, mdn="+12295550002", ended_list_ids=[])
    run_command("ACME", write_file("t.opt_outs", "mdn\n2295550001\n2295550002\n"))
    assert active_lists(twin) == {theirs.pk}
    assert set(SuppressedNumber.objects.filter(company=company).values_list("mdn", flat=True)) == {
        "+12295550001",
        "+12295550002",
    }
    assert list(SuppressedNumber.objects.filter(company=other).values_list("mdn", flat=True)) == [
        "+12295550002"
    ]


def _subscribed_to_two_lists(company, mdn: str):
    """(a person with `mdn`, the two lists it is subscribed to)."""
    news, deals = SubscriptionListFactory(company=company), SubscriptionListFactory(company=company)
    person = PersonFactory(company=company, mdn=mdn)
    for subscription_list in (news, deals):
        subscription_add(person=person, subscription_list=subscription_list)
    return person, news, deals


@pytest.mark.django_db(transaction=True)
def test_an_opt_out_sees_the_lists_the_chunk_before_ended(company, write_file, caplog):
    # Chunks of one row: the second names the number the first opted out of one list. On
    # PostgreSQL it is looked up before the first is written (outside a test transaction,
    # as an import runs), so this proves the ended subscription is carried over.
    person, news, deals = _subscribed_to_two_lists(company, "+12295550001")
    content = f"mdn,subscription_list_id\n2295550001,{news.pk}\n2295550001,\n2295550001,\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert (result.status, result.rows, result.created, result.updated) == ("finished", 3, 2, 1)
    assert active_lists(person) == set()
    imported = ConsentRecord.objects.filter(company=company, channel="import").order_by("sequence")
    assert list(imported.values_list("subscription_list_id", flat=True)) == [
        news.pk,
        deals.pk,
        None,
    ]
    (silenced,) = SuppressedNumber.objects.filter(company=company)
    assert silenced.ended_list_ids == [deals.pk]
    assert consent_ledger_verify(company=company).intact
    # The carried view was right the first time (the third row's chunk is applied again
    # for another reason: the number it silences, the second silenced already).
    assert "applied again after RowChanged" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_chunk_applied_again_before_a_broken_line_still_stops_the_import_there(
    company, write_file, settings, caplog
):
    # The first number is silenced already: on PostgreSQL its chunk's COPY fails and it is
    # applied again while the file is read on; the second is planned again, and the
    # import fails at the broken line after it.
    settings.PERSON_IMPORT_MAX_LINE_CHARS = 200
    number_stop(company=company, mdn="+12295550001", person=None)
    content = "mdn\n2295550001\n2295550002\n2295550003" + "0" * 300 + "\n2295550004\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert result.status == PersonImport.Status.FAILED
    assert "Line 4 is longer than 200 characters" in result.error_message
    assert result.records_done == 2
    assert silenced_numbers(company) == {"+12295550001": [], "+12295550002": []}
    assert consent_ledger_verify(company=company).intact
    if connection.vendor == "postgresql":
        assert "applied again after IntegrityError" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_stop_between_an_opt_outs_lookup_and_its_write_stands(
    company, write_file, monkeypatch, caplog
):
    news = SubscriptionListFactory(company=company)
    first = PersonFactory(company=company, mdn="+12295550001")
    second = PersonFactory(company=company, mdn="+12295550002")
    for person in (first, second):
        subscription_add(person=person, subscription_list=news)
    _after_the_second_lookup(
        monkeypatch, lambda: number_stop(company=company, mdn=second.mdn, person=second)
    )
    content = "mdn,opt_out_reason\n2295550001,user_opt_out\n2295550002,disconnect\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert (result.status, result.rows, result.failed) == ("finished", 2, 0)
    assert "applied again after RowChanged" in caplog.text  # chunk 2 found its subscription ended
    ended = Subscription.objects.get(person=second)
    assert ended.opt_out_reason == "user_opt_out"  # the STOP's, not overwritten
    records = ConsentRecord.objects.filter(company=company, action="opt_out").order_by("sequence")
    chain = [(r.mdn, r.channel == "import", r.subscription_list_id) for r in records]
    # Chunk 1 is written while chunk 2 is looked up, before or after the STOP; the STOP's
    # record comes before chunk 2's, which was hashed after it again.
    assert sorted(chain) == [
        (first.mdn, True, news.pk),
        (second.mdn, False, news.pk),
        (second.mdn, True, None),
    ]
    assert chain.index((second.mdn, False, news.pk)) < chain.index((second.mdn, True, None))
    assert consent_ledger_verify(company=company).intact


@pytest.mark.django_db(transaction=True)
def test_a_chunk_rolled_back_takes_the_chunk_written_beside_it_along(
    company, write_file, monkeypatch, caplog
):
    # Chunks of one row; a STOP ends the second number's subscription between chunk 2's
    # lookup and its write, so chunk 2 is rolled back. On PostgreSQL chunk 3 is written
    # beside it, its records hashed after chunk 2's, which never were: rolled back too.
    # Both are applied again, in the file's order.
    news = SubscriptionListFactory(company=company)
    persons = [PersonFactory(company=company, mdn=f"+1229555000{n}") for n in (1, 2, 3)]
    for person in persons:
        subscription_add(person=person, subscription_list=news)
    stopped = persons[1]
    _after_the_second_lookup(
        monkeypatch, lambda: number_stop(company=company, mdn=stopped.mdn, person=stopped)
    )
    content = "mdn,opt_out_reason\n2295550001,disconnect\n2295550002,disconnect\n"
    content += "2295550003,disconnect\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert (result.status, result.rows, result.records_done, result.failed) == (
        "finished", 3, 3, 0,
    )  # fmt: skip
    assert "applied again after RowChanged" in caplog.text
    if connection.vendor == "postgresql":
        assert "applied again after OutOfTurn" in caplog.text
    reasons = dict(Subscription.objects.values_list("person__mdn", "opt_out_reason"))
    assert reasons == {persons[0].mdn: "disconnect", stopped.mdn: "user_opt_out",
                       persons[2].mdn: "disconnect"}  # fmt: skip
    records = ConsentRecord.objects.filter(company=company, action="opt_out").order_by("sequence")
    chain = [(r.mdn, r.channel == "import") for r in records]
    assert sorted(chain) == [(persons[0].mdn, True), (stopped.mdn, False), (stopped.mdn, True),
                             (persons[2].mdn, True)]  # fmt: skip
    assert chain.index((stopped.mdn, False)) < chain.index((stopped.mdn, True))
    assert chain[-1] == (persons[2].mdn, True)
    assert consent_ledger_verify(company=company).intact


@pytest.mark.django_db(transaction=True)
def test_stops_arriving_while_an_opt_outs_file_is_written_all_stand(company, write_file):
    # STOPs from another connection while the import writes (on PostgreSQL two chunks at
    # a time): each waits for the chunks in flight or is waited for, none deadlocks or
    # fails, and the ledger holds every opt-out once, in one unbroken chain.
    news = SubscriptionListFactory(company=company)
    persons = [PersonFactory(company=company, mdn=f"+1229555{n:04d}") for n in range(120)]
    for person in persons:
        subscription_add(person=person, subscription_list=news)
    unknown = [f"+1229666{n:04d}" for n in range(120)]
    numbers = [mdn for pair in zip((p.mdn for p in persons), unknown, strict=True)
               for mdn in pair]  # fmt: skip
    content = "mdn\n" + "".join(f"{mdn[2:]}\n" for mdn in numbers)
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )
    stopped = numbers[::6]  # from the whole file: some before the import gets there, some after
    failures, started = [], threading.Event()

    def stop_them() -> None:
        started.set()
        try:
            for mdn in stopped:
                person = Person.objects.filter(company=company, mdn=mdn).first()
                with transaction.atomic():
                    number_stop(company=company, mdn=mdn, person=person)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    stopper = threading.Thread(target=stop_them)
    stopper.start()
    started.wait()
    result = person_import_run(person_import.pk, chunk_size=8)
    stopper.join()

    assert failures == []
    assert (result.status, result.rows, result.failed) == ("finished", 240, 0)
    assert not Subscription.objects.filter(company=company, opt_out_date__isnull=True).exists()
    assert set(silenced_numbers(company)) == set(numbers)
    records = ConsentRecord.objects.filter(company=company, action="opt_out")
    assert records.filter(channel="import").count() == 240
    assert records.exclude(channel="import").count() == len(stopped)
    assert consent_ledger_verify(company=company).intact


def _after_the_second_lookup(monkeypatch, act) -> None:
    """Run `act` right after the import's second lookup, once chunk 1 has committed (chunks
    of one row: chunk 2 is looked up, on the planning thread's connection, while chunk 1 is
    written; `act` before chunk 1's commit would meet chunk 1 instead)."""
    real_look_up = subscription_files.persons_with_active_subscriptions
    lookups = []

    def look_up_then_act(company_id, column, values):
        found = real_look_up(company_id, column, values)
        lookups.append(values)
        if len(lookups) == 2:
            _wait_until(lambda: PersonImport.objects.filter(records_done__gte=1).exists())
            with transaction.atomic():
                act()
        return found

    monkeypatch.setattr(subscription_files, "persons_with_active_subscriptions", look_up_then_act)


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def silenced_numbers(company) -> dict[str, list[int]]:
    return dict(
        SuppressedNumber.objects.filter(company=company).values_list("mdn", "ended_list_ids")
    )


@pytest.mark.django_db(transaction=True)
def test_a_number_stopped_between_an_opt_outs_lookup_and_its_write_is_silenced_once(
    company, write_file, monkeypatch, caplog
):
    # The chunk is looked up (on the planning thread) before the STOP and written after
    # it. PostgreSQL silences an import's numbers by COPY: the STOP's row fails it on the
    # primary key (company, mdn), and the chunk, applied again, merges into that row by
    # the upsert. SQLite merges by its lookup of the silenced numbers, in the write.
    news = SubscriptionListFactory(company=company)
    first = PersonFactory(company=company, mdn="+12295550001")
    subscription_add(person=first, subscription_list=news)
    _after_the_second_lookup(
        monkeypatch, lambda: number_stop(company=company, mdn="+12295550002", person=None)
    )
    content = "mdn,opt_out_reason\n2295550001,user_opt_out\n2295550002,disconnect\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert (result.status, result.rows, result.failed) == ("finished", 2, 0)
    if connection.vendor == "postgresql":
        assert "upserts from here on" in caplog.text  # chunk 2's COPY met the STOP's number
    assert silenced_numbers(company) == {"+12295550001": [news.pk], "+12295550002": []}
    records = ConsentRecord.objects.filter(company=company, action="opt_out").order_by("sequence")
    chain = [(r.mdn, r.channel == "import") for r in records]
    assert sorted(chain) == [("+12295550001", True), ("+12295550002", False),
                             ("+12295550002", True)]  # fmt: skip
    assert chain.index(("+12295550002", False)) < chain.index(("+12295550002", True))
    assert consent_ledger_verify(company=company).intact


@pytest.mark.django_db(transaction=True)
def test_a_number_twice_in_consecutive_chunks_merges_its_lists(company, write_file, caplog):
    # Chunk 2 names the number chunk 1 silenced: on PostgreSQL its COPY fails the chunk,
    # which is applied again the serial way, where the COPY fails in a savepoint and the
    # upsert merges the lists (and silences every later chunk's numbers).
    person, news, deals = _subscribed_to_two_lists(company, "+12295550001")
    content = f"mdn,subscription_list_id\n2295550001,{news.pk}\n2295550001,\n2295550001,\n"
    content += "2295550009,\n2295550009,\n"
    person_import = person_import_create(
        company_key="ACME", file_path=write_file("x.opt_outs", content)
    )

    result = person_import_run(person_import.pk, chunk_size=1)

    assert (result.status, result.rows, result.failed) == ("finished", 5, 0)
    assert active_lists(person) == set()
    assert silenced_numbers(company) == {"+12295550001": [deals.pk], "+12295550009": []}
    imported = ConsentRecord.objects.filter(company=company, channel="import")
    assert imported.count() == 5
    assert "applied again after RowChanged" not in caplog.text
    assert consent_ledger_verify(company=company).intact
