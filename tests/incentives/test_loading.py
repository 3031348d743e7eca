"""Code loading: files (BOM, CRLF, blanks, CSV, non-UTF-8), duplicates and long codes
reported with their line, the API, the command and the admin upload's task."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from campaigns.incentives.errors import CodeFileUnreadable
from campaigns.incentives.loading import incentive_codes_load
from campaigns.incentives.pools import incentive_pool_create
from campaigns.incentives.uploads import incentive_code_upload_create, incentive_code_upload_run
from campaigns.models import IncentiveCode, IncentiveCodeUpload
from tests.conftest import errors_of
from tests.factories import CompanyFactory
from vibesweb.celery import app

from .conftest import BASE, load

pytestmark = pytest.mark.django_db


def load_file(pool, content: bytes):
    return incentive_codes_load(pool=pool, source=io.BytesIO(content))


def codes_of(pool) -> list[str]:
    return list(
        IncentiveCode.objects.filter(pool=pool).order_by("id").values_list("code", flat=True)
    )


def test_file_with_bom_crlf_and_blank_lines_loads_every_code_in_order(pool):
    result = load_file(pool, b"\xef\xbb\xbfAAA1\r\n\r\nBBB2\r\n   \r\nCCC3")
    assert (result.lines, result.added, result.refused) == (3, 3, 0)
    assert codes_of(pool) == ["AAA1", "BBB2", "CCC3"]


def test_csv_takes_the_first_column_and_skips_a_header(pool):
    result = load_file(pool, b'code,value\nX1,5\n"Y,2",6\nZ3\n')
    assert result.added == 3
    assert codes_of(pool) == ["X1", "Y,2", "Z3"]


def test_non_utf8_file_is_a_clear_error_and_adds_nothing(pool):
    with pytest.raises(CodeFileUnreadable) as raised:
        load_file(pool, b"GOOD1\nBAD\xff\xfe2\n")
    assert "Line 2 is not UTF-8" in raised.value.message
    assert codes_of(pool) == []


def test_duplicates_in_the_file_are_reported_with_their_line(pool):
    result = load_file(pool, b"A\nB\nA\nC\nB\n")
    assert result.added == 3
    assert [(r.line, r.code, r.reason) for r in result.refused_codes] == [
        (3, "A", "duplicate of line 1"),
        (5, "B", "duplicate of line 2"),
    ]


def test_codes_already_in_the_company_are_reported_not_fatal(company, pool):
    other = incentive_pool_create(company=company, name="Other")
    load(other, ["TAKEN"])
    load(pool, ["MINE"])
    result = load_file(pool, b"NEW\nTAKEN\nMINE\n")
    assert result.added == 1
    assert [(r.line, r.reason) for r in result.refused_codes] == [
        (2, f"already in incentive pool {other.pk} of this company"),
        (3, "already in this pool"),
    ]


def test_same_code_in_another_company_is_fine(pool):
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirs")
    load(theirs, ["SAME"])
    assert load(pool, ["SAME"]).added == 1


def test_codes_longer_than_max_characters_are_reported(company):
    short = incentive_pool_create(company=company, name="Short", max_characters=4)
    result = load_file(short, b"ABCD\nABCDE\n")
    assert result.added == 1
    assert result.refused_codes[0].line == 2
    assert "5 characters" in result.refused_codes[0].reason


def test_a_million_duplicates_are_counted_not_fatal(pool):
    refused = []
    result = incentive_codes_load(
        pool=pool, source=io.BytesIO(b"SAME\n" * 100_000), on_refused=refused.append
    )
    assert (result.added, result.refused) == (1, 99_999)
    assert refused[-1].line == 100_000


def test_codes_are_unique_within_a_company_in_the_database(company, pool):
    load(pool, ["ONE"])
    with pytest.raises(IntegrityError), transaction.atomic():
        IncentiveCode.objects.create(company=company, pool=pool, code="ONE")


# --- API ------------------------------------------------------------------------------------


def test_api_adds_codes_and_lists_the_refused_ones(api, pool):
    response = api.post(f"{BASE}/pools/{pool.pk}/codes", {"codes": ["A", "B", "A", 7, ""]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["added"], body["refused"]) == (2, 3)
    assert body["refused_codes"] == [
        {"line": 3, "code": "A", "reason": "duplicate of line 1"},
        {"line": 4, "code": "7", "reason": "not a string"},
        {"line": 5, "code": "", "reason": "empty"},
    ]
    assert body["incentive_codes"]["total"] == 2


@pytest.mark.parametrize("body", [{}, {"codes": "A,B"}, {"codes": {"a": 1}}])
def test_api_without_a_list_of_codes_answers_400(api, pool, body):
    response = api.post(f"{BASE}/pools/{pool.pk}/codes", body)
    assert response.status_code == 400
    assert "codes must be a list" in errors_of(response)[0]["message"]


# --- command ------------------------------------------------------------------------------------


def test_command_adds_codes_from_arguments_and_a_file(company, pool, tmp_path):
    path = tmp_path / "codes.txt"
    path.write_bytes(b"F1\r\nF2\r\nARG1\r\n")
    out = io.StringIO()
    call_command(
        "add_incentive_codes", "ACME", str(pool.pk), "ARG1", "ARG2", file=str(path), stdout=out
    )
    text = out.getvalue()
    assert "added 4 codes" in text
    assert "refused 1" in text
    assert "line 3: 'ARG1': already in this pool" in text


def test_command_refuses_an_unknown_pool_or_unreadable_file(company, pool, tmp_path):
    with pytest.raises(CommandError, match="not found"):
        call_command("add_incentive_codes", "ACME", "999", "X")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("add_incentive_codes", "ACME", str(pool.pk), file=str(tmp_path / "none"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\n")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("add_incentive_codes", "ACME", str(pool.pk), file=str(bad))


# --- upload task ------------------------------------------------------------------------------


def test_upload_task_loads_the_file_and_writes_the_refused_report(pool, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    path = tmp_path / "codes.csv"
    path.write_bytes(b"U1\nU2\nU1\n" + b"X" * 300 + b"\n")
    upload = incentive_code_upload_create(pool=pool, file_path=str(path), file_name="codes.csv")
    assert incentive_code_upload_run(upload.pk) is True
    assert incentive_code_upload_run(upload.pk) is False  # claimed once
    upload.refresh_from_db()
    assert upload.status == IncentiveCodeUpload.Status.FINISHED
    assert (upload.lines, upload.added, upload.refused) == (4, 2, 2)
    report = Path(upload.report_path).read_text().splitlines()
    assert report[0] == "line,code,reason"
    assert report[1] == "3,U1,duplicate of line 1"


def test_upload_of_a_non_utf8_file_fails_with_its_message(pool, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    path = tmp_path / "codes.txt"
    path.write_bytes(b"OK\n\x80\x81\n")
    upload = incentive_code_upload_create(pool=pool, file_path=str(path), file_name="codes.txt")
    incentive_code_upload_run(upload.pk)
    upload.refresh_from_db()
    assert upload.status == IncentiveCodeUpload.Status.FAILED
    assert "Line 2 is not UTF-8" in upload.error_message
    assert not IncentiveCode.objects.exists()


def test_the_upload_task_runs_on_the_imports_queue():
    app.loader.import_default_modules()
    assert "campaigns.incentives.code_upload" in app.tasks
    route = app.amqp.router.route({}, "campaigns.incentives.code_upload")
    assert route["queue"].name == "imports"
