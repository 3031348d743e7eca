from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vibesweb.tenancy.services import company_create


class Command(BaseCommand):
    help = "Create a company (tenant) with its mobile database."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the API's :company_key")
        parser.add_argument("--name", required=True)

    def handle(self, *args, key: str, name: str, **options):
        try:
            company = company_create(key=key, name=name)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created company {company.key} ({company.name})")
        self.stdout.write(str(company.pk))
