"""Subscription lists and persons' subscriptions (thin views over services)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import CompanyAPIView

from ...persons.api.filters import InvalidQueryParameter, PersonFilter
from ...persons.api.serializers import PersonOutputSerializer
from ...persons.api.views import PersonsMixin
from ...persons.selectors import person_get, persons_of_company
from ..models import Subscription, SubscriptionList
from ..services import (
    subscription_add,
    subscription_latest,
    subscription_list_get,
    subscription_list_payload,
    subscription_opt_out,
    subscription_payload,
)
from .serializers import SubscriptionListOutputSerializer, SubscriptionOutputSerializer

# --- subscription lists -------------------------------------------------------------------


class SubscriptionListListView(CompanyAPIView):
    """`GET .../mobiledb/subscription_lists`: the company's lists."""

    @extend_schema(
        responses=SubscriptionListOutputSerializer(many=True),
        operation_id="subscription_lists_list",
    )
    def get(self, request, company_key: str):
        queryset = SubscriptionList.objects.filter(company=self.company)
        return self.paginated_response(
            queryset,
            lambda page: [subscription_list_payload(item, company=self.company) for item in page],
        )


class SubscriptionListDetailView(CompanyAPIView):
    @extend_schema(responses=SubscriptionListOutputSerializer, operation_id="subscription_list_get")
    def get(self, request, company_key: str, list_id: str):
        subscription_list = subscription_list_get(company=self.company, list_id=list_id)
        return Response(subscription_list_payload(subscription_list, company=self.company))


class SubscriptionListSubscribersView(PersonsMixin, CompanyAPIView):
    """`GET .../subscription_lists/:id/subscribers?mdn=|person_key=|external_person_id=`:
    the list's active subscribers, as persons."""

    @extend_schema(
        parameters=[
            OpenApiParameter("mdn", str),
            OpenApiParameter("person_key", str),
            OpenApiParameter("external_person_id", str),
        ],
        responses=PersonOutputSerializer(many=True),
        operation_id="subscription_list_subscribers",
    )
    def get(self, request, company_key: str, list_id: str):
        subscription_list = subscription_list_get(company=self.company, list_id=list_id)
        active = Subscription.objects.filter(
            person=OuterRef("pk"), subscription_list=subscription_list, opt_out_date__isnull=True
        )
        queryset = persons_of_company(self.company).filter(Exists(active))
        queryset = PersonFilter(request.query_params, queryset=queryset, request=request).qs

        def render(page):
            for person in page:
                person.company = self.company
            return self.person_serializer(page, many=True).data

        return self.paginated_response(queryset, render)


# --- a person's subscriptions ----------------------------------------------------------


def _active_only(request) -> bool:
    value = request.query_params.get("active_only", "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidQueryParameter("active_only: expected true or false")
    return value in ("true", "1")


class PersonSubscriptionListView(CompanyAPIView):
    """`GET .../persons/:id/subscriptions[?active_only=true]`: the full history."""

    @extend_schema(
        parameters=[OpenApiParameter("active_only", bool)],
        responses=SubscriptionOutputSerializer(many=True),
        operation_id="person_subscriptions_list",
    )
    def get(self, request, company_key: str, person_id: str):
        person = person_get(company=self.company, id_or_key=person_id)
        queryset = Subscription.objects.filter(person=person)
        if _active_only(request):
            queryset = queryset.filter(opt_out_date__isnull=True)

        def render(page):
            for subscription in page:
                subscription.person = person
            return [subscription_payload(item, company=self.company) for item in page]

        return self.paginated_response(queryset, render)


class PersonSubscriptionDetailView(CompanyAPIView):
    """`GET`, `PUT` (subscribe) and `DELETE` (opt out, api_opt_out) one list."""

    def _subjects(self, person_id: str, list_id: str):
        person = person_get(company=self.company, id_or_key=person_id)
        return person, subscription_list_get(company=self.company, list_id=list_id)

    @extend_schema(responses=SubscriptionOutputSerializer, operation_id="person_subscription_get")
    def get(self, request, company_key: str, person_id: str, list_id: str):
        person, subscription_list = self._subjects(person_id, list_id)
        subscription = subscription_latest(person=person, subscription_list=subscription_list)
        return Response(subscription_payload(subscription, company=self.company))

    @extend_schema(
        request=None,
        responses={200: SubscriptionOutputSerializer, 201: SubscriptionOutputSerializer},
        operation_id="person_subscription_subscribe",
    )
    def put(self, request, company_key: str, person_id: str, list_id: str):
        person, subscription_list = self._subjects(person_id, list_id)
        subscription, created = subscription_add(person=person, subscription_list=subscription_list)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(subscription_payload(subscription, company=self.company), status=code)

    @extend_schema(
        responses=SubscriptionOutputSerializer, operation_id="person_subscription_opt_out"
    )
    def delete(self, request, company_key: str, person_id: str, list_id: str):
        person, subscription_list = self._subjects(person_id, list_id)
        subscription = subscription_opt_out(
            person=person,
            subscription_list=subscription_list,
            reason=Subscription.OptOutReason.API_OPT_OUT,
        )
        return Response(subscription_payload(subscription, company=self.company))
