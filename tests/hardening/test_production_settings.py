"""Production settings come from the environment (issue 16, Low 13): with them set,
`manage.py check --deploy` passes with no warning; the API docs are public or not by a
setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "k3Jd9-production-like-secret-key-with-enough-entropy-7Gq2LmZ0pXw8",
    "DEBUG": "off",
    "ALLOWED_HOSTS": "vibes.example.com",
    "SECURE_COOKIES": "on",
    "SECURE_SSL_REDIRECT": "on",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "on",
    "SECURE_HSTS_PRELOAD": "on",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "API_"))}
    environment.update(DJANGO_SETTINGS_MODULE="vibesweb.settings", **env)
    environment.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run([sys.executable, *code_or_args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_check_deploy_passes_with_the_production_variables():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_without_them():
    defaults = {"SECRET_KEY": PRODUCTION["SECRET_KEY"], "ALLOWED_HOSTS": "vibes.example.com"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **defaults)
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


SCHEMA_STATUS = """
import django; django.setup()
from django.test import Client
client = Client()
print(client.get("/api/schema").status_code, client.get("/api/docs").status_code)
"""


def test_api_docs_are_public_by_default_and_private_by_setting():
    public = run(["-c", SCHEMA_STATUS])
    assert public.stdout.split()[-2:] == ["200", "200"], public.stderr[-2000:]
    private = run(["-c", SCHEMA_STATUS], API_DOCS_PUBLIC="off")
    assert private.stdout.split()[-2:] == ["401", "401"], private.stderr[-2000:]
