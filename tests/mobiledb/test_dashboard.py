from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from mobiledb.dashboard import dashboard_figures
from mobiledb.models import Subscription
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    PersonFactory,
    SubscriptionListFactory,
    UserFactory,
)
from vibesweb.tenancy.models import Company

pytestmark = pytest.mark.django_db


def subscribe(person, sub_list, *, days_ago: int, opted_out_days_ago: int | None = None):
    now = timezone.now()
    return Subscription.objects.create(
        company=person.company,
        person=person,
        subscription_list=sub_list,
        opt_in_date=now - timedelta(days=days_ago),
        opt_out_date=None
        if opted_out_days_ago is None
        else now - timedelta(days=opted_out_days_ago),
        opt_out_reason=None if opted_out_days_ago is None else "user_opt_out",
    )


def test_figures_count_opt_ins_and_opt_outs_per_day(company):
    sub_list = SubscriptionListFactory(company=company)
    subscribe(PersonFactory(company=company), sub_list, days_ago=0)
    subscribe(PersonFactory(company=company), sub_list, days_ago=2, opted_out_days_ago=0)
    subscribe(PersonFactory(company=company), sub_list, days_ago=45)
    figures = dashboard_figures(Company.objects.filter(pk=company.pk))
    assert figures["persons"] == 3
    assert figures["active_subscriptions"] == 2
    assert figures["opt_ins"] == 2 and figures["opt_outs"] == 1
    assert figures["series"][-1].opt_ins == 1 and figures["series"][-1].opt_outs == 1
    assert len(figures["series"]) == 30


def test_admin_index_shows_only_the_users_companies(company):
    other = CompanyFactory(key="OTHER")
    PersonFactory.create_batch(2, company=company)
    PersonFactory.create_batch(5, company=other)
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert '<strong id="total-persons">2</strong>' in page
    assert "Opt-ins (green) and opt-outs (red)" in page
