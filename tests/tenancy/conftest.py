"""Two companies with one object of every kind (see world.py)."""

from __future__ import annotations

import pytest

from .world import Tenant, build_tenant


@pytest.fixture
def tenants(db) -> tuple[Tenant, Tenant]:
    """(A, B): A's identifiers carry "zqa", B's "zqb"."""
    return build_tenant("zqa", "1"), build_tenant("zqb", "2")
