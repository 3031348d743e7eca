"""Company scoping, wired once in DEFAULT_PERMISSION_CLASSES."""

from __future__ import annotations

from django.http import Http404
from rest_framework.permissions import BasePermission

from vibesweb.tenancy.services import companies_for_user


class CompanyMemberPermission(BasePermission):
    """Resolves `:company_key` to `request.company`; another company's key answers 404."""

    def has_permission(self, request, view) -> bool:
        key = view.kwargs.get("company_key")
        if key is None:
            return True
        company = companies_for_user(request.user).filter(key=key).first()
        if company is None:
            raise Http404("No such company")
        request.company = company
        return True
