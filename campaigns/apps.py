from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # Incentives fill the registries of the layers below: the {{incentive_code:POOL_ID}}
        # placeholder of mobiledb's message templates, and the check of a callback
        # registration's scope.pool_id; the code upload task is registered with Celery.
        from callbacks.services import scope_check_register

        from .incentives import tasks, templating  # noqa: F401
        from .incentives.selectors import incentive_pool_exists

        templating.register()
        scope_check_register("pool_id", incentive_pool_exists, noun="an incentive pool")
