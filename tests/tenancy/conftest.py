"""Two companies with one object of every kind (see world.py)."""

from __future__ import annotations

import pytest

from .world import Tenant, build_tenant


@pytest.fixture
def tenants(db) -> tuple[Tenant, Tenant]:
    """(A, B): A's identifiers carry "zqa", B's "zqb"; A also has a person_updated
    callback registration, a type B lacks."""
    return build_tenant("zqa", "1", ("person_updated",)), build_tenant("zqb", "2")
