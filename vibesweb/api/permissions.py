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


def user_with_member_company(user_model, user_fields: list[str], user_id: int, key: str):
    """(the user row as it is now, the company with `key` if that user may reach it) in
    one query: the remembered-credential path of every company request (authentication
    re-reads the user row anyway, so the membership check rides along)."""
    quote = connection.ops.quote_name
    user_columns = ", ".join(f"u.{quote(name)}" for name in user_fields)
    company_columns = ", ".join(f"c.{quote(name)}" for name in _COMPANY_COLUMNS)
    sql = (
        f"SELECT {user_columns}, {company_columns} "
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(Company._meta.db_table)} c ON c.{quote('key')} = %s "
        f"AND (u.{quote('is_superuser')} OR EXISTS (SELECT 1 FROM "
        f"{quote('tenancy_membership')} m WHERE m.company_id = c.id AND m.user_id = u.id)) "
        f"WHERE u.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, user_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    split = len(user_fields)
    user = user_model.from_db(connection.alias, user_fields, row[:split])
    if row[split] is None:
        return user, None
    return user, Company.from_db(connection.alias, list(_COMPANY_COLUMNS), row[split:])


class CompanyMemberPermission(BasePermission):
    """Resolves `:company_key` to `request.company`; another company's key answers 404.

    The authentication may have looked the company up already, in the same query as the
    user (`request.company_lookup`: key, user id, company or None)."""

    def has_permission(self, request, view) -> bool:
        key = view.kwargs.get("company_key")
        if key is None:
            return True
        found = getattr(request._request, "company_lookup", None)
        if found is not None and found[0] == key and found[1] == request.user.pk:
            company = found[2]
        else:
            company = member_company(request.user, key)
        if company is None:
            raise Http404("No such company")
        request.company = company
        return True
