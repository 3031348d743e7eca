from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from vibesweb.errors import DomainError
from vibesweb.tenancy.models import Company
from wallet.services.campaigns import wallet_campaign_create


class Command(BaseCommand):
    help = "Create a wallet campaign (SPEC 10); prints its wallet_id alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the company key")
        parser.add_argument("name")
        parser.add_argument("--type", required=True, help="offer, loyalty or event_ticket")
        parser.add_argument("--description", default="")

    def handle(self, *args, key, name, type, description, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key {key!r}")
        fields = {"name": name, "type": type, "description": description}
        try:
            campaign = wallet_campaign_create(company=company, fields=fields)
        except DomainError as error:
            raise CommandError("; ".join(e["message"] for e in error.as_entries())) from None
        self.stdout.write(f"Created wallet campaign {campaign.name!r} ({campaign.type})")
        self.stdout.write(campaign.wallet_id)
