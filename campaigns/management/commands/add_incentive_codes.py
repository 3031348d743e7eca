"""`add_incentive_codes KEY POOL_ID [CODE ...] [--file F]` (SPEC section 2)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.incentives.loading import RefusedCode, incentive_codes_load
from campaigns.incentives.selectors import incentive_pool_get
from vibesweb.errors import DomainError
from vibesweb.tenancy.models import Company


class Command(BaseCommand):
    help = (
        "Load codes into an incentive pool, from arguments and/or a text or CSV file (one "
        "code per line, first column); prints how many were added and each refused code."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the company key")
        parser.add_argument("pool_id")
        parser.add_argument("codes", nargs="*", metavar="CODE")
        parser.add_argument("--file", dest="file", help="a text or CSV file of codes")

    def handle(self, *args, key, pool_id, codes, file, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key {key!r}")
        if not codes and not file:
            raise CommandError("Give codes as arguments, or --file FILE")
        try:
            pool = incentive_pool_get(company=company, pool_id=pool_id)
        except DomainError as error:
            raise CommandError(error.message) from None

        def refused(item: RefusedCode, where: str) -> None:
            self.stdout.write(f"refused {where} line {item.line}: {item.code!r}: {item.reason}")

        added = refused_count = 0
        try:
            if codes:
                result = incentive_codes_load(
                    pool=pool, codes=codes, on_refused=lambda r: refused(r, "argument")
                )
                added, refused_count = result.added, result.refused
            if file:
                with open(file, "rb") as source:
                    result = incentive_codes_load(
                        pool=pool, source=source, on_refused=lambda r: refused(r, "file")
                    )
                added, refused_count = added + result.added, refused_count + result.refused
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"added {added} codes to pool {pool.pk}; refused {refused_count}")
