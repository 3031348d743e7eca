"""Shapes of the Campaign Manager's bodies, for the OpenAPI schema only (the services'
payload functions build them)."""

from __future__ import annotations

from rest_framework import serializers


class CampaignTypeSerializer(serializers.Serializer):
    code = serializers.CharField()


class KeywordsSerializer(serializers.Serializer):
    keywords = serializers.ListField(child=serializers.CharField())


class ListRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()


class AcquisitionCampaignOutputSerializer(serializers.Serializer):
    acquisition_id = serializers.CharField()
    description = serializers.CharField()
    campaign_type = CampaignTypeSerializer()
    status = serializers.ChoiceField(choices=["scheduled", "active", "past", "deleted"])
    start_date = serializers.DateTimeField(allow_null=True)
    end_date = serializers.DateTimeField(allow_null=True)
    acquisition_campaign = KeywordsSerializer()
    sourcecode = serializers.CharField(allow_null=True)
    opt_in = serializers.ChoiceField(choices=["single", "double"])
    subscription_lists = ListRefSerializer(many=True)
    participants_url = serializers.CharField()
    url = serializers.CharField()
    created_date = serializers.DateTimeField()
    updated_date = serializers.DateTimeField()


class MobilePhoneSerializer(serializers.Serializer):
    mdn = serializers.CharField(allow_null=True)


class ParticipantPersonSerializer(serializers.Serializer):
    id = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    mobile_phone = MobilePhoneSerializer()
    url = serializers.CharField()


class ParticipantCampaignSerializer(serializers.Serializer):
    id = serializers.CharField()
    description = serializers.CharField()
    url = serializers.CharField()
    keyword = serializers.CharField(allow_null=True)


class ParticipantOutputSerializer(serializers.Serializer):
    """The platform's acquisition participant object."""

    person = ParticipantPersonSerializer()
    acquisition_campaign = ParticipantCampaignSerializer()
    participation_date = serializers.DateTimeField()
    expire_date = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["PENDING", "SUBSCRIBED", "CONFIRMED", "REJECTED", "EXPIRED"]
    )


class InboundEventOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    mdn = serializers.CharField()
    short_code = serializers.CharField()
    message = serializers.CharField()
    event_date = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField()
    outcome = serializers.CharField()
    detail = serializers.CharField()
