from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import AcquisitionCampaign
from campaigns.services.acquisition import acquisition_campaign_create
from mobiledb.models import SubscriptionList
from vibesweb.tenancy.models import Company


class Command(BaseCommand):
    help = "Create an active acquisition campaign; prints its id alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the company key")
        parser.add_argument("name")
        parser.add_argument(
            "--list",
            dest="lists",
            action="append",
            required=True,
            type=int,
            help="target subscription list id (repeat for several)",
        )
        parser.add_argument("--keyword", default="")
        parser.add_argument("--short-code", default="")
        parser.add_argument("--double-opt-in", action="store_true")

    def handle(self, *args, key, name, lists, keyword, short_code, double_opt_in, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key {key!r}")
        found = list(SubscriptionList.objects.filter(company=company, pk__in=lists))
        missing = sorted(set(lists) - {item.pk for item in found})
        if missing:
            raise CommandError(f"No subscription list {missing} in company {key}")
        opt_in = (
            AcquisitionCampaign.OptIn.DOUBLE if double_opt_in else AcquisitionCampaign.OptIn.SINGLE
        )
        try:
            campaign = acquisition_campaign_create(
                company=company,
                name=name,
                subscription_lists=found,
                keyword=keyword,
                opt_in=opt_in,
                short_code=short_code,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created acquisition campaign {campaign.name!r} ({opt_in} opt-in)")
        self.stdout.write(str(campaign.pk))
