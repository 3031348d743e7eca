"""Shapes of the callback configuration API bodies (no side effects)."""

from __future__ import annotations

from rest_framework import serializers

from vibesweb.dates import format_platform_datetime

from ..models import CallbackRegistration
from ..services.registrations import MAX_INTERVAL_SECONDS, MAX_INTERVALS


class DestinationSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1024, trim_whitespace=True)
    method = serializers.ChoiceField(CallbackRegistration.Method.values, default="POST")
    content_type = serializers.ChoiceField(
        CallbackRegistration.ContentType.values, default="application/json"
    )


class BasicAuthSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=200)
    password = serializers.CharField(max_length=500, trim_whitespace=False)


class RetrySchemeSerializer(serializers.Serializer):
    intervals = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INTERVAL_SECONDS),
        max_length=MAX_INTERVALS,
    )


class RegistrationInputSerializer(serializers.Serializer):
    """A registration body; `event_type` is the older name of `callback_type`, and the
    scope may also be sent under the type's own name, e.g. `"subscription_added":
    {"list_id": "12"}`. Credentials are write-only."""

    callback_type = serializers.CharField(max_length=40, required=False)
    event_type = serializers.CharField(max_length=40, required=False)
    destination = DestinationSerializer(required=False)
    start_date = serializers.DateTimeField(required=False, allow_null=True)
    end_date = serializers.DateTimeField(required=False, allow_null=True)
    scope = serializers.DictField(required=False, allow_null=True)
    retry_scheme = RetrySchemeSerializer(required=False, allow_null=True)
    basic_auth = BasicAuthSerializer(required=False, allow_null=True)
    headers = serializers.DictField(
        child=serializers.CharField(max_length=1024, allow_blank=True),
        required=False,
        allow_null=True,
    )
    notification_emails = serializers.ListField(
        child=serializers.EmailField(), max_length=10, required=False, allow_null=True
    )

    def validate(self, attrs):
        name = attrs.pop("event_type", None)
        attrs["callback_type"] = attrs.get("callback_type") or name
        if not attrs["callback_type"]:
            attrs.pop("callback_type")
            if not self.partial:
                raise serializers.ValidationError({"callback_type": "This field is required."})
        if not self.partial and "destination" not in attrs:
            raise serializers.ValidationError({"destination": "This field is required."})
        typed_scope = self.initial_data.get(attrs.get("callback_type", ""))
        if "scope" not in attrs and isinstance(typed_scope, dict):
            attrs["scope"] = typed_scope
        return attrs


class TestEventInputSerializer(serializers.Serializer):
    callback_id = serializers.UUIDField(required=False)
    callback_type = serializers.CharField(max_length=40, required=False)

    def validate(self, attrs):
        if not attrs.get("callback_id") and not attrs.get("callback_type"):
            raise serializers.ValidationError({"callback_id": "Send callback_id or callback_type."})
        return attrs


class RegistrationStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(["up", "down", "ended"])
    down_until = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_failure_at = serializers.DateTimeField(allow_null=True)


class BasicAuthStatusSerializer(serializers.Serializer):
    configured = serializers.BooleanField()


class RegistrationOutputSerializer(serializers.Serializer):
    """The shape `registration_json` returns (documentation of the API schema)."""

    callback_id = serializers.UUIDField()
    callback_type = serializers.CharField()
    event_type = serializers.CharField(help_text="deprecated copy of callback_type")
    destination = DestinationSerializer()
    start_date = serializers.DateTimeField()
    end_date = serializers.DateTimeField(allow_null=True)
    scope = serializers.DictField()
    retry_scheme = RetrySchemeSerializer()
    basic_auth = BasicAuthStatusSerializer()
    header_names = serializers.ListField(child=serializers.CharField())
    notification_emails = serializers.ListField(child=serializers.EmailField())
    api_version = serializers.IntegerField()
    status = RegistrationStatusSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField()


class RegistrationCreatedSerializer(RegistrationOutputSerializer):
    signing_secret = serializers.CharField(help_text="whsec_...; shown in this answer only")


class TestEventOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    event_id = serializers.UUIDField()
    callback_id = serializers.UUIDField()
    callback_type = serializers.CharField()
    status = serializers.CharField()


def registration_changes(body: dict) -> dict:
    """Service keyword arguments from a validated body: only the keys the body carried."""
    changes = {k: body[k] for k in ("callback_type", "start_date", "end_date") if k in body}
    changes.update({k: body[k] for k in ("basic_auth", "headers") if k in body})
    for name, value in (body.get("destination") or {}).items():
        changes[name] = value
    if "scope" in body:
        changes["scope"] = body["scope"] or {}
    if "retry_scheme" in body:
        changes["retry_intervals"] = (body["retry_scheme"] or {}).get("intervals") or []
    if "notification_emails" in body:
        changes["notification_emails"] = body["notification_emails"] or []
    return changes


def registration_json(registration: CallbackRegistration) -> dict:
    """A registration as the API shows it: credentials only by their presence."""
    secrets = registration.secrets
    company_url = registration.company.url
    body = {
        "callback_id": str(registration.callback_id),
        "callback_type": registration.callback_type,
        "event_type": registration.callback_type,
        "destination": {
            "url": registration.url,
            "method": registration.method,
            "content_type": registration.content_type,
        },
        "start_date": format_platform_datetime(registration.start_date),
        "end_date": format_platform_datetime(registration.end_date),
        "scope": registration.scope,
        "retry_scheme": {"intervals": registration.intervals},
        "basic_auth": {"configured": bool(secrets.get("basic_auth"))},
        "header_names": sorted(secrets.get("headers") or {}),
        "notification_emails": registration.notification_emails,
        "api_version": registration.api_version,
        "status": registration_status(registration),
        "created_at": format_platform_datetime(registration.created_at),
        "updated_at": format_platform_datetime(registration.updated_at),
        "url": f"{company_url}/config/callbacks/{registration.callback_id}",
    }
    if registration.scope:
        body[registration.callback_type] = registration.scope
    return body


def registration_status(registration: CallbackRegistration) -> dict:
    if registration.is_ended():
        state = "ended"
    elif registration.is_down():
        state = "down"
    else:
        state = "up"
    return {
        "state": state,
        "down_until": format_platform_datetime(registration.down_until),
        "last_success_at": format_platform_datetime(registration.last_success_at),
        "last_failure_at": format_platform_datetime(registration.last_failure_at),
    }
