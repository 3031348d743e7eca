from __future__ import annotations

from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet Manager"

    def ready(self) -> None:
        # Imported once the models are: the tasks (queued by name from the services), and
        # the check of a callback registration's scope.campaign_token (callbacks knows
        # no wallet model).
        from callbacks.services import scope_check_register

        from . import tasks  # noqa: F401
        from .selectors import wallet_campaign_exists

        scope_check_register(
            "campaign_token", wallet_campaign_exists, noun="a wallet campaign token"
        )
