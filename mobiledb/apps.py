from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig


class MobileDBConfig(AppConfig):
    name = "mobiledb"
    verbose_name = "Mobile database"

    def ready(self) -> None:
        from . import signals  # noqa: F401

        # issue 5: admin of lists/subscriptions/broadcasts, and the broadcast tasks
        for module in ("admin_subscriptions", "tasks_broadcasts"):
            import_module(f"{self.name}.{module}")
