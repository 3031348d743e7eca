from __future__ import annotations

from django.apps import AppConfig


class MobileDBConfig(AppConfig):
    name = "mobiledb"
    verbose_name = "Mobile database"

    def ready(self) -> None:
        # Imported once the models are: signal receivers, the tasks (registered so the
        # services can queue them by name), and each capability's admin (the app has no
        # top-level admin module for Django's autodiscovery to load).
        from callbacks.services import batch_bodies_register, scope_check_register

        from . import tasks  # noqa: F401
        from .broadcasts import admin as broadcasts_admin  # noqa: F401
        from .imports import admin as imports_admin  # noqa: F401
        from .persons import admin as persons_admin  # noqa: F401
        from .persons import signals  # noqa: F401
        from .persons.callbacks import PERSON_TYPES, person_batch_bodies
        from .segments import admin as segments_admin  # noqa: F401
        from .subscriptions import admin as subscriptions_admin  # noqa: F401
        from .subscriptions import consent_admin  # noqa: F401
        from .subscriptions.selectors import subscription_list_exists

        # callbacks knows no domain model: it gets the person bodies of an import's
        # batched events, and the check of a registration's scope.list_id, from here.
        batch_bodies_register(PERSON_TYPES, person_batch_bodies)
        scope_check_register("list_id", subscription_list_exists, noun="a subscription list")
