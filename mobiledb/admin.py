"""The mobile database's admin, one module per capability; Django's admin autodiscovery
imports this module, which loads them all (each registers its own ModelAdmins)."""

from __future__ import annotations

from .broadcasts import admin as broadcasts_admin
from .imports.admin import PersonImportAdmin, export_persons
from .persons.admin import PersonAdmin, person_inline_register
from .subscriptions import admin as subscriptions_admin

# The .persons export is an action of the Person list (mobiledb/imports).
PersonAdmin.actions = [*(PersonAdmin.actions or []), export_persons]

__all__ = [
    "PersonAdmin",
    "PersonImportAdmin",
    "broadcasts_admin",
    "person_inline_register",
    "subscriptions_admin",
]
