"""Shapes of the Wallet Manager's bodies, for the OpenAPI schema (the services' payload
functions build the answers; the services validate the input)."""

from __future__ import annotations

from rest_framework import serializers

TYPES = ["offer", "loyalty", "event_ticket"]


class DesignField(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(help_text="May hold {{token}} tags.")


class Design(serializers.Serializer):
    background_color = serializers.CharField(required=False)
    foreground_color = serializers.CharField(required=False)
    label_color = serializers.CharField(required=False)
    logo_text = serializers.CharField(required=False)
    organization_name = serializers.CharField(required=False)
    header_fields = DesignField(many=True, required=False)
    primary_fields = DesignField(many=True, required=False)
    secondary_fields = DesignField(many=True, required=False)
    auxiliary_fields = DesignField(many=True, required=False)
    back_fields = DesignField(many=True, required=False)


class CampaignInput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPES, help_text="Any case; immutable.")
    description = serializers.CharField(required=False)
    expiration_date = serializers.DateTimeField(required=False)
    redirect_link = serializers.URLField(required=False)
    design = Design(required=False)
    images = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        required=False,
        help_text="logo, icon, strip: base64 PNG (null removes one).",
    )


class CampaignBody(serializers.Serializer):
    campaign = CampaignInput()


class CampaignOutput(serializers.Serializer):
    wallet_id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPES)
    description = serializers.CharField(required=False)
    smartlink_url = serializers.CharField()
    url = serializers.CharField()
    redirect_link = serializers.CharField(required=False)
    expiration_date = serializers.DateTimeField(required=False)
    design = Design()
    images = serializers.DictField(child=serializers.CharField(allow_null=True))
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CampaignEnvelope(serializers.Serializer):
    campaign = CampaignOutput()


class CampaignRef(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    url = serializers.CharField()


class Location(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    relevant_text = serializers.CharField(required=False)


class Passbook(serializers.Serializer):
    notification = serializers.CharField()


class GoogleMessage(serializers.Serializer):
    header = serializers.CharField()
    body = serializers.CharField()


class GoogleWallet(serializers.Serializer):
    messages = GoogleMessage(many=True)


class ItemInput(serializers.Serializer):
    tokens = serializers.DictField(child=serializers.CharField(allow_null=True), required=False)
    group_code = serializers.CharField(required=False)
    locations = Location(many=True, required=False)
    passbook = Passbook(required=False)
    google_wallet = GoogleWallet(required=False)


class ItemOutput(serializers.Serializer):
    wallet_item_id = serializers.CharField()
    group_code = serializers.CharField(allow_null=True)
    campaign_ref = CampaignRef()
    active = serializers.BooleanField()
    provider = serializers.CharField(allow_null=True)
    tokens = serializers.DictField(child=serializers.CharField())
    locations = Location(many=True)
    passbook = Passbook()
    google_wallet = GoogleWallet()
    expiration_date = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField()


class MessageContent(serializers.Serializer):
    header = serializers.CharField(required=False)
    template = serializers.CharField(help_text="{{token}} tags are filled per item.")
    url = serializers.CharField(required=False)
    message_type = serializers.CharField(required=False)


class MessageFilter(serializers.Serializer):
    name = serializers.CharField()
    field_name = serializers.CharField(required=False)
    selector = serializers.CharField()
    value = serializers.JSONField()


class MessageInput(serializers.Serializer):
    message = MessageContent()
    filters = MessageFilter(many=True, required=False)


class MessageOutput(serializers.Serializer):
    wallet_message_id = serializers.CharField()
    message = MessageContent()
    campaign_ref = CampaignRef()
    filters = MessageFilter(many=True)
    recipient_count = serializers.IntegerField()
    sent_count = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "sending", "sent", "failed"])
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField()
