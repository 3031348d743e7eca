"""The persons list's search index (issue 14): filled by the scheduler's indexer, never on
the persons' write path, and never the cause of a stale or foreign result."""

from __future__ import annotations

import pytest

from mobiledb.models import Person, PersonSearchEntry
from mobiledb.segments import search, selectors
from mobiledb.segments.selectors import persons_search
from mobiledb.segments.tasks import person_search_index
from tests.factories import CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_lag(settings):
    # the mark right up to the indexer's start: persons of the test are then "indexed"
    settings.PERSON_SEARCH_INDEX_LAG_SECONDS = 0


def found(company, term: str) -> set[int]:
    return set(
        persons_search(Person.objects.filter(company=company), term).values_list("pk", flat=True)
    )


def test_a_search_before_any_indexing_scans_and_finds_names_and_mdn_suffixes(company):
    ann = PersonFactory(
        company=company, mdn="+16125550003", custom_fields={"first_name": "Annabel"}
    )

    assert search.indexed_through() is None
    assert found(company, "annab") == {ann.pk}
    assert found(company, "50003") == {ann.pk}


def test_the_indexer_run_by_the_scheduler_indexes_every_person_and_sets_its_mark(company):
    people = [
        PersonFactory(company=company, custom_fields={"first_name": f"N{n}"}) for n in range(7)
    ]

    assert person_search_index.apply(kwargs={}).get() == 7

    assert search.indexed_through() is not None
    entries = PersonSearchEntry.objects.filter(person__in=people)
    assert entries.count() == 7
    assert person_search_index.apply().get() == 0  # nothing changed since


def test_a_search_reads_the_index_for_persons_unchanged_since_the_mark(company):
    ann = PersonFactory(company=company, custom_fields={"first_name": "Annabel"})
    search.person_search_index()
    # what only the index says: the search must have read it rather than scanned
    PersonSearchEntry.objects.filter(person=ann).update(fields_text='{"first_name": "Zebulon"}')

    assert found(company, "zebulon") == {ann.pk}


def test_an_edit_after_indexing_is_found_at_once_by_its_new_value_not_its_old_one(company):
    ann = PersonFactory(company=company, custom_fields={"first_name": "Annabel"})
    search.person_search_index()

    ann.custom_fields = {"first_name": "Beatrix"}
    ann.save()  # as the admin and the API do: updated_at moves past the mark

    assert found(company, "beatrix") == {ann.pk}
    assert found(company, "annabel") == set()
    search.person_search_index()
    assert found(company, "beatrix") == {ann.pk}
    assert found(company, "annabel") == set()


def test_a_person_added_after_indexing_is_found_before_the_next_run(company):
    search.person_search_index()

    cleo = PersonFactory(company=company, mdn="+16125550777", custom_fields={"first_name": "Cleo"})

    assert found(company, "cleo") == {cleo.pk}
    assert found(company, "0777") == {cleo.pk}


def test_a_partial_mdn_is_found_through_the_index_and_a_changed_mdn_by_its_new_digits(company):
    dora = PersonFactory(company=company, mdn="+16125550123")
    PersonFactory(company=company, mdn="+16125550124")
    search.person_search_index()

    assert found(company, "0123") == {dora.pk}
    dora.mdn = "+16125559876"
    dora.save()
    assert found(company, "0123") == set()
    assert found(company, "9876") == {dora.pk}


def test_a_deleted_person_is_not_found_and_leaves_no_entry(company):
    eve = PersonFactory(company=company, custom_fields={"first_name": "Evangeline"})
    search.person_search_index()

    eve.delete()

    assert found(company, "evangeline") == set()
    assert not PersonSearchEntry.objects.filter(person_id=eve.pk).exists()


def test_the_index_never_shows_another_company_s_persons(company):
    other = CompanyFactory(key="OTHER", name="Other")
    mine = PersonFactory(company=company, mdn="+16125550042", custom_fields={"first_name": "Sam"})
    theirs = PersonFactory(company=other, mdn="+16125550042", custom_fields={"first_name": "Sam"})
    search.person_search_index()

    assert found(company, "sam") == {mine.pk}
    assert found(other, "sam") == {theirs.pk}
    assert found(company, "0042") == {mine.pk}


def test_a_value_matching_more_persons_than_the_ids_cap_is_answered_by_the_scan(
    company, monkeypatch
):
    austin = [PersonFactory(company=company, custom_fields={"city": "Austin"}) for _ in range(5)]
    PersonFactory(company=company, custom_fields={"city": "Boston"})
    search.person_search_index()
    monkeypatch.setattr(selectors, "SEARCH_IDS_CAP", 2)

    assert found(company, "austin") == {person.pk for person in austin}


def test_every_word_must_match_the_same_person(company):
    ann = PersonFactory(company=company, custom_fields={"first_name": "Ann", "city": "Austin"})
    PersonFactory(company=company, custom_fields={"first_name": "Ann", "city": "Boston"})
    search.person_search_index()

    assert found(company, "ann austin") == {ann.pk}


@pytest.fixture
def eager_celery():
    from vibesweb.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_a_finished_import_task_queues_the_indexer_for_its_persons(
    company, tmp_path, settings, eager_celery
):
    from mobiledb.imports.services import person_import_create
    from mobiledb.imports.tasks import person_import_task

    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = tmp_path / "people.persons"
    path.write_text("external_person_id,mdn\nX1,+16125550901\n", encoding="utf-8")
    person_import = person_import_create(company_key=company.key, file_path=str(path))

    person_import_task.apply(args=[person_import.pk]).get()

    quentin = Person.objects.get(company=company, external_person_id="X1")
    assert search.indexed_through() is not None
    assert PersonSearchEntry.objects.get(person=quentin).mdn_reversed == "10905552161"
    assert found(company, "0901") == {quentin.pk}


def test_the_persons_list_finds_a_person_by_name_through_the_index_and_after_an_edit(company):
    from django.test import Client

    from vibesweb.tenancy.services import api_user_create

    user = api_user_create(company=company, username="marketer", password="x", staff=True)
    client = Client()
    client.force_login(user)
    person = PersonFactory(company=company, custom_fields={"nickname": "Rosalind"})
    search.person_search_index()

    assert f"/{person.pk}/change/" in client.get("/admin/mobiledb/person/?q=rosal").content.decode()
    person.custom_fields = {"nickname": "Theodora"}
    person.save()
    assert f"/{person.pk}/change/" in client.get("/admin/mobiledb/person/?q=theod").content.decode()
    assert (
        f"/{person.pk}/change/"
        not in client.get("/admin/mobiledb/person/?q=rosal").content.decode()
    )
