"""Demo data: company DEMO, logins, custom fields, lists and persons.

Creates what is missing and never changes what exists: `bin/run` runs it at every start,
and a marketer's edits to demo persons (or a changed demo password) must survive that,
without a `person_updated` callback per restart (issue 14).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.models import AcquisitionCampaign
from campaigns.services.acquisition import acquisition_campaign_create
from mobiledb.models import CustomField, Person, Subscription, SubscriptionList
from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.services import person_add
from mobiledb.subscriptions.services import (
    subscription_add,
    subscription_list_create,
    subscription_opt_out,
)
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
        self._login(company, "demo-api", "demo-api-password", staff=False)
        self._login(company, "marketer", "marketer", staff=True)
        for name, data_type, choices in DEMO_FIELDS:
            if not CustomField.objects.filter(company=company, name=name).exists():
                custom_field_create(
                    company=company, name=name, data_type=data_type, options=choices
                )
        lists = [self._list(company, name) for name in ("Main list", "Promotions")]
        self._campaigns(company, lists)
        self._persons(company)
        self._subscriptions(company, lists[0])
        self.stdout.write(
            f"Demo ready: company DEMO, {Person.objects.filter(company=company).count()} persons"
        )

    def _admin_login(self, company: Company) -> None:
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            admin = user_model.objects.create_superuser("admin", "admin@example.com", "admin")
        Membership.objects.get_or_create(user=admin, company=company)

    def _login(self, company: Company, username: str, password: str, *, staff: bool) -> None:
        if not get_user_model().objects.filter(username=username).exists():
            api_user_create(company=company, username=username, password=password, staff=staff)

    def _list(self, company: Company, name: str) -> SubscriptionList:
        existing = SubscriptionList.objects.filter(company=company, name=name).first()
        return existing or subscription_list_create(company=company, name=name)

    def _campaigns(self, company: Company, lists: list[SubscriptionList]) -> None:
        campaigns = [
            ("Text JOIN to join", "JOIN", AcquisitionCampaign.OptIn.SINGLE, lists[0]),
            ("VIP offers (double opt-in)", "VIP", AcquisitionCampaign.OptIn.DOUBLE, lists[1]),
        ]
        for name, keyword, opt_in, target in campaigns:
            if not AcquisitionCampaign.objects.filter(company=company, name=name).exists():
                acquisition_campaign_create(
                    company=company,
                    name=name,
                    keyword=keyword,
                    opt_in=opt_in,
                    short_code="12345",
                    subscription_lists=[target],
                )

    def _subscriptions(self, company: Company, main_list: SubscriptionList) -> None:
        """Thirty subscribers who joined over the last weeks; every fifth left since."""
        if Subscription.objects.filter(company=company).exists():
            return
        now = timezone.now()
        persons = Person.objects.filter(company=company).order_by("pk")[:30]
        for number, person in enumerate(persons):
            subscription_add(
                person=person,
                subscription_list=main_list,
                opt_in_date=now - timedelta(days=number % 28, hours=number),
            )
            if number % 5 == 4:
                subscription_opt_out(
                    person=person, subscription_list=main_list, reason="user_opt_out"
                )

    def _persons(self, company: Company) -> None:
        company.refresh_from_db()
        persons = Person.objects.filter(company=company)
        existing_mdns = set(persons.values_list("mdn", flat=True))
        existing_ids = set(persons.values_list("external_person_id", flat=True))
        for number in range(40):
            mdn, external_id = f"+1612555{number:04d}", f"CRM-{1000 + number}"
            if mdn in existing_mdns or external_id in existing_ids:
                continue  # never merge into (so never update) a person that exists
            first = FIRST_NAMES[number % len(FIRST_NAMES)]
            last = LAST_NAMES[number % len(LAST_NAMES)]
            person_add(
                company=company,
                mdn=mdn,
                external_person_id=external_id,
                custom_fields={
                    "first_name": first,
                    "last_name": last,
                    "loyalty_points": number * 10,
                    "tier": ["gold", "silver", "bronze"][number % 3],
                    "interests": [["shoes"], ["bags", "sale"], []][number % 3],
                },
            )
