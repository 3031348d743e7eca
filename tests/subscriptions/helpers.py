"""Shared by tests/subscriptions and tests/campaigns: factories and a callback spy."""

from __future__ import annotations

from dataclasses import dataclass, field

import factory
import pytest
from django.utils import timezone

from callbacks import services as callback_services
from campaigns.models import AcquisitionCampaign
from mobiledb.models import Subscription, SubscriptionList
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory

# Every module of issue 5 that emits callbacks imported the entry point by name.
EMITTING_MODULES = ["mobiledb.subscriptions.services", "campaigns.services.acquisition"]


@dataclass
class EmittedEvent:
    company_key: str
    callback_type: str
    person_id: int | None
    body_v1: dict
    body_v2: dict


@dataclass
class CallbackSpy:
    """Records what reached `callback_event_emit`, calling through to the real one."""

    events: list[EmittedEvent] = field(default_factory=list)

    def of_type(self, callback_type: str) -> list[EmittedEvent]:
        return [e for e in self.events if e.callback_type == callback_type]

    def types(self) -> list[str]:
        return [e.callback_type for e in self.events]


@pytest.fixture
def emitted(monkeypatch) -> CallbackSpy:
    spy = CallbackSpy()
    real = callback_services.callback_event_emit

    def recording_emit(*, company, callback_type, body, person_id=None):
        spy.events.append(EmittedEvent(company.key, callback_type, person_id, body(1), body(2)))
        return real(company=company, callback_type=callback_type, body=body, person_id=person_id)

    for module in EMITTING_MODULES:
        monkeypatch.setattr(f"{module}.callback_event_emit", recording_emit)
    return spy


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    person = factory.SubFactory(PersonFactory)
    company = factory.SelfAttribute("person.company")
    subscription_list = factory.SubFactory(
        SubscriptionListFactory, company=factory.SelfAttribute("..company")
    )
    opt_in_date = factory.LazyFunction(timezone.now)


class AcquisitionCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcquisitionCampaign
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    keyword = factory.Sequence(lambda n: f"JOIN{n}")
    status = AcquisitionCampaign.Status.ACTIVE

    @factory.post_generation
    def lists(obj, create, extracted, **kwargs):
        if not create:
            return
        lists = extracted or [
            SubscriptionList.objects.create(company=obj.company, name=f"{obj.name} list")
        ]
        obj.subscription_lists.set(lists)
