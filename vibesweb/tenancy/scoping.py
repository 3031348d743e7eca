"""Admin scoping: a staff user sees only the companies it belongs to, everywhere.

Every ModelAdmin of a company-owned model mixes in CompanyScopedAdminMixin, which
filters the changelist, search results, change forms (a foreign object answers 404) and
every foreign-key/many-to-many choice. Superusers see all companies.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, Model, QuerySet
from django.http import HttpResponseRedirect

from vibesweb.errors import DomainError
from vibesweb.inputs import parse_id, refuse_unsafe_json

from .models import Company, Membership
from .services import companies_for_user


def scope_queryset(queryset: QuerySet, user, company_path: str) -> QuerySet:
    """`queryset` limited to rows whose `company_path` is one of `user`'s companies."""
    if user.is_superuser:
        return queryset
    if queryset.model is Company:
        return queryset.filter(memberships__user=user)
    # `company IN (1, 2)` with the ids as literals, rather than a join through
    # memberships or a subquery: with either, the planner cannot see it is (usually) one
    # company and sorts millions of rows before the first page.
    member_of = list(Membership.objects.filter(user=user).values_list("company_id", flat=True))
    return queryset.filter(**{f"{company_path}__in": member_of})


def _company_path_of(model: type[Model]) -> str | None:
    if model is Company:
        return ""
    names = {f.name for f in model._meta.get_fields()}
    if "company" in names:
        return "company"
    for via in ("person", "field", "subscription_list", "registration", "campaign", "item"):
        if via in names:
            related = model._meta.get_field(via).related_model
            inner = _company_path_of(related)
            if inner is not None:
                return f"{via}__{inner}".rstrip("_")
    return None


class SafeTextFormMixin:
    """Every admin form refuses a NUL character or a lone surrogate in any cleaned value,
    JSON fields included, as a form error (vibesweb.inputs)."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(self.cleaned_data.items()):
            if isinstance(value, str | list | dict):
                # A form's clean() may add values of its own (derived from the fields):
                # those are checked too, and reported on the form as a whole.
                field = self.fields.get(name)
                try:
                    refuse_unsafe_json(value, where=str(field and field.label or name))
                except DomainError as error:
                    self.add_error(name if field is not None else None, error.message)
        return cleaned


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """AllValuesFieldListFilter whose choices come from the admin's scoped queryset."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        values = model_admin.get_queryset(request).order_by(field_path)
        self.lookup_choices = values.values_list(field_path, flat=True).distinct()


def _scoped_list_filter(model: type[Model], item):
    if not isinstance(item, str):
        return item
    field = get_fields_from_path(model, item)[-1]
    if field.is_relation:
        return (item, admin.RelatedOnlyFieldListFilter)
    if isinstance(field, CharField) and not field.choices:
        return (item, ScopedAllValuesFieldListFilter)
    return item


class CompanyScopedAdminMixin:
    """Mix into a ModelAdmin (or inline) whose model reaches a Company."""

    company_path: str | None = None  # derived from the model when left empty

    def get_company_path(self) -> str:
        path = self.company_path or _company_path_of(self.model)
        if path is None:
            raise TypeError(f"{self.model.__name__} has no path to a company")
        return path

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (SafeTextFormMixin, form), {})

    def get_list_filter(self, request):
        """Filters named by a field path offer only values of the user's rows: Django's
        own list every value in the table (or of the related table, for a path)."""
        return [_scoped_list_filter(self.model, item) for item in super().get_list_filter(request)]

    def changelist_view(self, request, extra_context=None):
        # A filter value no integer column can hold (a hand-edited URL) reached the
        # database as an OverflowError, a 500: drop it and say so (issue 14).
        unusable = [
            name
            for name, values in request.GET.lists()
            if not all(_fits_integer_lookup(self.model, name, value) for value in values)
        ]
        if unusable:
            query = request.GET.copy()
            for name in unusable:
                del query[name]
            messages.warning(request, f"Filter ignored: {', '.join(unusable)} is not a valid id.")
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return scope_queryset(queryset, request.user, self.get_company_path())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scope_choices(self, db_field, request, kwargs) -> None:
        related = db_field.related_model
        path = _company_path_of(related)
        if path is None or request.user.is_superuser:
            return
        base = kwargs.get("queryset", related._default_manager.all())
        if related is Company:
            kwargs["queryset"] = companies_for_user(request.user)
        else:
            kwargs["queryset"] = scope_queryset(base, request.user, path)


class CompanyListFilter(admin.SimpleListFilter):
    """The changelist's company filter, offering only the user's companies."""

    title = "company"
    parameter_name = "company"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.key) for c in companies_for_user(request.user)]

    def queryset(self, request, queryset):
        company_id = parse_id(self.value())
        if company_id is None:
            return queryset
        path = _company_path_of(queryset.model)
        return queryset.filter(**{f"{path}__id": company_id})


_INTEGER_LOOKUPS = {"exact", "gt", "gte", "lt", "lte"}
_INTEGER_RANGE = range(-(2**63), 2**63)


def _fits_integer_lookup(model: type[Model], name: str, value: str) -> bool:
    """False when `name` is an integer (or foreign key) lookup and `value` an integer
    out of a 64-bit column's range; anything else is left to the admin's own checks."""
    parts = name.split("__")
    if len(parts) > 1 and parts[-1] in _INTEGER_LOOKUPS:
        parts.pop()
    try:
        field = get_fields_from_path(model, "__".join(parts))[-1]
    except (FieldDoesNotExist, admin.utils.NotRelationField, IndexError):
        return True
    if field.is_relation and field.target_field is not None:
        field = field.target_field
    if not isinstance(field, models.IntegerField | models.AutoField):
        return True
    try:
        return int(value) in _INTEGER_RANGE
    except ValueError:
        return True  # not a number: the admin's own check answers that
