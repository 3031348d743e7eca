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


# --- the platform's templates, locations and location selector (reference OpenAPI) ----------


class PassbookTemplateBody(serializers.Serializer):
    passbook_template = serializers.JSONField(
        help_text="appleWalletTemplateBody: pass_description, colors and images required."
    )


class GoogleTemplateBody(serializers.Serializer):
    wallet_template = serializers.JSONField(
        help_text="googleWalletTemplateBody: title, issuer, logo and barcode required."
    )


class TemplateOutput(serializers.Serializer):
    id = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class StoreLocation(serializers.Serializer):
    location_id = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    address_2 = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    state = serializers.CharField(required=False)
    zip = serializers.CharField(required=False)
    phone_number = serializers.CharField(required=False)
    store_hours = serializers.CharField(required=False)
    latitude = serializers.CharField(help_text="-90 to 90")
    longitude = serializers.CharField(help_text="-180 to 180")
    notification_message = serializers.CharField(required=False)


class StoreLocationOutput(StoreLocation):
    id = serializers.IntegerField()


class StoreLocationsBulk(serializers.Serializer):
    locations = StoreLocation(many=True)


class SelectorImage(serializers.Serializer):
    url = serializers.CharField(required=False)


class SelectorHeader(serializers.Serializer):
    title = serializers.CharField(required=False)
    tagline = serializers.CharField(required=False)


class SelectorColors(serializers.Serializer):
    background = serializers.CharField(required=False)
    foreground = serializers.CharField(required=False)
    label = serializers.CharField(required=False)


class LocationSelector(serializers.Serializer):
    image = SelectorImage(required=False)
    header = SelectorHeader(required=False)
    colors = SelectorColors(required=False)
    fontsize = serializers.IntegerField(required=False)
    include_zipcode = serializers.BooleanField(required=False)
    add_to_wallet_language = serializers.ChoiceField(
        choices=["en-US", "es-ES", "es-419", "fr-FR"], required=False
    )


class LocationSelectorBody(serializers.Serializer):
    location_selector = LocationSelector()


class LocationSelectorOutput(LocationSelector):
    token = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LocationsDeleted(serializers.Serializer):
    deleted = serializers.IntegerField()
