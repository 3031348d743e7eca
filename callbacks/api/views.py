"""Callback configuration under /companies/:company_key/config (thin views)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import PAGINATION_PARAMETERS, CompanyAPIView, json_object_body, validated
from vibesweb.errors import NotFound

from ..models import CallbackRegistration
from ..selectors import open_registration_of_type, registrations_of_company
from ..services.operations import callback_event_test_send
from ..services.registrations import (
    registration_create,
    registration_end,
    registration_update,
)
from .serializers import (
    RegistrationCreatedSerializer,
    RegistrationInputSerializer,
    RegistrationOutputSerializer,
    TestEventInputSerializer,
    TestEventOutputSerializer,
    registration_changes,
    registration_json,
)


class CallbackNotFound(NotFound):
    error_class = "CallbackNotFound"
    default_message = "Callback registration not found"


def registration_get(company, callback_id) -> CallbackRegistration:
    """The company's registration with that callback id; CallbackNotFound otherwise."""
    try:
        key = uuid.UUID(str(callback_id))
    except ValueError:
        raise CallbackNotFound() from None
    registration = registrations_of_company(company).filter(callback_id=key).first()
    if registration is None:
        raise CallbackNotFound()
    return registration


class CallbackListView(CompanyAPIView):
    """`GET` lists registrations (`?active_only=true` hides ended ones); `POST` registers."""

    query_parameters = ("active_only", *PAGINATION_PARAMETERS)

    @extend_schema(operation_id="callbacks_list", responses=RegistrationOutputSerializer(many=True))
    def get(self, request, company_key: str):
        queryset = registrations_of_company(self.company)
        if request.query_params.get("active_only", "").lower() in ("true", "1"):
            queryset = queryset.filter(end_date__isnull=True)
        return self.paginated_response(queryset, lambda page: [registration_json(r) for r in page])

    @extend_schema(
        operation_id="callbacks_create",
        request=RegistrationInputSerializer,
        responses={201: RegistrationCreatedSerializer},
    )
    def post(self, request, company_key: str):
        body = validated(RegistrationInputSerializer, request)
        registration, secret = registration_create(
            company=self.company, api_version=request.version, **registration_changes(body)
        )
        answer = registration_json(registration)
        answer["signing_secret"] = secret  # shown once, here; never again
        return Response(answer, status=status.HTTP_201_CREATED)


class CallbackDetailView(CompanyAPIView):
    """`GET`, `PUT` (omitted fields stay) and `DELETE` (ends it) one registration."""

    query_parameters = ()

    @extend_schema(operation_id="callbacks_retrieve", responses=RegistrationOutputSerializer)
    def get(self, request, company_key: str, callback_id: str):
        return Response(registration_json(registration_get(self.company, callback_id)))

    @extend_schema(
        operation_id="callbacks_update",
        request=RegistrationInputSerializer,
        responses=RegistrationOutputSerializer,
    )
    def put(self, request, company_key: str, callback_id: str):
        registration = registration_get(self.company, callback_id)
        body = validated(RegistrationInputSerializer, request, partial=True)
        registration_update(registration=registration, **registration_changes(body))
        return Response(registration_json(registration))

    @extend_schema(operation_id="callbacks_end", responses={204: None})
    def delete(self, request, company_key: str, callback_id: str):
        registration_end(registration=registration_get(self.company, callback_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CallbackTestEventView(CompanyAPIView):
    """`POST {callback_id}` (or `{callback_type}`) queues a test event to that registration."""

    query_parameters = ()

    @extend_schema(
        operation_id="callback_events_test",
        request=TestEventInputSerializer,
        responses={201: TestEventOutputSerializer},
    )
    def post(self, request, company_key: str):
        body = validated(TestEventInputSerializer, request)
        if body.get("callback_id"):
            registration = registration_get(self.company, body["callback_id"])
        else:
            registration = open_registration_of_type(self.company, body["callback_type"])
            if registration is None:
                raise CallbackNotFound("No open callback registration of that type")
        delivery = callback_event_test_send(
            registration=registration, sample=json_object_body(request)
        )
        answer = {
            "message": f"Test {registration.callback_type} callback queued",
            "event_id": str(delivery.event_id),
            "callback_id": str(registration.callback_id),
            "callback_type": registration.callback_type,
            "status": "queued",
        }
        # the platform answers 201: the test callback is queued
        return Response(answer, status=status.HTTP_201_CREATED)
