from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from vibesweb.tenancy.models import Company
from vibesweb.tenancy.services import api_user_create


class Command(BaseCommand):
    help = "Create a user who may call the API for a company (resets the password if it exists)."

    def add_arguments(self, parser):
        parser.add_argument("key", help="company key")
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--staff", action="store_true", help="may also use the admin")

    def handle(self, *args, key: str, username: str, password: str, staff: bool, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key '{key}'")
        user = api_user_create(company=company, username=username, password=password, staff=staff)
        self.stdout.write(f"API user {user.username} may call /companies/{company.key}")
