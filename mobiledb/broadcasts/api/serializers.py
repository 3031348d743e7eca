"""Shapes of the broadcast bodies, for the OpenAPI schema only.

The bodies themselves are built by broadcasts.services.broadcast_payload.
"""

from __future__ import annotations

from rest_framework import serializers


class FilterSerializer(serializers.Serializer):
    name = serializers.CharField()
    selector = serializers.CharField()
    value = serializers.ListField(child=serializers.CharField())


class TargetingOutputSerializer(serializers.Serializer):
    message_template = serializers.CharField()
    source_lists = serializers.ListField(child=serializers.CharField())
    filters = FilterSerializer(many=True)


class SendScheduleOutputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(["by_date", "by_time_zone"])
    send_date = serializers.CharField(required=False)
    send_time = serializers.CharField(required=False)
    field_name = serializers.CharField(required=False, allow_null=True)
    default_time_zone = serializers.CharField(required=False)


class BroadcastOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    broadcast_id = serializers.CharField()
    name = serializers.CharField()
    send_scheduled_date = serializers.DateTimeField()
    targeting = TargetingOutputSerializer()
    send_schedule = SendScheduleOutputSerializer()
    status = serializers.ChoiceField(
        choices=["scheduled", "in_progress", "sent", "canceled", "failed"]
    )
    audience_count = serializers.IntegerField(allow_null=True)
    sent_count = serializers.IntegerField()
    failed_count = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField()
