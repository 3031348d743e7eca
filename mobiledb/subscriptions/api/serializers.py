"""Shapes of the subscription, list and broadcast bodies, for the OpenAPI schema only.

The bodies themselves are built by the services' payload functions (the callbacks send
the same objects); these serializers describe them.
"""

from __future__ import annotations

from rest_framework import serializers


class RefSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()


class PersonRefSerializer(RefSerializer):
    external_id = serializers.CharField(allow_null=True)


class SubscriptionOutputSerializer(serializers.Serializer):
    """seeds/000's `subscription` object."""

    person = PersonRefSerializer()
    subscription_list = RefSerializer()
    opt_in_date = serializers.DateTimeField()
    opt_out_date = serializers.DateTimeField(allow_null=True)
    opt_out_reason = serializers.CharField(allow_null=True)
    acquisition_campaign = RefSerializer(allow_null=True)
    url = serializers.CharField()


class SubscriptionListOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    subscribers_url = serializers.CharField()
    acquisition_campaigns_url = serializers.CharField()


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
