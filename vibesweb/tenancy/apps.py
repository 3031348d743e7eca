from __future__ import annotations

from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "vibesweb.tenancy"
    label = "tenancy"
    verbose_name = "Companies and access"
