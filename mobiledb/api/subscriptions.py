"""Subscription lists, persons' subscriptions and broadcasts (thin views over services)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from campaigns.api.shapes import AcquisitionCampaignOutputSerializer
from vibesweb.api.views import CompanyAPIView, validated
from vibesweb.errors import NotFound
from vibesweb.inputs import parse_id

from ..models import Broadcast, Subscription, SubscriptionList
from ..selectors import person_get, persons_of_company
from ..services import broadcasts as broadcast_services
from ..services.subscriptions import (
    subscription_add,
    subscription_latest,
    subscription_list_get,
    subscription_list_payload,
    subscription_opt_out,
    subscription_payload,
)
from ..validation import parse_platform_datetime
from .filters import InvalidQueryParameter, PersonFilter
from .serializers import PersonOutputSerializer
from .subscription_shapes import (
    BroadcastOutputSerializer,
    SubscriptionListOutputSerializer,
    SubscriptionOutputSerializer,
)
from .views import PersonsMixin

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


class SubscriptionListCampaignsView(CompanyAPIView):
    """`GET .../subscription_lists/:id/acquisition_campaigns`."""

    @extend_schema(
        responses=AcquisitionCampaignOutputSerializer(many=True),
        operation_id="subscription_list_acquisition_campaigns",
    )
    def get(self, request, company_key: str, list_id: str):
        from campaigns.services.acquisition import campaign_payload  # noqa: PLC0415

        subscription_list = subscription_list_get(company=self.company, list_id=list_id)
        queryset = subscription_list.acquisition_campaigns.prefetch_related("subscription_lists")
        return self.paginated_response(
            queryset,
            lambda page: [campaign_payload(item, company=self.company) for item in page],
        )


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


# --- broadcasts ---------------------------------------------------------------------------


class PlatformDateTimeField(serializers.CharField):
    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return parse_platform_datetime(text)
        except ValueError:
            raise serializers.ValidationError(
                "expected a date such as 2026-01-15T15:34:52Z"
            ) from None


class TargetingInputSerializer(serializers.Serializer):
    message_template = serializers.CharField(max_length=1600, required=False)
    source_lists = serializers.ListField(child=serializers.JSONField(), required=False)
    filters = serializers.DictField(required=False, allow_empty=True)


class BroadcastInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    send_scheduled_date = PlatformDateTimeField()
    targeting = TargetingInputSerializer()

    def validate_targeting(self, targeting):
        if self.partial:
            return targeting
        missing = {"message_template", "source_lists"} - set(targeting)
        if missing:
            raise serializers.ValidationError(f"required: {', '.join(sorted(missing))}")
        return targeting


def _broadcast_arguments(body: dict) -> dict:
    targeting = body.get("targeting") or {}
    arguments = {
        "name": body.get("name"),
        "send_scheduled_date": body.get("send_scheduled_date"),
        "message_template": targeting.get("message_template"),
        "source_lists": targeting.get("source_lists"),
        "filters": targeting.get("filters"),
    }
    return arguments


class BroadcastListView(CompanyAPIView):
    """`POST` schedules a broadcast; `GET(?status=)` lists them."""

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Broadcast.Status.values)],
        responses=BroadcastOutputSerializer(many=True),
        operation_id="broadcasts_list",
    )
    def get(self, request, company_key: str):
        queryset = Broadcast.objects.filter(company=self.company).prefetch_related("source_lists")
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in Broadcast.Status.values:
                raise InvalidQueryParameter(f"status: one of {', '.join(Broadcast.Status.values)}")
            queryset = queryset.filter(status=wanted)
        return self.paginated_response(
            queryset,
            lambda page: [
                broadcast_services.broadcast_payload(item, company=self.company) for item in page
            ],
        )

    @extend_schema(
        request=BroadcastInputSerializer,
        responses={201: BroadcastOutputSerializer},
        operation_id="broadcast_create",
    )
    def post(self, request, company_key: str):
        body = validated(BroadcastInputSerializer, request)
        arguments = _broadcast_arguments(body)
        broadcast = broadcast_services.broadcast_create(company=self.company, **arguments)
        return Response(
            broadcast_services.broadcast_payload(broadcast, company=self.company),
            status=status.HTTP_201_CREATED,
        )


class BroadcastDetailView(CompanyAPIView):
    """`GET`, `PUT` (only while scheduled, else 403), `DELETE` (cancel; same rule)."""

    def get_broadcast(self, broadcast_id: str) -> Broadcast:
        found = None
        pk = parse_id(broadcast_id)
        if pk is not None:
            found = Broadcast.objects.filter(company=self.company, pk=pk).first()
        if found is None:
            raise NotFound("Broadcast not found")
        found.company = self.company
        return found

    @extend_schema(responses=BroadcastOutputSerializer, operation_id="broadcast_get")
    def get(self, request, company_key: str, broadcast_id: str):
        broadcast = self.get_broadcast(broadcast_id)
        return Response(broadcast_services.broadcast_payload(broadcast, company=self.company))

    @extend_schema(
        request=BroadcastInputSerializer,
        responses=BroadcastOutputSerializer,
        operation_id="broadcast_update",
    )
    def put(self, request, company_key: str, broadcast_id: str):
        broadcast = self.get_broadcast(broadcast_id)
        if broadcast.status != Broadcast.Status.SCHEDULED:
            raise broadcast_services.BroadcastNotEditable()
        body = validated(BroadcastInputSerializer, request, partial=True)
        broadcast = broadcast_services.broadcast_update(
            broadcast=broadcast, **_broadcast_arguments(body)
        )
        return Response(broadcast_services.broadcast_payload(broadcast, company=self.company))

    @extend_schema(responses=BroadcastOutputSerializer, operation_id="broadcast_cancel")
    def delete(self, request, company_key: str, broadcast_id: str):
        broadcast = self.get_broadcast(broadcast_id)
        broadcast = broadcast_services.broadcast_cancel(broadcast=broadcast)
        return Response(broadcast_services.broadcast_payload(broadcast, company=self.company))
