"""Shapes of the mobile database's API bodies (no side effects)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ...validation import format_mdn, format_platform_datetime
from ..models import CustomField


class MobilePhoneInputSerializer(serializers.Serializer):
    mdn = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    carrier_code = serializers.CharField(
        allow_null=True, required=False, allow_blank=True, max_length=20
    )


class PersonInputSerializer(serializers.Serializer):
    """A person body. person_id, person_key, timezone_source, created_at, updated_at and
    url are ignored (seeds/000)."""

    external_person_id = serializers.CharField(
        max_length=128, allow_null=True, required=False, allow_blank=False
    )
    mobile_phone = MobilePhoneInputSerializer(required=False, allow_null=True)
    custom_fields = serializers.DictField(required=False, allow_null=True, allow_empty=True)
    timezone = serializers.CharField(max_length=64, allow_null=True, required=False)


class MobilePhoneOutputSerializer(serializers.Serializer):
    mdn = serializers.CharField()
    carrier_code = serializers.CharField(allow_null=True)


def person_representation(person, *, schema, api_version: int) -> dict:
    """The person JSON of SPEC section 3 (PersonOutputSerializer documents its shape).

    Hand-built, and callable without a serializer instance: DRF's per-field machinery,
    and on a GET person even building the serializer, cost more than the query."""
    return {
        "person_id": person.pk,
        "person_key": str(person.person_key),
        "external_person_id": person.external_person_id,
        "mobile_phone": _mobile_phone(person, api_version),
        "timezone": person.timezone,
        "timezone_source": person.timezone_source,
        "custom_fields": schema.render(person.custom_fields),
        "created_at": format_platform_datetime(person.created_at),
        "updated_at": format_platform_datetime(person.updated_at),
        "url": person.url,
    }


def _mobile_phone(person, api_version: int) -> dict | None:
    if not person.mdn:
        return None
    return {
        "mdn": format_mdn(person.mdn, api_version=api_version),
        "carrier_code": person.carrier_code,
    }


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "By field name; selects as {id, name, option_key}",
    }
)
class _CustomFieldsOutput(serializers.DictField):
    pass


class PersonOutputSerializer(serializers.Serializer):
    """The person JSON of SPEC section 3; context: `schema`, `api_version`."""

    person_id = serializers.IntegerField(source="pk")
    person_key = serializers.UUIDField()
    external_person_id = serializers.CharField(allow_null=True)
    mobile_phone = MobilePhoneOutputSerializer(allow_null=True, read_only=True)
    timezone = serializers.CharField(allow_null=True)
    timezone_source = serializers.CharField(allow_null=True)
    custom_fields = _CustomFieldsOutput(read_only=True)
    created_at = serializers.CharField(read_only=True)
    updated_at = serializers.CharField(read_only=True)
    url = serializers.CharField()

    # The fields above document the shape (OpenAPI); the values come from
    # person_representation, the one builder of the person JSON.
    def to_representation(self, person) -> dict:
        return person_representation(
            person, schema=self.context["schema"], api_version=self.context["api_version"]
        )


class CustomFieldOptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField(source="label")


class CustomFieldOutputSerializer(serializers.ModelSerializer):
    options = CustomFieldOptionOutputSerializer(many=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = CustomField
        fields = ["id", "name", "data_type", "character_set", "max_length", "options", "url"]

    def get_url(self, field) -> str:
        return f"/companies/{field.company.key}/mobiledb/custom_fields/{field.pk}"


MAX_TAGS_PER_REQUEST = 100


class TagInputSerializer(serializers.Serializer):
    tag = serializers.CharField(max_length=100, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        allow_empty=False,
        max_length=MAX_TAGS_PER_REQUEST,
    )

    def validate(self, attrs):
        if not attrs.get("tag") and not attrs.get("tags"):
            raise serializers.ValidationError({"tag": "Send 'tag' or 'tags'."})
        return attrs


class TagSerializer(serializers.Serializer):
    tag = serializers.CharField()


class TagListSerializer(serializers.ListSerializer):
    child = serializers.CharField()
