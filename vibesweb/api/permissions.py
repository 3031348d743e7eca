"""Company scoping, wired once in DEFAULT_PERMISSION_CLASSES."""

from __future__ import annotations

from django.db import connection
from django.http import Http404
from rest_framework.permissions import BasePermission

from vibesweb.tenancy.models import Company

# In the model's field order, as Model.from_db expects; created_at stays deferred.
_COMPANY_COLUMNS = ("id", "key", "name", "schema_version")


def member_company(user, key: str) -> Company | None:
    """The company with `key` if `user` may reach it (a superuser reaches every one).

    One raw query built by Model.from_db: it runs on every API request.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(f"c.{quote(name)}" for name in _COMPANY_COLUMNS)
    sql = f"SELECT {columns} FROM {quote(Company._meta.db_table)} c WHERE c.{quote('key')} = %s"
    params: list = [key]
    if not user.is_superuser:
        membership = quote("tenancy_membership")
        sql += (
            f" AND EXISTS (SELECT 1 FROM {membership} m"
            " WHERE m.company_id = c.id AND m.user_id = %s)"
        )
        params.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Company.from_db(connection.alias, list(_COMPANY_COLUMNS), row)


class CompanyMemberPermission(BasePermission):
    """Resolves `:company_key` to `request.company`; another company's key answers 404."""

    def has_permission(self, request, view) -> bool:
        key = view.kwargs.get("company_key")
        if key is None:
            return True
        company = member_company(request.user, key)
        if company is None:
            raise Http404("No such company")
        request.company = company
        return True
