"""Acquisition campaigns, participants and inbound events (thin views over services)."""

from __future__ import annotations

import uuid

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from mobiledb.errors import PersonNotFound
from mobiledb.persons.api.serializers import PersonInputSerializer
from mobiledb.persons.api.views import person_changes
from mobiledb.persons.selectors import person_from_route, person_get
from mobiledb.subscriptions.services import subscription_list_get
from mobiledb.validation import (
    format_mdn,
    format_platform_datetime,
    normalize_mdn,
    normalize_mdn_for_search,
    parse_platform_datetime,
)
from vibesweb.api.views import (
    PAGINATION_PARAMETERS,
    CompanyAPIView,
    InvalidQueryParameter,
    json_object_body,
    validated,
)
from vibesweb.errors import DomainError, ErrorCode

from ..models import AcquisitionCampaign, InboundEvent, Participation
from ..services.acquisition import (
    acquisition_campaign_get,
    campaign_payload,
    participant_add,
    participant_payload,
)
from ..services.inbound import INBOUND_MESSAGE, inbound_event_receive
from .shapes import (
    AcquisitionCampaignOutputSerializer,
    InboundEventOutputSerializer,
    ParticipantOutputSerializer,
)


class AcquisitionCampaignListView(CompanyAPIView):
    """`GET .../campaigns/acquisition`: the company's campaigns (deleted ones left out)."""

    query_parameters = PAGINATION_PARAMETERS

    @extend_schema(
        responses=AcquisitionCampaignOutputSerializer(many=True),
        operation_id="acquisition_campaigns_list",
    )
    def get(self, request, company_key: str):
        queryset = (
            AcquisitionCampaign.objects.filter(company=self.company)
            .exclude(status=AcquisitionCampaign.Status.DELETED)
            .prefetch_related("subscription_lists")
        )
        return self.paginated_response(
            queryset, lambda page: [campaign_payload(c, company=self.company) for c in page]
        )


class AcquisitionCampaignDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(
        responses=AcquisitionCampaignOutputSerializer, operation_id="acquisition_campaign_get"
    )
    def get(self, request, company_key: str, campaign_id: str):
        campaign = acquisition_campaign_get(company=self.company, campaign_id=campaign_id)
        return Response(campaign_payload(campaign, company=self.company))


def participants_filtered(queryset, params, *, company):
    """The platform's participant search: `?mdn=`, `?person_id=` (or a key),
    `?external_person_id=`; a value naming nobody finds nothing."""
    if "mdn" in params:
        mdn = normalize_mdn_for_search(params["mdn"])
        if mdn is None:
            raise InvalidQueryParameter(f"mdn: '{params['mdn'][:32]}' is not a phone number")
        queryset = queryset.filter(person__mdn=mdn)
    for name in ("person_id", "external_person_id"):
        if name in params:
            try:
                person = person_from_route(company=company, route_kwargs={name: params[name]})
            except PersonNotFound:
                return queryset.none()
            queryset = queryset.filter(person=person)
    return queryset


class ParticipantListView(CompanyAPIView):
    """`POST` adds a participant from a person body (201 PENDING or SUBSCRIBED, 200 already
    pending, 409 already subscribed, 400 bad MDN, 422 inactive campaign or external id
    mismatch); `GET` lists the pending participants."""

    query_parameters = ("mdn", "person_id", "external_person_id", *PAGINATION_PARAMETERS)

    @extend_schema(
        responses=ParticipantOutputSerializer(many=True),
        operation_id="acquisition_participants_pending",
    )
    def get(self, request, company_key: str, campaign_id: str):
        campaign = acquisition_campaign_get(company=self.company, campaign_id=campaign_id)
        queryset = Participation.objects.select_related("person").filter(
            campaign=campaign,
            status=Participation.Status.PENDING,
            expire_date__gt=timezone.now(),
        )
        queryset = participants_filtered(queryset, request.query_params, company=self.company)

        def render(page):
            for participation in page:
                participation.campaign = campaign
            return [
                participant_payload(p, company=self.company, api_version=request.version)
                for p in page
            ]

        return self.paginated_response(queryset, render)

    @extend_schema(
        request=PersonInputSerializer,
        responses={200: ParticipantOutputSerializer, 201: ParticipantOutputSerializer},
        operation_id="acquisition_participant_add",
    )
    def post(self, request, company_key: str, campaign_id: str):
        campaign = acquisition_campaign_get(company=self.company, campaign_id=campaign_id)
        body = validated(PersonInputSerializer, request)
        changes = person_changes(body, company=self.company, api_version=request.version)
        participation, created = participant_add(campaign=campaign, person_changes=changes)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        payload = participant_payload(
            participation, company=self.company, api_version=request.version
        )
        return Response(payload, status=code)


class PersonPendingAcquisitionsView(CompanyAPIView):
    """`GET .../mobiledb/persons/:id/pending_acquisitions`: the person's pending
    participations."""

    query_parameters = PAGINATION_PARAMETERS

    @extend_schema(responses=ParticipantOutputSerializer(many=True))
    def get(self, request, company_key: str, person_id: str):
        person = person_get(company=self.company, id_or_key=person_id)
        queryset = Participation.objects.select_related("campaign").filter(
            person=person, status=Participation.Status.PENDING, expire_date__gt=timezone.now()
        )

        def render(page):
            for participation in page:
                participation.person = person
            return [
                participant_payload(p, company=self.company, api_version=request.version)
                for p in page
            ]

        return self.paginated_response(queryset, render)


class InboundEventInputSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=128)
    event_type = serializers.ChoiceField(choices=["inbound_message"])
    mdn = serializers.CharField(max_length=32)
    short_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    message = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)
    event_date = serializers.CharField(required=False, allow_null=True)

    def validate_event_date(self, value):
        if value is None:
            return None
        try:
            return parse_platform_datetime(value)
        except ValueError:
            raise serializers.ValidationError(
                "expected a date such as 2026-01-01T00:00:00Z"
            ) from None


PERSON_IDENTIFIERS = ("mdn", "person_id", "person_key", "external_person_id")


class EventDataSerializer(serializers.Serializer):
    """`event_data` of the platform's event body: one person identifier, and for an
    inbound message its `short_code` and `message`; other keys are strings, as documented."""

    mdn = serializers.CharField(max_length=32, required=False)
    person_id = serializers.CharField(max_length=64, required=False)
    person_key = serializers.CharField(max_length=64, required=False)
    external_person_id = serializers.CharField(max_length=128, required=False)
    vibes_device_id = serializers.CharField(max_length=128, required=False)
    short_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    message = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, trim_whitespace=False
    )

    def validate(self, attrs):
        identifiers = [
            k for k in ("mdn", "person_id", "person_key", "external_person_id") if k in attrs
        ]
        if not identifiers and "vibes_device_id" not in attrs:
            raise serializers.ValidationError(
                {"mdn": "one of mdn, person_id, person_key or external_person_id is required"},
                code="required",
            )
        return attrs


class DocumentedEventInputSerializer(serializers.Serializer):
    """The platform OpenAPI's `eventRequest`: `{event_id?, event_type, event_data}`."""

    event_id = serializers.CharField(max_length=128, required=False)
    event_type = serializers.CharField(max_length=32)
    event_data = EventDataSerializer()
    event_date = serializers.CharField(required=False, allow_null=True)

    validate_event_date = InboundEventInputSerializer.validate_event_date


class EventResponseSerializer(serializers.Serializer):
    event_id = serializers.CharField()


def inbound_event_payload(event: InboundEvent, *, api_version: int) -> dict:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "mdn": format_mdn(event.mdn, api_version=api_version) if event.mdn else event.mdn,
        "short_code": event.short_code,
        "message": event.message,
        "event_date": format_platform_datetime(event.event_date),
        "received_at": format_platform_datetime(event.received_at),
        "outcome": event.outcome,
        "detail": event.detail,
    }


class PersonHasNoMDN(DomainError):
    code = ErrorCode.INVALID_MDN
    error_class = "InvalidMDN"
    default_message = "event_data: the person has no MDN to receive an inbound message from"


def event_mdn(event_data: dict, *, company) -> str:
    """The E.164 MDN an event's `event_data` names, by MDN or by its person."""
    if "mdn" in event_data:
        # events carry what the carrier saw: E.164 or 10-digit US whatever X-API-Version
        return normalize_mdn(event_data["mdn"], api_version=2)
    if not any(name in event_data for name in PERSON_IDENTIFIERS):
        raise PersonNotFound("vibesweb keeps no push devices: name the person another way")
    if "external_person_id" in event_data:
        route = {"external_person_id": event_data["external_person_id"]}
    else:
        route = {"person_id": event_data.get("person_id") or event_data.get("person_key")}
    person = person_from_route(company=company, route_kwargs=route)
    return person.mdn or ""


EVENT_REQUEST = PolymorphicProxySerializer(
    component_name="InboundEventRequest",
    serializers=[DocumentedEventInputSerializer, InboundEventInputSerializer],
    resource_type_field_name=None,
)
EVENT_RESPONSE = PolymorphicProxySerializer(
    component_name="InboundEventAnswer",
    serializers=[EventResponseSerializer, InboundEventOutputSerializer],
    resource_type_field_name=None,
)


class InboundEventView(CompanyAPIView):
    """`POST /companies/:key/events`: an event such as an SMS a phone sent (201; 200 for a
    duplicate `event_id`).

    Takes the platform OpenAPI's body `{event_id, event_type, event_data: {mdn | person_id |
    external_person_id, short_code, message, ...}}`, answered with `{"event_id"}`, and the
    flat inbound message of SPEC section 5 (`mdn`, `short_code`, `message` at the top),
    answered with the stored event and its outcome.
    """

    query_parameters = ()

    rate_class = "inbound_events"

    @extend_schema(
        request=EVENT_REQUEST,
        responses={200: EVENT_RESPONSE, 201: EVENT_RESPONSE},
        operation_id="inbound_event_receive",
    )
    def post(self, request, company_key: str):
        if "event_data" in json_object_body(request):
            return self._documented(request)
        body = validated(InboundEventInputSerializer, request)
        event, applied = inbound_event_receive(
            company=self.company,
            event_id=body["event_id"],
            event_type=body["event_type"],
            mdn=normalize_mdn(body["mdn"], api_version=2),
            short_code=body.get("short_code") or "",
            message=body["message"],
            event_date=body.get("event_date"),
        )
        code = status.HTTP_201_CREATED if applied else status.HTTP_200_OK
        return Response(inbound_event_payload(event, api_version=request.version), status=code)

    def _documented(self, request) -> Response:
        body = validated(DocumentedEventInputSerializer, request)
        data = body["event_data"]
        mdn = event_mdn(data, company=self.company)
        if body["event_type"] == INBOUND_MESSAGE and not mdn:
            raise PersonHasNoMDN()
        event, applied = inbound_event_receive(
            company=self.company,
            # the document makes event_id optional: one is assigned and answered
            event_id=body.get("event_id") or str(uuid.uuid4()),
            event_type=body["event_type"],
            mdn=mdn,
            short_code=data.get("short_code") or "",
            message=data.get("message") or "",
            event_date=body.get("event_date"),
        )
        code = status.HTTP_201_CREATED if applied else status.HTTP_200_OK
        return Response({"event_id": event.event_id}, status=code)


# --- under /mobiledb: the campaigns of a subscription list (campaigns/api/mobiledb_urls.py)


class SubscriptionListCampaignsView(CompanyAPIView):
    """`GET .../subscription_lists/:id/acquisition_campaigns`."""

    query_parameters = PAGINATION_PARAMETERS

    @extend_schema(
        responses=AcquisitionCampaignOutputSerializer(many=True),
        operation_id="subscription_list_acquisition_campaigns",
    )
    def get(self, request, company_key: str, list_id: str):
        subscription_list = subscription_list_get(company=self.company, list_id=list_id)
        queryset = subscription_list.acquisition_campaigns.prefetch_related("subscription_lists")
        return self.paginated_response(
            queryset,
            lambda page: [campaign_payload(item, company=self.company) for item in page],
        )
