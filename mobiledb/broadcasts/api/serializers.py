"""Shapes of the broadcast bodies, for the OpenAPI schema only.

The bodies themselves are built by broadcasts.services.broadcast_payload.
"""

from __future__ import annotations

from rest_framework import serializers

from ...subscriptions.api.serializers import RefSerializer


class TargetingOutputSerializer(serializers.Serializer):
    message_template = serializers.CharField()
    source_lists = RefSerializer(many=True)
    filters = serializers.DictField()


class BroadcastOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    send_scheduled_date = serializers.DateTimeField()
    targeting = TargetingOutputSerializer()
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
