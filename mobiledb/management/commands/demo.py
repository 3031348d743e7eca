"""Idempotent demo data: company DEMO, logins, custom fields, lists and persons."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from mobiledb.models import CustomField, Person, SubscriptionList
from mobiledb.services.custom_fields import custom_field_create
from mobiledb.services.persons import person_add
from vibesweb.tenancy.models import Company, Membership
from vibesweb.tenancy.services import api_user_create, company_create

DEMO_FIELDS = [
    ("first_name", "string", []),
    ("last_name", "string", []),
    ("zip_code", "string", []),
    ("loyalty_points", "integer", []),
    ("birthday", "date", []),
    ("vip", "boolean", []),
    ("tier", "single_select", [("gold", "Gold"), ("silver", "Silver"), ("bronze", "Bronze")]),
    ("interests", "multi_select", [("shoes", "Shoes"), ("bags", "Bags"), ("sale", "Sale")]),
]
FIRST_NAMES = ["John", "Ana", "Mei", "Omar", "Lena", "Raj", "Sofia", "Tom", "Ines", "Kwame"]
LAST_NAMES = ["Doe", "Silva", "Chen", "Haddad", "Berg", "Patel", "Rossi", "Smith", "Lopez"]


class Command(BaseCommand):
    help = "Create (or complete) the DEMO company with logins, custom fields, lists and persons."

    @transaction.atomic
    def handle(self, *args, **options):
        company = Company.objects.filter(key="DEMO").first() or company_create(
            key="DEMO", name="Demo Brand"
        )
        self._admin_login(company)
        api_user_create(company=company, username="demo-api", password="demo-api-password")
        api_user_create(company=company, username="marketer", password="marketer", staff=True)
        for name, data_type, choices in DEMO_FIELDS:
            if not CustomField.objects.filter(company=company, name=name).exists():
                custom_field_create(
                    company=company, name=name, data_type=data_type, options=choices
                )
        for list_name in ("Main list", "Promotions"):
            SubscriptionList.objects.get_or_create(company=company, name=list_name)
        self._persons(company)
        self.stdout.write(
            f"Demo ready: company DEMO, {Person.objects.filter(company=company).count()} persons"
        )

    def _admin_login(self, company: Company) -> None:
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            admin = user_model.objects.create_superuser("admin", "admin@example.com", "admin")
        Membership.objects.get_or_create(user=admin, company=company)

    def _persons(self, company: Company) -> None:
        company.refresh_from_db()
        for number in range(40):
            first = FIRST_NAMES[number % len(FIRST_NAMES)]
            last = LAST_NAMES[number % len(LAST_NAMES)]
            person_add(
                company=company,
                mdn=f"+1612555{number:04d}",
                external_person_id=f"CRM-{1000 + number}",
                custom_fields={
                    "first_name": first,
                    "last_name": last,
                    "loyalty_points": number * 10,
                    "tier": ["gold", "silver", "bronze"][number % 3],
                    "interests": [["shoes"], ["bags", "sale"], []][number % 3],
                },
            )
