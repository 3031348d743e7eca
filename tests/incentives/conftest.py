from __future__ import annotations

import pytest

from campaigns.incentives import queue
from campaigns.incentives.loading import incentive_codes_load
from campaigns.incentives.pools import incentive_pool_create

BASE = "/companies/ACME/incentives"


@pytest.fixture
def pool(company):
    return incentive_pool_create(company=company, name="Spring", low_threshold=0)


def load(pool, codes):
    return incentive_codes_load(pool=pool, codes=codes)


@pytest.fixture
def stocked_pool(pool):
    load(pool, [f"CODE{n:03d}" for n in range(5)])
    return pool


@pytest.fixture(autouse=True)
def forget_queue_positions():
    """Each process remembers where it last took a code (campaigns/incentives/queue.py);
    a test starts without a memory of another test's pools."""
    queue._taken_up_to.clear()
    yield
    queue._taken_up_to.clear()
