from __future__ import annotations

from django.apps import AppConfig


class MobileDBConfig(AppConfig):
    name = "mobiledb"
    verbose_name = "Mobile database"

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .imports import admin as imports_admin  # noqa: F401
