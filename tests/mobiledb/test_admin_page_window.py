"""A filtered persons list reads its page within a bounded range of the ordering's index
first (CappedCountPaginator.window), and shows exactly the page the full list would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mobiledb.models import Person, PersonTag
from tests.factories import CompanyFactory, PersonFactory, staff_client
from vibesweb.paginators import CappedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(company, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "WINDOW", 10)
    monkeypatch.setattr(type(admin.site._registry[Person]), "list_per_page", 3)
    return staff_client(company, "mobiledb", username="marketer")


def persons_changed(company, count: int, *, start=None, step=timedelta(minutes=1)) -> list:
    """`count` persons of `company`, the first changed most recently (as the list shows)."""
    start = start or timezone.now()
    persons = []
    for n in range(count):
        person = PersonFactory(company=company)
        Person.objects.filter(pk=person.pk).update(updated_at=start - step * n)
        persons.append(person)
    return persons


def tag(persons, name="vip") -> None:
    PersonTag.objects.bulk_create(PersonTag(person=person, tag=name) for person in persons)


def shown(client, **params) -> tuple[list[int], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/mobiledb/person/", params)
    assert response.status_code == 200
    return [p.pk for p in response.context["cl"].result_list], [q["sql"] for q in queries]


def windowed(sql: list[str]) -> bool:
    return any('"updated_at" >=' in statement for statement in sql)


def test_a_filter_matching_within_the_window_reads_the_page_there_and_shows_the_same_persons(
    marketer, company
):
    persons = persons_changed(company, 30)
    tag(persons[::2])  # 15 tagged: the first 5 among the 10 most recent

    first, sql = shown(marketer, tag="vip")
    second, _ = shown(marketer, tag="vip", p=2)

    assert first == [p.pk for p in persons[0:6:2]]
    assert second == [p.pk for p in persons[6:12:2]]
    assert windowed(sql)


def test_a_filter_too_sparse_for_the_window_reads_the_page_from_the_whole_list(marketer, company):
    persons = persons_changed(company, 30)
    tag(persons[-4:])  # only the oldest, outside the 10 most recent

    first, _ = shown(marketer, tag="vip")

    assert first == [p.pk for p in persons[-4:-1]]


def test_persons_changed_at_the_same_moment_as_the_window_edge_keep_the_lists_order(
    marketer, company
):
    moment = timezone.now()
    persons = persons_changed(company, 8) + persons_changed(
        company, 6, start=moment - timedelta(hours=1), step=timedelta(0)
    )  # the 9th to 14th share one moment: the window's edge falls among them
    tag(persons[7:])

    first, sql = shown(marketer, tag="vip")
    second, _ = shown(marketer, tag="vip", p=2)

    tied = sorted((p.pk for p in persons[8:]), reverse=True)  # then by id, descending
    assert first == [persons[7].pk, *tied[:2]]
    assert second == tied[2:5]
    assert windowed(sql)


def test_another_companys_recent_persons_neither_show_nor_fill_the_window(marketer, company):
    other = CompanyFactory(key="OTHER")
    theirs = persons_changed(other, 20, start=timezone.now() + timedelta(days=1))
    tag(theirs)
    mine = persons_changed(company, 30)
    tag(mine[-3:])

    first, _ = shown(marketer, tag="vip")

    assert first == [p.pk for p in mine[-3:]]


def test_a_list_sorted_by_a_column_is_not_read_by_the_window(marketer, company):
    persons = persons_changed(company, 30)
    tag(persons)

    _, sql = shown(marketer, tag="vip", o="-1")

    assert not windowed(sql)


def test_a_tags_count_is_its_companys_tagged_persons_only(marketer, company):
    other = CompanyFactory(key="OTHER")
    tag(persons_changed(other, 4))
    tag(persons_changed(company, 6)[:5])

    response = marketer.get("/admin/mobiledb/person/", {"tag": "vip"})

    assert response.context["cl"].result_count == 5


def test_a_tags_count_with_another_filter_counts_the_persons_matching_both(marketer, company):
    moment = timezone.now()
    tag(persons_changed(company, 6, start=moment))

    since = (moment - timedelta(minutes=1, seconds=30)).isoformat()
    response = marketer.get("/admin/mobiledb/person/", {"tag": "vip", "updated_at__gte": since})

    assert response.context["cl"].result_count == 2
