"""Admin scoping: a staff user sees only the companies it belongs to, everywhere.

Every ModelAdmin of a company-owned model mixes in CompanyScopedAdminMixin, which
filters the changelist, search results, change forms (a foreign object answers 404) and
every foreign-key/many-to-many choice. Superusers see all companies.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet

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


class CompanyScopedAdminMixin:
    """Mix into a ModelAdmin (or inline) whose model reaches a Company."""

    company_path: str | None = None  # derived from the model when left empty

    def get_company_path(self) -> str:
        path = self.company_path or _company_path_of(self.model)
        if path is None:
            raise TypeError(f"{self.model.__name__} has no path to a company")
        return path

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
        if not self.value() or not self.value().isdigit():
            return queryset
        path = _company_path_of(queryset.model)
        return queryset.filter(**{f"{path}__id": int(self.value())})
