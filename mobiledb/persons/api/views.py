"""Persons, tags and custom fields under /companies/:company_key/mobiledb (thin views)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import PAGINATION_PARAMETERS, CompanyAPIView, validated
from vibesweb.errors import DomainError, ErrorCode, NotFound

from ...errors import PersonNotFound
from ...validation import normalize_mdn
from ..models import CustomField, PersonTag
from ..selectors import (
    custom_field_schema,
    person_from_route,
    person_get,
    person_get_by_external_id,
    person_route_row,
    persons_of_company,
)
from ..services import person_add, person_tag_add, person_update
from .filters import PersonFilter
from .serializers import (
    CustomFieldOutputSerializer,
    PersonInputSerializer,
    PersonOutputSerializer,
    TagInputSerializer,
    TagListSerializer,
    TagSerializer,
    person_representation,
)


def person_changes(body: dict, *, company, api_version: int) -> dict:
    """Service arguments from a validated person body: only the keys the body carried."""
    changes: dict = {}
    if "external_person_id" in body:
        changes["external_person_id"] = body["external_person_id"]
    phone = body.get("mobile_phone")
    if phone:
        if phone.get("mdn") is not None:
            changes["mdn"] = normalize_mdn(phone["mdn"], api_version=api_version)
        if "carrier_code" in phone:
            changes["carrier_code"] = phone["carrier_code"] or None
    if "timezone" in body:
        changes["timezone"] = body["timezone"]
    if body.get("custom_fields"):
        changes["custom_fields"] = custom_field_schema(company).clean(body["custom_fields"])
    return changes


class PersonsMixin:
    def person_json(self, person) -> dict:
        schema = custom_field_schema(self.company)
        return person_representation(person, schema=schema, api_version=self.request.version)

    def person_serializer(self, instance, many: bool = False):
        context = {
            "schema": custom_field_schema(self.company),
            "api_version": self.request.version,
        }
        return PersonOutputSerializer(instance, many=many, context=context)


class PersonSearchMixin:
    """Takes the person search's parameters (PersonFilter), and nothing else."""

    # documented in the schema; custom fields are taken too (PersonFilter.parameter_allowed)
    query_parameters: tuple[str, ...] = (
        "mdn",
        "external_person_id",
        "person_key",
        "updated_since",
        *PAGINATION_PARAMETERS,
    )

    def query_parameter_allowed(self, name: str) -> bool:
        return PersonFilter.parameter_allowed(name, company=self.company)


class PersonListView(PersonSearchMixin, PersonsMixin, CompanyAPIView):
    """`POST` adds a person (201, or 200 merged by MDN); `GET` searches."""

    @extend_schema(responses=PersonOutputSerializer(many=True), operation_id="persons_search")
    def get(self, request, company_key: str):
        queryset = persons_of_company(self.company)
        queryset = PersonFilter(request.query_params, queryset=queryset, request=request).qs

        def render(page):
            for person in page:
                person.company = self.company
            return self.person_serializer(page, many=True).data

        return self.paginated_response(queryset, render)

    @extend_schema(
        request=PersonInputSerializer,
        responses={200: PersonOutputSerializer, 201: PersonOutputSerializer},
        operation_id="person_add",
    )
    def post(self, request, company_key: str):
        body = validated(PersonInputSerializer, request)
        changes = person_changes(body, company=self.company, api_version=request.version)
        person, created = person_add(company=self.company, **changes)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.person_json(person), status=code)

    @extend_schema(
        request=PersonInputSerializer,
        responses=PersonOutputSerializer,
        operation_id="person_update_by_external_id_in_body",
    )
    def put(self, request, company_key: str):
        """Update by `external_person_id` in the body (seeds/000 "Updating a Person")."""
        body = validated(PersonInputSerializer, request)
        if not body.get("external_person_id"):
            # code 200 (a required field), not 305: that one means "a new person needs an
            # MDN or an external id", and this is an update
            raise ExternalPersonIdRequired()
        person = person_get_by_external_id(
            company=self.company, external_person_id=body["external_person_id"]
        )
        changes = person_changes(body, company=self.company, api_version=request.version)
        person = person_update(person=person, **changes)
        return Response(self.person_json(person))


class PersonDetailView(PersonsMixin, CompanyAPIView):
    """A person by `person_id`, `person_key` or `external/:external_person_id`."""

    query_parameters = ()

    def route_row(self):
        if self.request.method not in ("GET", "HEAD"):
            return None
        return person_route_row(self.kwargs)

    def get_person(self):
        read, person = self.route_row_read()
        if not read:
            return person_from_route(company=self.company, route_kwargs=self.kwargs)
        if person is None:
            raise PersonNotFound()
        person.company = self.company  # spare a query when building URLs
        return person

    @extend_schema(responses=PersonOutputSerializer, operation_id="person_get")
    def get(self, request, company_key: str, **kwargs):
        return Response(self.person_json(self.get_person()))

    @extend_schema(
        request=PersonInputSerializer,
        responses=PersonOutputSerializer,
        operation_id="person_update",
    )
    def put(self, request, company_key: str, **kwargs):
        body = validated(PersonInputSerializer, request)
        person = self.get_person()
        changes = person_changes(body, company=self.company, api_version=request.version)
        person = person_update(person=person, **changes)
        return Response(self.person_json(person))

    @extend_schema(
        request=PersonInputSerializer,
        responses=PersonOutputSerializer,
        operation_id="person_update_partial",
    )
    def patch(self, request, company_key: str, **kwargs):
        return self.put(request, company_key, **kwargs)


@extend_schema_view(
    get=extend_schema(responses=TagListSerializer),
    post=extend_schema(request=TagInputSerializer, responses={201: TagListSerializer}),
    delete=extend_schema(responses={204: None}, operation_id="person_tags_clear"),
)
class PersonTagListView(CompanyAPIView):
    """`/persons/:id/tags`: `GET` the tags, `POST` adds `tag` or `tags`, `DELETE` clears."""

    query_parameters = ()

    def get(self, request, company_key: str, person_id: str):
        person = person_get(company=self.company, id_or_key=person_id)
        return Response(list(person.tags.values_list("tag", flat=True)))

    def post(self, request, company_key: str, person_id: str):
        body = validated(TagInputSerializer, request)
        person = person_get(company=self.company, id_or_key=person_id)
        tags = body.get("tags") or [body["tag"]]
        with transaction.atomic():
            for tag in tags:
                PersonTag.objects.get_or_create(person=person, tag=tag)
        return Response(
            list(person.tags.values_list("tag", flat=True)), status=status.HTTP_201_CREATED
        )

    def delete(self, request, company_key: str, person_id: str):
        person = person_get(company=self.company, id_or_key=person_id)
        person.tags.all().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(responses=TagSerializer),
    put=extend_schema(request=None, responses={200: TagSerializer, 201: TagSerializer}),
    delete=extend_schema(responses={204: None}, operation_id="person_tag_remove"),
)
class PersonTagDetailView(CompanyAPIView):
    """`/persons/:id/tags/:tag`: `GET` (404 if absent), `PUT` adds, `DELETE` removes."""

    query_parameters = ()

    def get(self, request, company_key: str, person_id: str, tag: str):
        person = person_get(company=self.company, id_or_key=person_id)
        get_tag_or_404(person, tag)
        return Response({"tag": tag})

    def put(self, request, company_key: str, person_id: str, tag: str):
        person = person_get(company=self.company, id_or_key=person_id)
        if len(tag) > 100:
            raise TagTooLong()
        created = person_tag_add(person=person, tag=tag)
        return Response({"tag": tag}, status=201 if created else 200)

    def delete(self, request, company_key: str, person_id: str, tag: str):
        person = person_get(company=self.company, id_or_key=person_id)
        get_tag_or_404(person, tag).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomFieldListView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses=CustomFieldOutputSerializer(many=True))
    def get(self, request, company_key: str):
        fields = CustomField.objects.filter(company=self.company).prefetch_related("options")
        for field in fields:
            field.company = self.company
        return Response(CustomFieldOutputSerializer(fields, many=True).data)


class CustomFieldDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses=CustomFieldOutputSerializer)
    def get(self, request, company_key: str, field_id: int):
        field = CustomField.objects.filter(company=self.company, pk=field_id).first()
        if field is None:
            raise NotFound("Custom field not found")
        return Response(CustomFieldOutputSerializer(field).data)


class ExternalPersonIdRequired(DomainError):
    code = ErrorCode.FIELD_REQUIRED
    error_class = "FieldRequired"
    default_message = "external_person_id is required to update a person at this URL"


class TagTooLong(DomainError):
    code = ErrorCode.VALUE_TOO_LONG
    default_message = "A tag is at most 100 characters"


def get_tag_or_404(person, tag: str) -> PersonTag:
    found = person.tags.filter(tag=tag).first()
    if found is None:
        raise NotFound("Tag not found")
    return found
