"""A unique pool's queue (campaigns/incentives/queue.py): where this process last took a
code is only a hint: no code is skipped for good, and the low probe counts every code."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.incentives import queue
from campaigns.models import IncentiveCode

from .conftest import load

pytestmark = pytest.mark.django_db


def ids_of(pool) -> list[int]:
    return list(IncentiveCode.objects.filter(pool=pool).order_by("id").values_list("id", flat=True))


def take_all(pool) -> list[str]:
    taken = []
    while (code := queue.code_take_next(pool, timezone.now())) is not None:
        taken.append(code.code)
    return taken


def test_codes_are_taken_in_load_order(pool):
    load(pool, ["A", "B", "C"])
    assert take_all(pool) == ["A", "B", "C"]


def test_codes_behind_the_remembered_position_are_still_taken(pool):
    load(pool, ["A", "B", "C", "D"])
    queue._taken_up_to[pool.pk] = ids_of(pool)[1]  # as if B was taken and A left behind
    assert take_all(pool) == ["C", "D", "A", "B"]
    assert not IncentiveCode.objects.filter(pool=pool, issued_at__isnull=True).exists()


def test_the_position_moves_once_the_taking_transaction_commits(
    pool, django_capture_on_commit_callbacks
):
    load(pool, ["A", "B"])
    with django_capture_on_commit_callbacks(execute=True):
        taken = queue.code_take_next(pool, timezone.now())
    assert queue._taken_up_to[pool.pk] == taken.pk


def test_a_rolled_back_take_leaves_the_position_where_it_was(pool):
    load(pool, ["A", "B"])
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.code_take_next(pool, timezone.now())
        raise RuntimeError("the issuance failed")
    assert pool.pk not in queue._taken_up_to
    assert take_all(pool) == ["A", "B"]


@pytest.mark.parametrize("remembered", [None, 0, 1, 3])
def test_low_probe_counts_the_codes_before_the_remembered_position(pool, remembered):
    load(pool, ["A", "B", "C", "D"])
    if remembered is not None:
        queue._taken_up_to[pool.pk] = ids_of(pool)[remembered]
    assert queue.unissued_at_most(pool, 4)
    assert not queue.unissued_at_most(pool, 3)
