from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # Incentives: the code upload task, and the {{incentive_code:POOL_ID}} placeholder
        # of mobiledb's message templates (a registry mobiledb owns, filled from here).
        from .incentives import tasks, templating  # noqa: F401

        templating.register()
