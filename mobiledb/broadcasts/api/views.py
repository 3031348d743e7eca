"""Broadcasts: schedule, list, read, change and cancel (thin views over services)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from vibesweb.api.views import PAGINATION_PARAMETERS, CompanyAPIView, validated
from vibesweb.errors import NotFound
from vibesweb.inputs import parse_id

from ...persons.api.filters import InvalidQueryParameter
from ...validation import parse_platform_datetime
from .. import services as broadcast_services
from ..models import Broadcast
from .serializers import BroadcastOutputSerializer

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
    # the platform's array of {name, selector, value}; the older {"field": value} too
    filters = serializers.JSONField(required=False)


class SendScheduleInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(["by_date", "by_time_zone"], required=False)
    send_date = serializers.CharField(required=False)
    send_time = serializers.CharField(required=False)
    field_name = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    default_time_zone = serializers.CharField(required=False, allow_null=True, max_length=64)


class BroadcastInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    # by_time_zone derives it from send_schedule (each recipient's local send time)
    send_scheduled_date = PlatformDateTimeField(required=False)
    send_schedule = SendScheduleInputSerializer(required=False)
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
        "send_schedule": body.get("send_schedule"),
    }
    return arguments


class BroadcastListView(CompanyAPIView):
    """`POST` schedules a broadcast; `GET(?status=)` lists them."""

    query_parameters = ("status", *PAGINATION_PARAMETERS)

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

    query_parameters = ()

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
