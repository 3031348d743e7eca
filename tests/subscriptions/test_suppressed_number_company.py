"""A suppressed number always names an existing company: triggers, not a foreign key
constraint, enforce it (mobiledb/migrations/0011), for the ORM, raw SQL and COPY alike."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mobiledb.imports.subscription_store import numbers_silence_copy, silenced_copy_data
from mobiledb.models import SuppressedNumber
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY and row locks need PostgreSQL"
)


def missing_company_id() -> int:
    return CompanyFactory().pk + 1000


def test_creating_a_number_of_a_missing_company_raises_integrity_error():
    with pytest.raises(IntegrityError), transaction.atomic():
        SuppressedNumber.objects.create(company_id=missing_company_id(), mdn="+12295550001")
    assert not SuppressedNumber.objects.exists()


@postgres_only
@pytest.mark.postgres_only
def test_copying_numbers_of_a_missing_company_raises_integrity_error(company):
    data = silenced_copy_data(company.pk, {"+12295550001": set()}, timezone.now())
    data += silenced_copy_data(missing_company_id(), {"+12295550002": set()}, timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        numbers_silence_copy(data)
    assert not SuppressedNumber.objects.exists()


def test_moving_a_number_to_a_missing_company_raises_integrity_error(company):
    number = SuppressedNumber.objects.create(company=company, mdn="+12295550001")

    with pytest.raises(IntegrityError), transaction.atomic():
        SuppressedNumber.objects.filter(pk=number.pk).update(company_id=missing_company_id())
    number.refresh_from_db()
    assert number.company_id == company.pk


def test_updating_a_number_within_its_company_passes(company):
    number = SuppressedNumber.objects.create(company=company, mdn="+12295550001")

    SuppressedNumber.objects.filter(pk=number.pk).update(ended_list_ids=[7])

    number.refresh_from_db()
    assert number.ended_list_ids == [7]


def test_deleting_a_company_through_django_deletes_its_numbers(company):
    SuppressedNumber.objects.create(company=company, mdn="+12295550001")
    other = CompanyFactory()
    SuppressedNumber.objects.create(company=other, mdn="+12295550001")

    company.delete()

    assert list(SuppressedNumber.objects.values_list("company_id", flat=True)) == [other.pk]


@postgres_only
@pytest.mark.postgres_only
def test_deleting_a_company_row_that_has_numbers_raises_integrity_error(company):
    SuppressedNumber.objects.create(company=company, mdn="+12295550001")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_company WHERE id = %s", [company.pk])
    assert SuppressedNumber.objects.filter(company=company).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses it (above)")
def test_deleting_a_company_row_on_sqlite_deletes_its_numbers(company):
    # A refusal would break Django's flush, which empties SQLite tables in no set order.
    SuppressedNumber.objects.create(company=company, mdn="+12295550001")
    other = CompanyFactory()
    SuppressedNumber.objects.create(company=other, mdn="+12295550001")

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_company WHERE id = %s", [company.pk])

    assert list(SuppressedNumber.objects.values_list("company_id", flat=True)) == [other.pk]


def test_re_keying_a_company_that_has_numbers_raises_integrity_error(company):
    SuppressedNumber.objects.create(company=company, mdn="+12295550001")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_company SET id = %s WHERE id = %s", [company.pk + 1000, company.pk]
        )


def test_deleting_a_company_row_without_numbers_passes(company):
    other = CompanyFactory()
    SuppressedNumber.objects.create(company=other, mdn="+12295550001")

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_company WHERE id = %s", [company.pk])

    assert SuppressedNumber.objects.filter(company=other).exists()


@postgres_only
@pytest.mark.postgres_only
def test_truncating_companies_but_not_their_numbers_raises_integrity_error(company):
    SuppressedNumber.objects.create(company=company, mdn="+12295550001")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE tenancy_company CASCADE")


# Races: two sessions of their own, outside the test's transaction.


def session() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )


def in_background(work) -> tuple[threading.Thread, list]:
    """Run `work` in a thread; the list receives the exception it raised, or None."""
    outcome: list = []

    def run():
        try:
            work()
            outcome.append(None)
        except Exception as error:  # the test inspects it
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    return thread, outcome


def insert_number(cursor: psycopg.Cursor, company_id: int) -> None:
    cursor.execute(
        "INSERT INTO mobiledb_suppressednumber (company_id, mdn, ended_list_ids, created_at) "
        "VALUES (%s, '+12295550001', '[]', now())",
        [company_id],
    )


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_company_delete_waits_for_an_insert_of_its_numbers_then_is_refused():
    company_id = CompanyFactory().pk
    with session() as importer, session() as deleter:
        insert_number(importer.cursor(), company_id)  # its transaction stays open

        thread, outcome = in_background(
            lambda: deleter.execute("DELETE FROM tenancy_company WHERE id = %s", [company_id])
        )
        assert thread.is_alive() and not outcome  # waits on the importer's FOR KEY SHARE
        importer.commit()
        thread.join(10)

        assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_insert_of_numbers_waits_for_a_delete_of_their_company_then_is_refused():
    company_id = CompanyFactory().pk
    with session() as importer, session() as deleter:
        deleter.execute("DELETE FROM tenancy_company WHERE id = %s", [company_id])

        thread, outcome = in_background(lambda: insert_number(importer.cursor(), company_id))
        assert thread.is_alive() and not outcome  # its FOR KEY SHARE waits on the delete
        deleter.commit()
        thread.join(10)

        assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
