"""Shapes of the subscription and list bodies, for the OpenAPI schema only.

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


class ConsentRecordOutputSerializer(serializers.Serializer):
    """One consent ledger record (SPEC section 13)."""

    action = serializers.ChoiceField(choices=["opt_in", "opt_out"])
    list = RefSerializer(allow_null=True)
    campaign = RefSerializer(allow_null=True)
    channel = serializers.ChoiceField(
        choices=["keyword", "web", "api", "import", "admin", "bulk", "carrier"]
    )
    source = serializers.CharField()
    text = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    hash = serializers.CharField()
    previous_hash = serializers.CharField()
