"""Atomic rows and chunks, checkpoints, resume, re-runs, cancel, leases, callbacks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mobiledb.imports import engine as engine_module
from mobiledb.imports import store as store_module
from mobiledb.imports.models import PersonImport
from mobiledb.imports.services import (
    person_import_cancel,
    person_import_claim,
    person_import_create,
    person_import_run,
)
from mobiledb.models import Person
from tests.factories import PersonFactory

from .conftest import CONTENT, errors_of


def state() -> list[tuple]:
    return sorted(
        Person.objects.values_list("external_person_id", "mdn", "custom_fields", "carrier_code")
    )


def test_rerunning_a_file_reaches_the_same_state(old_person, run_import):
    first = run_import("ACME", CONTENT + "E7,bad,X,gold\n", chunk_size=4)
    after_first = state()

    second = run_import("ACME", CONTENT + "E7,bad,X,gold\n", chunk_size=3)

    assert (first.created, first.updated, first.failed) == (5, 1, 1)
    assert (second.created, second.updated, second.failed) == (0, 6, 1)
    assert state() == after_first


class Crash(BaseException):  # noqa: N818
    """The worker being killed (as SystemExit would): not an error of the import, which
    fails on any Exception instead of staying "running" (issue 16)."""


def test_crash_in_the_middle_of_a_chunk_leaves_no_partial_row(old_person, run_import, monkeypatch):
    chunks = {"n": 0}
    real_emit = engine_module.emit_chunk_callbacks

    def emit_then_crash(*args):
        chunks["n"] += 1
        if chunks["n"] == 2:  # second chunk: its persons are written, then we die
            raise Crash()
        return real_emit(*args)

    monkeypatch.setattr(engine_module, "emit_chunk_callbacks", emit_then_crash)

    with pytest.raises(Crash):
        run_import("ACME", CONTENT, chunk_size=3)

    person_import = PersonImport.objects.get()
    assert (person_import.records_done, person_import.created) == (3, 3)
    assert Person.objects.get(external_person_id="OLD").custom_fields == {"first_name": "Before"}
    assert not Person.objects.filter(external_person_id="E5").exists()

    # The worker is gone; once its lease expires the import resumes after chunk one.
    monkeypatch.setattr(engine_module, "emit_chunk_callbacks", real_emit)
    PersonImport.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    resumed = person_import_run(person_import.pk, chunk_size=3)

    assert resumed.status == PersonImport.Status.FINISHED
    assert (resumed.rows, resumed.created, resumed.updated, resumed.failed) == (6, 5, 1, 0)
    assert Person.objects.get(external_person_id="OLD").custom_fields == {
        "first_name": "Updated",
        "tier": "silver",
    }
    assert Person.objects.count() == 6


def test_a_live_lease_is_not_taken_over(standard_fields, tmp_path):
    path = tmp_path / "a.persons"
    path.write_text("mdn\n2295550001\n")
    person_import = person_import_create(company_key="ACME", file_path=str(path))

    assert person_import_claim(person_import.pk) is not None
    assert person_import_claim(person_import.pk) is None
    assert person_import_run(person_import.pk) is None
    PersonImport.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert person_import_claim(person_import.pk) is not None


def test_cancel_stops_after_the_current_chunk(standard_fields, run_import):
    def cancel_after_first_chunk(person_import):
        person_import_cancel(person_import)

    from mobiledb.imports import services

    path_content = "mdn\n" + "".join(f"229555{n:04d}\n" for n in range(10))
    original_run = services.ImportRun.__init__

    def with_callback(self, *args, **kwargs):
        kwargs["on_chunk"] = cancel_after_first_chunk
        original_run(self, *args, **kwargs)

    services.ImportRun.__init__ = with_callback
    try:
        result = run_import("ACME", path_content, chunk_size=4)
    finally:
        services.ImportRun.__init__ = original_run

    assert result.status == PersonImport.Status.CANCELED
    assert (result.rows, Person.objects.count()) == (4, 4)


def test_cancel_of_a_pending_import_is_immediate(standard_fields, tmp_path):
    path = tmp_path / "a.persons"
    path.write_text("mdn\n2295550001\n")
    person_import = person_import_create(company_key="ACME", file_path=str(path))

    person_import_cancel(person_import)

    assert person_import.status == PersonImport.Status.CANCELED
    assert person_import_run(person_import.pk) is None
    assert Person.objects.count() == 0


def test_a_concurrent_writer_fails_only_the_affected_row(standard_fields, run_import, monkeypatch):
    PersonFactory(company=standard_fields, mdn="+12295550002", external_person_id="X")
    real_find = store_module.PersonStore.find
    stale = {"reads": 1}

    def find_before_the_other_writer(self, field, values, **options):
        rows = real_find(self, field, values, **options)
        if field == "mdn" and stale["reads"]:
            stale["reads"] -= 1  # the other writer commits X right after this read
            rows = [row for row in rows if row[2] != "+12295550002"]
        return rows

    monkeypatch.setattr(store_module.PersonStore, "find", find_before_the_other_writer)

    result = run_import("ACME", "external_person_id,mdn\nE1,2295550001\nE2,2295550002\n")

    assert (result.created, result.failed) == (1, 1)
    assert errors_of(result) == [
        (3, "PersonErrors::MobilePhoneAlreadyAssigned", "Mobile Phone Already Assigned")
    ]
    assert Person.objects.get(mdn="+12295550002").external_person_id == "X"


@pytest.mark.django_db(transaction=True)
def test_later_chunks_see_what_earlier_chunks_did_at_every_boundary(
    standard_fields, run_import, caplog
):
    # Chunks of 2: each row names a person the row before it created, changed or gave an
    # external id to. On PostgreSQL the next chunk is looked up before the previous one is
    # written, so this proves its view is carried over (and on SQLite, chunk by chunk).
    # Outside a test transaction, as an import runs: inside one, chunks go one by one.
    content = (
        "external_person_id,mdn,first_name,tier\n"
        "A,2295550001,Ann,gold\n"  # chunk 1 creates A
        ",2295550009,Zed,\n"  # chunk 1 creates a person with an MDN only
        "A,,Anne,\n"  # chunk 2 updates A, created by chunk 1
        "Z,2295550009,,silver\n"  # chunk 2 gives the MDN-only person external id Z
        "Z,,,gold\n"  # chunk 3 finds Z by the id chunk 2 gave
        "A,2295550002,,\n"  # chunk 3: A's MDN cannot change
        ",2295550001,,silver\n"  # chunk 4 finds A by MDN
        "B,2295550009,,\n"  # chunk 4: the MDN is Z's, B is new: refused
    )

    result = run_import("ACME", content, chunk_size=2)

    assert (result.created, result.updated, result.failed) == (2, 4, 2)
    assert errors_of(result) == [
        (7, "PersonErrors::MdnChangeNotAllowed", "mdn change not allowed"),
        (9, "PersonErrors::MobilePhoneAlreadyAssigned", "Mobile Phone Already Assigned"),
    ]
    assert state() == [
        ("A", "+12295550001", {"first_name": "Anne", "tier": "silver"}, None),
        ("Z", "+12295550009", {"first_name": "Zed", "tier": "gold"}, None),
    ]
    assert "applied again" not in caplog.text  # the carried view was right the first time


@pytest.mark.django_db(transaction=True)
def test_a_chunk_sees_an_external_id_the_chunk_before_gave_up(standard_fields, run_import, caplog):
    # Chunk 1 moves OLD's external id from A to B; chunk 2 names A, which is free again.
    # On PostgreSQL chunk 2 was looked up before chunk 1 wrote: it found OLD under A.
    old = PersonFactory(company=standard_fields, external_person_id="A",
                        custom_fields={"first_name": "Before"})  # fmt: skip
    content = f"person_id,external_person_id,first_name\n{old.pk},B,\n,A,New\n"

    result = run_import("ACME", content, chunk_size=1)

    assert (result.created, result.updated, result.failed) == (1, 1, 0)
    old.refresh_from_db()
    assert (old.external_person_id, old.custom_fields) == ("B", {"first_name": "Before"})
    assert Person.objects.get(external_person_id="A").custom_fields == {"first_name": "New"}
    assert "applied again" not in caplog.text  # the carried view was right the first time


@pytest.mark.django_db(transaction=True)
def test_a_person_another_writer_changes_mid_chunk_keeps_both_changes(
    standard_fields, run_import, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite imports under its write lock: no other writer can come between")
    PersonFactory(company=standard_fields, external_person_id="OLD",
                  custom_fields={"first_name": "Before"})  # fmt: skip
    real_execute = store_module.PersonStore.execute_writes
    other_writer_ran = []

    def another_writer_first(self, prepared):
        if not other_writer_ran:
            # A separate connection (its own thread) commits a change to OLD after the
            # import read OLD and before it writes OLD.
            def write():
                Person.objects.filter(external_person_id="OLD").update(
                    custom_fields={"first_name": "Before", "tier": "silver"}
                )
                connection.close()

            writer = threading.Thread(target=write)
            writer.start()
            writer.join()
            other_writer_ran.append(True)
        return real_execute(self, prepared)

    monkeypatch.setattr(store_module.PersonStore, "execute_writes", another_writer_first)

    result = run_import("ACME", "external_person_id,first_name\nOLD,After\nNEW,New\n")

    assert (result.created, result.updated, result.failed) == (1, 1, 0)
    assert Person.objects.get(external_person_id="OLD").custom_fields == {
        "first_name": "After",
        "tier": "silver",
    }
    assert other_writer_ran == [True]


@pytest.mark.postgres_only
def test_lookups_are_planned_as_index_probes_and_the_session_is_left_as_it_was(
    standard_fields, run_import, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    plans = []
    find = store_module.PersonStore.find

    def find_noting_the_planner(self, field, values, *, lock=True):
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_hashjoin")
            plans.append(cursor.fetchone()[0])
        return find(self, field, values, lock=lock)

    monkeypatch.setattr(store_module.PersonStore, "find", find_noting_the_planner)

    run_import("ACME", "external_person_id,mdn\nE1,2295550001\n")

    assert plans and set(plans) == {"off"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_hashjoin")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_file_error_deep_in_the_file_keeps_earlier_chunks_and_leaves_no_thread(
    standard_fields, run_import
):
    huge = "x" * (2 * 1024 * 1024)  # past the CSV reader's cell limit
    content = "mdn,first_name\n2295550001,Ann\n2295550002,Bob\n2295550003," + huge + "\n"

    result = run_import("ACME", content, chunk_size=2)

    assert result.status == PersonImport.Status.FAILED
    assert result.error_class == "PersonErrors::InvalidImportFileFormat"
    assert Person.objects.count() == 2  # the first chunk committed before the error
    assert not any(t.name.startswith("persons-apply") for t in threading.enumerate())
