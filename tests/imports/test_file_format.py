"""File format of seeds/004 and SPEC section 7: headers, delimiters, quoting, encodings."""

from __future__ import annotations

import pytest

from mobiledb.imports.models import PersonImport
from mobiledb.models import Person

from .conftest import errors_of


def fields_of(mdn: str) -> dict:
    return Person.objects.get(mdn=mdn).custom_fields


def test_first_row_names_the_columns(standard_fields, run_import):
    result = run_import("ACME", "mdn,first_name\n2295551234,Ann\n")

    assert result.status == PersonImport.Status.FINISHED
    assert fields_of("+12295551234") == {"first_name": "Ann"}


def test_fields_header_names_the_columns(standard_fields, run_import):
    content = "Fields: mdn,first_name,tier\n\n2295551234,Ann,gold\n"

    result = run_import("ACME", content)

    assert result.created == 1
    assert fields_of("+12295551234") == {"first_name": "Ann", "tier": "gold"}


def test_header_names_are_case_insensitive_and_all_three_apply(standard_fields, run_import):
    content = (
        "FIELDS: mdn,first_name,interests\r\n"
        "delimiter: ;\r\n"
        "Multi-select-DELIMITER: ,\r\n"
        "\r\n"
        "2295551234;Ann;shoes,bags\r\n"
    )

    run_import("ACME", content)

    assert fields_of("+12295551234") == {"first_name": "Ann", "interests": ["shoes", "bags"]}


def test_delimiter_header_without_fields_reads_columns_from_first_row(standard_fields, run_import):
    content = (
        "Delimiter: |\nMulti-Select-Delimiter: ;\n\n"
        "mdn|first_name|interests\n2295551234|Ann|bags;shoes\n"
    )

    result = run_import("ACME", content)

    assert result.created == 1, errors_of(result)
    assert fields_of("+12295551234") == {"first_name": "Ann", "interests": ["bags", "shoes"]}


def test_tab_delimiter_may_be_named(standard_fields, run_import):
    run_import("ACME", "Delimiter: tab\n\nmdn\tfirst_name\n2295551234\tAnn\n")

    assert fields_of("+12295551234") == {"first_name": "Ann"}


def test_quoted_fields_follow_rfc_4180(standard_fields, run_import):
    content = (
        'mdn,first_name\n2295550001,"Doe, ""Johnny"""\n2295550002,"two\nlines"\n2295550003,x\n'
    )

    result = run_import("ACME", content)

    assert fields_of("+12295550001") == {"first_name": 'Doe, "Johnny"'}
    assert fields_of("+12295550002") == {"first_name": "two\nlines"}
    assert result.rows == 3


def test_byte_order_mark_is_ignored(standard_fields, run_import):
    result = run_import("ACME", "\ufeffmdn,first_name\n2295551234,Ann\n".encode())

    assert result.created == 1
    assert fields_of("+12295551234") == {"first_name": "Ann"}


def test_byte_order_mark_before_a_header_block_is_ignored(standard_fields, run_import):
    result = run_import("ACME", "\ufeffFields: mdn,first_name\n\n2295551234,Ann\n".encode())

    assert result.created == 1


def test_utf8_values_are_kept(standard_fields, run_import):
    run_import("ACME", "mdn,first_name\n2295551234,Zoë 李\n".encode())

    assert fields_of("+12295551234") == {"first_name": "Zoë 李"}


def test_latin1_file_is_a_file_level_error_and_applies_nothing(standard_fields, run_import):
    content = "mdn,first_name\n2295550001,Ann\n" * 20 + "2295559999,Zo\u00eb\n"

    result = run_import("ACME", content.encode("latin-1"), chunk_size=5)

    assert result.status == PersonImport.Status.FAILED
    assert result.error_class == "FileEngine::EncodingDetection::Unknown8BitEncodingDetected"
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    "content",
    ["first_name,tier\nAnn,gold\n", "Fields: first_name\n\nAnn\n", "", "\n\n"],
)
def test_file_without_an_identifying_column_is_invalid(standard_fields, run_import, content):
    result = run_import("ACME", content)

    assert result.status == PersonImport.Status.FAILED
    assert result.error_class == "PersonErrors::InvalidImportFileFormat"
    assert result.error_message == (
        "Couldn't find a person_id, external_person_id, mdn, or vives_device_id field"
    )
    assert result.rows == 0


def test_uppercase_column_is_not_an_identifier(standard_fields, run_import):
    # seeds/004: "The field names must be lowercase."
    result = run_import("ACME", "MDN,first_name\n2295551234,Ann\n")

    assert result.error_class == "PersonErrors::InvalidImportFileFormat"


def test_unknown_company_is_an_invalid_schema_name(run_import, db):
    result = run_import("NOPE", "mdn\n2295551234\n")

    assert result.status == PersonImport.Status.FAILED
    assert result.error_class == "TenantEngine::SchemaErrors::InvalidSchemaNameError"
    assert result.error_message == "Schema name for company NOPE (is null was not found)"


def test_blank_lines_are_skipped_and_rows_keep_their_file_line(standard_fields, run_import):
    content = "Fields: mdn,tier\n\n2295550001,gold\n\n2295550002,GOLD\n"

    result = run_import("ACME", content)

    assert result.rows == 2
    assert [row for row, _, _ in errors_of(result)] == [5]


def test_short_rows_are_padded_and_long_rows_fail(standard_fields, run_import):
    result = run_import("ACME", "mdn,first_name,tier\n2295550001\n2295550002,Ann,gold,extra\n")

    assert result.created == 1
    assert errors_of(result)[0][:2] == (3, "PersonErrors::InvalidImportFileFormat")


def test_duplicate_column_is_invalid(standard_fields, run_import):
    result = run_import("ACME", "mdn,mdn\n2295550001,2295550002\n")

    assert result.error_class == "PersonErrors::InvalidImportFileFormat"


def test_error_report_has_the_original_row(standard_fields, run_import):
    result = run_import("ACME", 'mdn,first_name\n123,"a,b"\n')

    with open(result.error_report_path, encoding="utf-8") as report:
        lines = report.read().splitlines()
    assert lines[0] == "row,error_class,message,detail,original_row"
    assert lines[1].startswith("2,MobilePhoneErrors::InvalidMDNFormat,")
    assert lines[1].endswith('"123,""a,b"""')


@pytest.mark.parametrize(
    "header", ["Delimiter:\t", "Delimiter: \t", "delimiter: TAB", "Delimiter: \\t"]
)
def test_tab_delimiter_in_every_spelling(standard_fields, run_import, header):
    run_import("ACME", f"{header}\n\nmdn\tfirst_name\n2295551234\tAnn\n")

    assert fields_of("+12295551234") == {"first_name": "Ann"}


def test_delimiter_of_two_characters_is_invalid(standard_fields, run_import):
    result = run_import("ACME", "Delimiter: ;;\n\nmdn\n2295551234\n")

    assert result.error_class == "PersonErrors::InvalidImportFileFormat"
    assert "single character" in result.error_message


def test_backslashes_tabs_and_quotes_in_cells_arrive_unchanged(standard_fields, run_import):
    # The PostgreSQL path writes new persons as COPY text, where these characters are special.
    content = 'external_person_id,first_name\n"back\\slash\ttab","say ""hi"" \\ \\n there"\n'

    result = run_import("ACME", content)

    assert (result.created, result.failed) == (1, 0)
    person = Person.objects.get()
    assert person.external_person_id == "back\\slash\ttab"
    assert person.custom_fields == {"first_name": 'say "hi" \\ \\n there'}


def test_control_characters_in_identifiers_find_and_update_the_same_persons(
    standard_fields, run_import
):
    # On PostgreSQL a chunk's lookups and updates send their values joined by control
    # characters; values that hold those characters must still find their persons.
    content = (
        'external_person_id,mdn,first_name\n"unit\x1fsep",,Ann\n'
        '"record\x1esep",,Bob\n"plain",2295551235,Cy\n'
    )
    run_import("ACME", content)

    result = run_import("ACME", content.replace("Ann", "Annie").replace("Bob", "Bobby"))

    assert (result.created, result.updated, result.failed) == (0, 3, 0)
    assert Person.objects.get(external_person_id="unit\x1fsep").custom_fields == {
        "first_name": "Annie"
    }
    assert Person.objects.get(external_person_id="record\x1esep").custom_fields == {
        "first_name": "Bobby"
    }
    assert Person.objects.count() == 3


def test_a_person_gaining_an_identity_keeps_its_empty_ones_empty(standard_fields, run_import):
    # An update of external id, MDN and carrier sends NULLs for the ones still unset.
    run_import("ACME", "mdn,first_name\n2295551234,Ann\n")

    result = run_import("ACME", "mdn,external_person_id\n2295551234,CRM-1\n")

    assert (result.updated, result.failed) == (1, 0)
    ann = Person.objects.get()
    assert (ann.external_person_id, ann.mdn) == ("CRM-1", "+12295551234")
    assert ann.custom_fields == {"first_name": "Ann"}
