"""Subscription lists and persons' subscriptions (thin views over services)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import PAGINATION_PARAMETERS, CompanyAPIView

from ...persons.api.filters import InvalidQueryParameter, PersonFilter
from ...persons.api.serializers import PersonOutputSerializer
from ...persons.api.views import PersonSearchMixin, PersonsMixin
from ...persons.selectors import person_from_route, persons_of_company
from ..consent import consent_history, consent_record_payload
from ..models import Subscription, SubscriptionList
from ..services import (
    subscription_add,
    subscription_latest,
    subscription_list_get,
    subscription_list_payload,
    subscription_opt_out,
    subscription_payload,
)
from .serializers import (
    ConsentRecordOutputSerializer,
    SubscriptionListOutputSerializer,
    SubscriptionOutputSerializer,
)

# --- subscription lists -------------------------------------------------------------------


class SubscriptionListListView(CompanyAPIView):
    """`GET .../mobiledb/subscription_lists`: the company's lists."""

    query_parameters = PAGINATION_PARAMETERS

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
    query_parameters = ()

    @extend_schema(responses=SubscriptionListOutputSerializer, operation_id="subscription_list_get")
    def get(self, request, company_key: str, list_id: str):
        subscription_list = subscription_list_get(company=self.company, list_id=list_id)
        return Response(subscription_list_payload(subscription_list, company=self.company))


class SubscriptionListSubscribersView(PersonSearchMixin, PersonsMixin, CompanyAPIView):
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

    query_parameters = ("active_only", *PAGINATION_PARAMETERS)

    @extend_schema(
        parameters=[OpenApiParameter("active_only", bool)],
        responses=SubscriptionOutputSerializer(many=True),
        operation_id="person_subscriptions_list",
    )
    def get(self, request, company_key: str, **route):
        person = person_from_route(company=self.company, route_kwargs=route)
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

    query_parameters = ()

    def _subjects(self, route: dict):
        person = person_from_route(company=self.company, route_kwargs=route)
        return person, subscription_list_get(company=self.company, list_id=route["list_id"])

    @extend_schema(responses=SubscriptionOutputSerializer, operation_id="person_subscription_get")
    def get(self, request, company_key: str, **route):
        person, subscription_list = self._subjects(route)
        subscription = subscription_latest(person=person, subscription_list=subscription_list)
        return Response(subscription_payload(subscription, company=self.company))

    @extend_schema(
        request=None,
        responses={200: SubscriptionOutputSerializer, 201: SubscriptionOutputSerializer},
        operation_id="person_subscription_subscribe",
    )
    def put(self, request, company_key: str, **route):
        person, subscription_list = self._subjects(route)
        subscription, created = subscription_add(person=person, subscription_list=subscription_list)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(subscription_payload(subscription, company=self.company), status=code)

    @extend_schema(
        responses=SubscriptionOutputSerializer, operation_id="person_subscription_opt_out"
    )
    def delete(self, request, company_key: str, **route):
        person, subscription_list = self._subjects(route)
        subscription = subscription_opt_out(
            person=person,
            subscription_list=subscription_list,
            reason=Subscription.OptOutReason.API_OPT_OUT,
        )
        return Response(subscription_payload(subscription, company=self.company))


class PersonConsentView(CompanyAPIView):
    """`GET .../persons/:id/consent`: the person's consent ledger records, oldest first
    (SPEC section 13), with the number's records from before it was a person."""

    query_parameters = PAGINATION_PARAMETERS

    @extend_schema(
        responses=ConsentRecordOutputSerializer(many=True), operation_id="person_consent_list"
    )
    def get(self, request, company_key: str, **route):
        person = person_from_route(company=self.company, route_kwargs=route)
        queryset = consent_history(company=self.company, person_id=person.pk, mdn=person.mdn)
        return self.paginated_response(
            queryset,
            lambda page: [consent_record_payload(item, company=self.company) for item in page],
        )
