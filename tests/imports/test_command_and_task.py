"""`import_persons KEY FILE [--json]` (SPEC section 2) and the Celery task."""

from __future__ import annotations

import io
import json
import threading

import pytest
from celery.signals import task_failure, task_postrun
from django.core.management import call_command

from mobiledb.imports.models import PersonImport
from mobiledb.imports.services import person_import_create
from mobiledb.imports.tasks import person_import_task
from mobiledb.models import Person


def run_command(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_persons", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def persons_file(tmp_path):
    def write(content: str):
        path = tmp_path / "crm.persons"
        path.write_text(content, encoding="utf-8")
        return str(path)

    return write


def test_json_summary_lists_counts_and_errors(standard_fields, persons_file):
    path = persons_file("mdn,tier\n2295550001,gold\n2295550002,GOLD\n2295550001,silver\n")

    code, out, _ = run_command("ACME", path, "--json")

    body = json.loads(out)
    assert code == 0
    assert set(body) == {"rows", "created", "updated", "failed", "error_report", "errors"}
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (3, 1, 1, 1)
    assert body["errors"] == [
        {
            "row": 3,
            "error_class": "PersonErrors::InvalidSelectCustomFieldValue",
            "message": "Invalid custom field value",
        }
    ]
    with open(body["error_report"], encoding="utf-8") as report:
        assert report.read().count("\n") == 2


def test_text_summary_says_where_the_error_report_is(standard_fields, persons_file):
    code, out, _ = run_command("ACME", persons_file("mdn\n2295550001\nbad\n"))

    assert code == 0
    assert "rows: 2, created: 1, updated: 0, failed: 1" in out
    assert "Error report: " in out and out.strip().endswith("-errors.csv")


def test_file_level_error_exits_non_zero_with_class_and_message(standard_fields, persons_file):
    code, _, err = run_command("ACME", persons_file("first_name\nAnn\n"))

    assert code != 0
    assert (
        "PersonErrors::InvalidImportFileFormat: Couldn't find a person_id, external_person_id, "
        "mdn, or vives_device_id field"
    ) in err


def test_unknown_company_exits_non_zero_in_json_too(db, persons_file):
    code, out, _ = run_command("NOPE", persons_file("mdn\n2295550001\n"), "--json")

    body = json.loads(out)
    assert code != 0
    assert body["error_class"] == "TenantEngine::SchemaErrors::InvalidSchemaNameError"
    assert body["rows"] == 0


def test_missing_file_is_a_command_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import_persons", "ACME", "/nonexistent/crm.persons")


def test_task_runs_an_import_and_ignores_a_finished_one(standard_fields, tmp_path):
    path = tmp_path / "a.persons"
    path.write_text("mdn\n2295550001\n")
    person_import = person_import_create(company_key="ACME", file_path=str(path))

    person_import_task.apply(args=[person_import.pk])
    person_import_task.apply(args=[person_import.pk])

    person_import.refresh_from_db()
    assert person_import.status == PersonImport.Status.FINISHED
    assert person_import.rows == 1
    assert Person.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_imports_queue_runs_the_import(standard_fields, tmp_path):
    from celery.contrib.testing.worker import start_worker

    from vibesweb.celery import app

    path = tmp_path / "a.persons"
    path.write_text("mdn\n" + "".join(f"229555{n:04d}\n" for n in range(50)))
    person_import = person_import_create(company_key="ACME", file_path=str(path))

    # Told by the worker when the task has run, rather than polling the import's row
    # meanwhile: on SQLite's shared in-memory database the test's reads can meet the
    # worker's writes, and it answers "table is locked" at once instead of waiting (the
    # likely cause of one run whose import stayed pending for 20 s).
    ran, failures = threading.Event(), []

    def on_postrun(sender=None, **kwargs) -> None:
        if getattr(sender, "name", None) == person_import_task.name:
            ran.set()

    def on_failure(sender=None, exception=None, **kwargs) -> None:
        if getattr(sender, "name", None) == person_import_task.name:
            failures.append(repr(exception))

    task_postrun.connect(on_postrun, weak=False)
    task_failure.connect(on_failure, weak=False)
    try:
        with start_worker(app, queues=["imports"], perform_ping_check=False, pool="solo"):
            person_import_task.delay(person_import.pk)
            assert ran.wait(timeout=60), "the worker did not run the task"
    finally:
        task_postrun.disconnect(on_postrun)
        task_failure.disconnect(on_failure)

    assert failures == []
    person_import.refresh_from_db()
    assert person_import.status == PersonImport.Status.FINISHED
    assert Person.objects.filter(company=standard_fields).count() == 50
