from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mobiledb.subscriptions.consent import consent_ledger_verify
from vibesweb.tenancy.models import Company


class Command(BaseCommand):
    help = (
        "Check a company's consent ledger chain (SPEC section 13): exit 0 when intact, "
        "otherwise non-zero with the first broken record."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the company key")

    def handle(self, *args, key: str, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key {key!r}")
        result = consent_ledger_verify(company=company)
        if not result.intact:
            raise CommandError(
                f"Consent ledger of {key} is BROKEN at record #{result.broken_sequence}: "
                f"{result.problem} ({result.checked} record(s) before it verified)"
            )
        self.stdout.write(f"Consent ledger of {key} is intact: {result.checked} record(s) verified")
