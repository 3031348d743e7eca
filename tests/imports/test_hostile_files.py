"""Hostile and broken files never leave an import "running" (issue 16, Medium 2, Low 6
and 8): each failure ends with a clear file- or row-level error, and no row after the
last good chunk is dropped without saying so."""

from __future__ import annotations

import pytest
from django.db import DataError

from mobiledb.imports import engine as engine_module
from mobiledb.imports.models import PersonImport
from mobiledb.models import Person

from .conftest import errors_of

pytestmark = pytest.mark.django_db
Status = PersonImport.Status
HEAD = "external_person_id,mdn,first_name\n"


def rows(*numbers: int) -> str:
    return "".join(f"E{n},22955500{n:02d},N{n}\n" for n in numbers)


def test_a_header_line_over_the_line_limit_fails_the_import(standard_fields, run_import):
    content = "Fields: external_person_id,mdn," + "x" * (1024 * 1024 + 10) + "\n\n" + rows(1)
    person_import = run_import("ACME", content)
    assert person_import.status == Status.FAILED
    assert person_import.error_class == "PersonErrors::InvalidImportFileFormat"
    assert "Line 1 is longer than" in person_import.error_message
    assert not Person.objects.exists()


def test_a_column_row_past_the_csv_field_limit_fails_the_import(
    standard_fields, run_import, settings
):
    settings.PERSON_IMPORT_MAX_LINE_CHARS = 4 * 1024 * 1024  # let csv itself refuse it
    content = 'mdn,"' + "x" * (1024 * 1024 + 10) + '"\n' + "2295550001,a\n"
    person_import = run_import("ACME", content)
    assert person_import.status == Status.FAILED
    assert "column names cannot be read" in person_import.error_message


def test_a_long_body_line_fails_with_its_line_number_after_the_good_rows(
    standard_fields, run_import, settings
):
    settings.PERSON_IMPORT_MAX_LINE_CHARS = 200
    content = HEAD + rows(1, 2) + "E3,2295550003," + "y" * 300 + "\n" + rows(4)
    person_import = run_import("ACME", content, chunk_size=1)
    assert person_import.status == Status.FAILED
    assert "Line 4 is longer than 200 characters" in person_import.error_message
    assert person_import.records_done == 2


def test_too_many_columns_is_a_file_level_error(standard_fields, run_import, settings):
    settings.PERSON_IMPORT_MAX_COLUMNS = 3
    person_import = run_import("ACME", "mdn,a,b,c\n2295550001,1,2,3\n")
    assert person_import.status == Status.FAILED
    assert "at most 3 are read" in person_import.error_message


def test_a_nul_in_a_cell_is_an_error_row_and_the_others_are_applied(standard_fields, run_import):
    content = HEAD + rows(1) + "E2,2295550002,bad\x00name\n" + rows(3)
    person_import = run_import("ACME", content, chunk_size=2)
    assert person_import.status == Status.FINISHED
    assert (person_import.created, person_import.failed) == (2, 1)
    assert errors_of(person_import)[0][:2] == (3, "InvalidCharacter")


def test_a_database_refusal_in_a_chunk_fails_only_that_row(
    standard_fields, run_import, monkeypatch
):
    real_emit = engine_module.emit_chunk_callbacks

    def refuse_e2(company, result, now):
        if any(s.external_person_id == "E2" for s in result.created):
            raise DataError("invalid byte sequence")
        return real_emit(company, result, now)

    monkeypatch.setattr(engine_module, "emit_chunk_callbacks", refuse_e2)
    person_import = run_import("ACME", HEAD + rows(1, 2, 3, 4), chunk_size=3)
    assert person_import.status == Status.FINISHED
    assert (person_import.created, person_import.failed) == (3, 1)
    assert errors_of(person_import)[0][:2] == (3, "PersonErrors::RowRefused")


def test_an_unexpected_error_fails_the_import_saying_what_was_not_applied(
    standard_fields, run_import, monkeypatch
):
    real_emit = engine_module.emit_chunk_callbacks
    calls = {"n": 0}

    def bug_in_second_chunk(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a bug")
        return real_emit(*args)

    monkeypatch.setattr(engine_module, "emit_chunk_callbacks", bug_in_second_chunk)
    person_import = run_import("ACME", HEAD + rows(1, 2, 3, 4), chunk_size=2)
    assert person_import.status == Status.FAILED
    assert person_import.error_class == "FileEngine::ImportInterrupted"
    assert "after 2 records" in person_import.error_message
    assert "not applied" in person_import.error_message
    assert person_import.lease_expires_at is None


def test_an_unbalanced_quote_that_closes_later_is_an_error_row(standard_fields, run_import):
    content = HEAD + rows(1) + 'E2,2295550002,"N2\n' + rows(3, 4) + 'E5,2295550005,N5"\n' + rows(6)
    person_import = run_import("ACME", content)
    assert person_import.status == Status.FINISHED
    assert person_import.failed == 1
    assert errors_of(person_import)[0][:2] == (3, "PersonErrors::UnbalancedQuote")
    assert set(Person.objects.values_list("external_person_id", flat=True)) == {"E1", "E6"}


def test_an_unbalanced_quote_never_closed_is_an_error_row(standard_fields, run_import):
    content = HEAD + rows(1) + 'E2,2295550002,"N2\n' + rows(3, 4)
    person_import = run_import("ACME", content, chunk_size=1)
    assert (person_import.status, person_import.created, person_import.failed) == (
        Status.FINISHED, 1, 1,
    )  # fmt: skip
    row, error_class, _ = errors_of(person_import)[0]
    assert (row, error_class) == (3, "PersonErrors::UnbalancedQuote")


def test_a_quoted_line_break_in_a_value_is_still_a_value(standard_fields, run_import):
    content = HEAD + 'E1,2295550001,"two\nlines"\n' + rows(2)
    person_import = run_import("ACME", content)
    assert (person_import.status, person_import.created) == (Status.FINISHED, 2)
    assert Person.objects.get(external_person_id="E1").custom_fields["first_name"] == "two\nlines"


def test_chunks_end_by_weight_so_wide_rows_never_pile_up():
    from mobiledb.imports.engine import _chunks

    wide = [(n, ["x" * 1000] * 1000) for n in range(100)]  # ~1 MB of cells each
    sizes = [len(chunk) for chunk in _chunks(iter(wide), 5000, max_weight=4 * 1024 * 1024)]
    assert max(sizes) <= 4 and sum(sizes) == 100
    narrow = [(n, ["a", "b"]) for n in range(12)]
    assert [len(c) for c in _chunks(iter(narrow), 5)] == [5, 5, 2]
