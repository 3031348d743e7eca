"""Row rules of seeds/004: identification, creation, every row-level error class."""

from __future__ import annotations

import pytest

from mobiledb.errors import CarrierLookupPermanentFailure, CarrierLookupTransientFailure
from mobiledb.models import Person
from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import PersonFactory

from .conftest import errors_of

HEADER = "mdn,external_person_id,first_name,tier,interests\n"


def person(**lookup) -> Person:
    return Person.objects.get(**lookup)


def test_rows_create_persons_by_mdn_and_by_external_id(standard_fields, run_import):
    result = run_import("ACME", HEADER + "2295551234,,Ann,gold,shoes|bags\n,CRM-2,Bob,,\n")

    assert (result.rows, result.created, result.updated, result.failed) == (2, 2, 0, 0)
    ann = person(mdn="+12295551234")
    assert ann.custom_fields == {
        "first_name": "Ann",
        "tier": "gold",
        "interests": ["shoes", "bags"],
    }
    assert person(external_person_id="CRM-2").mdn is None


def test_e164_and_ten_digit_mdns_are_the_same_person(standard_fields, run_import):
    result = run_import("ACME", "mdn,first_name\n2295551234,Ann\n+12295551234,Annie\n")

    assert (result.created, result.updated) == (1, 1)
    assert person(mdn="+12295551234").custom_fields == {"first_name": "Annie"}


def test_international_e164_mdn_is_accepted(standard_fields, run_import):
    run_import("ACME", "mdn,first_name\n+442071838750,Ann\n")

    assert person(mdn="+442071838750").custom_fields == {"first_name": "Ann"}


def test_empty_cells_leave_fields_unchanged(standard_fields, run_import):
    PersonFactory(company=standard_fields, mdn="+12295551234", external_person_id="E1",
                  custom_fields={"first_name": "Ann", "tier": "gold"})  # fmt: skip

    result = run_import("ACME", HEADER + "2295551234,,,silver,\n")

    assert result.updated == 1
    assert person(mdn="+12295551234").custom_fields == {"first_name": "Ann", "tier": "silver"}
    assert person(mdn="+12295551234").external_person_id == "E1"


def test_person_id_wins_over_every_other_identifier(standard_fields, run_import):
    target = PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="A")
    other = PersonFactory(company=standard_fields, mdn="+12295550002", external_person_id="B")

    result = run_import(
        "ACME",
        "person_id,person_key,external_person_id,mdn,first_name\n"
        f"{target.pk},{other.person_key},A,2295550001,Won\n",
    )

    assert result.updated == 1, errors_of(result)
    assert person(pk=target.pk).custom_fields == {"first_name": "Won"}
    assert person(pk=other.pk).custom_fields == {}


def test_person_key_wins_over_external_id_and_mdn(standard_fields, run_import):
    target = PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="A")
    other = PersonFactory(company=standard_fields, mdn="+12295550002", external_person_id="B")

    result = run_import(
        "ACME", f"person_key,mdn,first_name\n{str(target.person_key).upper()},,Key\n"
    )
    run_import("ACME", f"person_key,first_name\n{target.person_key},Key2\n")

    assert result.updated == 1
    assert person(pk=target.pk).custom_fields == {"first_name": "Key2"}
    assert person(pk=other.pk).custom_fields == {}


def test_external_id_wins_over_mdn_and_can_set_a_missing_mdn(standard_fields, run_import):
    target = PersonFactory(company=standard_fields, mdn=None, external_person_id="A")

    result = run_import("ACME", "external_person_id,mdn,first_name\nA,2295550009,Ext\n")

    assert result.updated == 1, errors_of(result)
    assert person(pk=target.pk).mdn == "+12295550009"


def test_person_id_row_sets_external_id(standard_fields, run_import):
    target = PersonFactory(company=standard_fields, external_person_id=None)

    run_import("ACME", f"person_id,external_person_id\n{target.pk},NEW-1\n")

    assert person(pk=target.pk).external_person_id == "NEW-1"


@pytest.mark.parametrize(
    ("content", "error_class", "message"),
    [
        ("mdn\n12345\n", "MobilePhoneErrors::InvalidMDNFormat",
         "The mdn is incorrectly formatted. It should be an E.164 mdn."),
        ("mdn,shoe_size\n2295551234,42\n", "PersonErrors::CustomFieldNotFound",
         "Custom field not found"),
        ("mdn,tier\n2295551234,Gold\n", "PersonErrors::InvalidSelectCustomFieldValue",
         "Invalid custom field value"),
        ("mdn,interests\n2295551234,shoes|hats\n", "PersonErrors::InvalidSelectCustomFieldValue",
         "Invalid custom field value"),
        ("mdn,points\n2295551234,many\n", "PersonErrors::InvalidSelectCustomFieldValue",
         "Invalid custom field value"),
        ("mdn,code\n2295551234,caf\u00e9\n", "PersonErrors::InvalidSelectCustomFieldValue",
         "Custom field value is incompatible with the field's character set"),
        ("person_id,first_name\n999999,Ann\n", "PersonErrors::PersonNotFound",
         "Person not found"),
        ("person_key,first_name\n6f1d7a8e-2b7a-4b0e-9d55-2a3b4c5d6e7f,Ann\n",
         "PersonErrors::PersonNotFound", "Person not found"),
        ("person_id,first_name\n12ab,Ann\n", "PersonErrors::InvalidPersonID",
         "Invalid person_id"),
        ("mdn,external_person_id,first_name\n,,Ann\n",
         "PersonErrors::PersonCreateRequiresDeviceOrExternalPersonId",
         "Creating a Person requires a device or an external person id"),
    ],
)  # fmt: skip
def test_row_errors_name_the_seed_class_and_message(
    standard_fields, run_import, content, error_class, message
):
    custom_field_create(company=standard_fields, name="code", data_type="string",
                        character_set="ascii")  # fmt: skip

    result = run_import("ACME", content)

    assert (result.rows, result.failed, result.created) == (1, 1, 0)
    assert errors_of(result) == [(2, error_class, message)]
    assert Person.objects.count() == 0


def test_mdn_change_is_refused(standard_fields, run_import):
    PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="A")

    result = run_import("ACME", "external_person_id,mdn,first_name\nA,2295550002,X\n")

    assert errors_of(result) == [(2, "PersonErrors::MdnChangeNotAllowed", "mdn change not allowed")]
    assert person(external_person_id="A").custom_fields == {}


def test_mdn_of_another_person_is_refused(standard_fields, run_import):
    PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="A")
    without_mdn = PersonFactory(company=standard_fields, mdn=None, external_person_id="B")

    result = run_import("ACME", "external_person_id,mdn\nB,2295550001\nC,2295550001\n")

    expected = ("PersonErrors::MobilePhoneAlreadyAssigned", "Mobile Phone Already Assigned")
    assert errors_of(result) == [(2, *expected), (3, *expected)]
    assert person(pk=without_mdn.pk).mdn is None
    assert not Person.objects.filter(external_person_id="C").exists()


def test_external_id_of_another_person_is_a_unique_violation(standard_fields, run_import):
    PersonFactory(company=standard_fields, external_person_id="TAKEN")
    target = PersonFactory(company=standard_fields, external_person_id="MINE")

    result = run_import("ACME", f"person_id,external_person_id,first_name\n{target.pk},TAKEN,X\n")

    assert errors_of(result) == [
        (2, "PG::UniqueViolation", "duplicate key value violates unique constraint")
    ]
    assert person(pk=target.pk).external_person_id == "MINE"


def test_another_companys_person_is_not_found(standard_fields, run_import):
    stranger = PersonFactory(mdn="+12295550001")

    result = run_import("ACME", f"person_id,first_name\n{stranger.pk},X\n")

    assert errors_of(result)[0][1] == "PersonErrors::PersonNotFound"


def test_select_keys_are_case_sensitive_and_multi_select_uses_its_delimiter(
    standard_fields, run_import
):
    content = "Multi-Select-Delimiter: ;\n\nmdn,tier,interests\n2295551234,silver,bags;shoes\n"

    run_import("ACME", content)

    assert person(mdn="+12295551234").custom_fields == {
        "tier": "silver",
        "interests": ["bags", "shoes"],
    }


def test_date_values_take_utc_and_offset_forms(standard_fields, run_import):
    custom_field_create(company=standard_fields, name="birthday", data_type="date")

    run_import(
        "ACME",
        "mdn,birthday\n2295550001,2017-01-15T15:34:52Z\n2295550002,2017-01-15T10:34:52-0500\n",
    )

    assert {p.custom_fields["birthday"] for p in Person.objects.all()} == {"2017-01-15T15:34:52Z"}


def test_same_mdn_twice_in_a_chunk_creates_once_then_updates(standard_fields, run_import):
    content = HEADER + "2295551234,,Ann,gold,\n2295551234,,,silver,bags\n2295551234,E9,,,\n"

    result = run_import("ACME", content)

    assert (result.created, result.updated, result.failed) == (1, 2, 0), errors_of(result)
    ann = person(mdn="+12295551234")
    assert ann.external_person_id == "E9"
    assert ann.custom_fields == {"first_name": "Ann", "tier": "silver", "interests": ["bags"]}


def test_a_failed_row_does_not_affect_later_rows_of_the_same_person(standard_fields, run_import):
    content = HEADER + "2295551234,,Ann,gold,\n2295551234,,Bad,Gold,\n2295551234,,,,shoes\n"

    result = run_import("ACME", content)

    assert (result.created, result.updated, result.failed) == (1, 1, 1)
    assert person(mdn="+12295551234").custom_fields == {
        "first_name": "Ann",
        "tier": "gold",
        "interests": ["shoes"],
    }


def test_external_id_longer_than_the_column_is_refused(standard_fields, run_import):
    result = run_import("ACME", f"external_person_id\n{'x' * 129}\n")

    assert errors_of(result)[0][1] == "PersonErrors::InvalidExternalPersonId"


def test_rows_identified_only_by_device_id_are_not_found(standard_fields, run_import):
    result = run_import("ACME", "vibes_device_id,first_name\nDEV-1,Ann\n")

    assert errors_of(result) == [(2, "PersonErrors::PersonNotFound", "Person not found")]


class ScriptedCarrierLookup:
    def lookup(self, mdns):
        return {
            "+12295550001": CarrierLookupTransientFailure(),
            "+12295550002": CarrierLookupPermanentFailure(),
            "+12295550003": "ATT",
        }


def test_carrier_lookup_errors_fail_their_rows(standard_fields, run_import, settings):
    settings.PERSON_IMPORT_CARRIER_LOOKUP = "tests.imports.test_rules.ScriptedCarrierLookup"

    result = run_import("ACME", "mdn\n2295550001\n2295550002\n2295550003\n2295550004\n")

    assert [(row, error_class) for row, error_class, _ in errors_of(result)] == [
        (2, "CarrierLookupService::TransientLookupFailureError"),
        (3, "CarrierLookupService::PermanentLookupFailureError"),
    ]
    assert person(mdn="+12295550003").carrier_code == "ATT"
    assert person(mdn="+12295550004").carrier_code is None
