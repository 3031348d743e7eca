"""Company scoping for admin classes: a staff user sees only companies it belongs to.

`CompanyScopedAdminMixin` filters the changelist, every foreign key and many-to-many
choice (models with a `company` field, and Company itself) and rejects a form that
mixes another company's rows, so no list, form, choice or search leaks another
tenant. Superusers see everything. `company_path` names how a model reaches its
company when it is not a direct `company` field (e.g. "person__company").
"""

from __future__ import annotations

from django.contrib import admin

from .models import Company
from .services import companies_for_user


def _scoped_queryset(queryset, request, path: str = "company"):
    if request.user.is_superuser:
        return queryset
    if queryset.model is Company:
        return queryset.filter(pk__in=companies_for_user(request.user))
    if not any(f.name == "company" for f in queryset.model._meta.get_fields()):
        return queryset
    return queryset.filter(**{f"{path}__in": companies_for_user(request.user)})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter listing only the user's companies' rows."""

    def field_choices(self, field, request, model_admin):
        queryset = _scoped_queryset(field.related_model._default_manager.all(), request)
        return [(row.pk, str(row)) for row in queryset[:500]]


class CompanyScopedAdminMixin:
    company_path = "company"

    def get_list_filter(self, request):
        # relation filters list their choices from the user's companies only
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation:
                    entry = (entry, ScopedRelatedFieldListFilter)
            scoped.append(entry)
        return scoped

    def get_queryset(self, request):
        return _scoped_queryset(super().get_queryset(request), request, self.company_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scoped_queryset(field.queryset, request)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scoped_queryset(field.queryset, request)
        return field

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj, "view")

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, "change")

    def has_add_permission(self, request, *args):
        return self._may(request, None, "add")

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, "delete")

    def _may(self, request, obj, action: str) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        # Staff members act on their companies' data; the queryset already hides the rest.
        if obj is None:
            return True
        company_id = getattr(obj, "company_id", None)
        return company_id is None or companies_for_user(user).filter(pk=company_id).exists()


class CompanyScopedInline(CompanyScopedAdminMixin, admin.TabularInline):
    extra = 0
