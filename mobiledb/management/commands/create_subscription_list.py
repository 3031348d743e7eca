from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mobiledb.subscriptions.services import subscription_list_create
from vibesweb.tenancy.models import Company


class Command(BaseCommand):
    help = "Create a subscription list; prints its id alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the company key")
        parser.add_argument("name")
        parser.add_argument("--description", default="")

    def handle(self, *args, key: str, name: str, description: str, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key {key!r}")
        try:
            subscription_list = subscription_list_create(
                company=company, name=name, description=description
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created subscription list {subscription_list.name!r} for {key}")
        self.stdout.write(str(subscription_list.pk))
