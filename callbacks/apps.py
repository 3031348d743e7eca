from __future__ import annotations

from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = "Callbacks"

    def ready(self) -> None:
        # Register the tasks, which the services queue by name (vibesweb.celery.enqueue).
        from . import tasks  # noqa: F401
        from .services.events import register_company_fact

        register_company_fact()
