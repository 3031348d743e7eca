"""Acquisition campaigns, participants and inbound events (thin views over services)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from mobiledb.persons.api.serializers import PersonInputSerializer
from mobiledb.persons.api.views import person_changes
from mobiledb.persons.selectors import person_get
from mobiledb.subscriptions.services import subscription_list_get
from mobiledb.validation import format_platform_datetime, normalize_mdn, parse_platform_datetime
from vibesweb.api.views import CompanyAPIView, validated

from ..models import AcquisitionCampaign, InboundEvent, Participation
from ..services.acquisition import (
    acquisition_campaign_get,
    campaign_payload,
    participant_add,
    participant_payload,
)
from ..services.inbound import inbound_event_receive
from .shapes import (
    AcquisitionCampaignOutputSerializer,
    InboundEventOutputSerializer,
    ParticipantOutputSerializer,
)


class AcquisitionCampaignListView(CompanyAPIView):
    """`GET .../campaigns/acquisition`: the company's campaigns (deleted ones left out)."""

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
    @extend_schema(
        responses=AcquisitionCampaignOutputSerializer, operation_id="acquisition_campaign_get"
    )
    def get(self, request, company_key: str, campaign_id: str):
        campaign = acquisition_campaign_get(company=self.company, campaign_id=campaign_id)
        return Response(campaign_payload(campaign, company=self.company))


class ParticipantListView(CompanyAPIView):
    """`POST` adds a participant from a person body (201 PENDING or SUBSCRIBED, 200 already
    pending, 409 already subscribed, 400 bad MDN, 422 inactive campaign or external id
    mismatch); `GET` lists the pending participants."""

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


def inbound_event_payload(event: InboundEvent) -> dict:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "mdn": event.mdn,
        "short_code": event.short_code,
        "message": event.message,
        "event_date": format_platform_datetime(event.event_date),
        "received_at": format_platform_datetime(event.received_at),
        "outcome": event.outcome,
        "detail": event.detail,
    }


class InboundEventView(CompanyAPIView):
    """`POST /companies/:key/events`: an SMS a phone sent (201; 200 for a duplicate)."""

    rate_class = "inbound_events"

    @extend_schema(
        request=InboundEventInputSerializer,
        responses={200: InboundEventOutputSerializer, 201: InboundEventOutputSerializer},
        operation_id="inbound_event_receive",
    )
    def post(self, request, company_key: str):
        body = validated(InboundEventInputSerializer, request)
        # events carry what the carrier saw: E.164 or 10-digit US whatever X-API-Version
        mdn = normalize_mdn(body["mdn"], api_version=2)
        event, applied = inbound_event_receive(
            company=self.company,
            event_id=body["event_id"],
            event_type=body["event_type"],
            mdn=mdn,
            short_code=body.get("short_code") or "",
            message=body["message"],
            event_date=body.get("event_date"),
        )
        code = status.HTTP_201_CREATED if applied else status.HTTP_200_OK
        return Response(inbound_event_payload(event), status=code)


# --- under /mobiledb: the campaigns of a subscription list (campaigns/api/mobiledb_urls.py)


class SubscriptionListCampaignsView(CompanyAPIView):
    """`GET .../subscription_lists/:id/acquisition_campaigns`."""

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
