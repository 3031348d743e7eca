"""Company scoping, wired once in DEFAULT_PERMISSION_CLASSES."""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from rest_framework.permissions import BasePermission

from vibesweb.db import prepared_cursor
from vibesweb.tenancy.models import Company

# In the model's field order, as Model.from_db expects; created_at stays deferred.
_COMPANY_COLUMNS = ("id", "key", "name", "schema_version")


def member_company(user, key: str) -> Company | None:
    """The company with `key` if `user` may reach it (a superuser reaches every one): the
    same single query as the remembered-credential path, with only the user's id."""
    return user_with_member_company(get_user_model(), ["id"], user.pk, key)[1]


def user_with_member_company(user_model, user_fields: list[str], user_id: int, key: str):
    """(the user row as it is now, the company with `key` if that user may reach it) in
    one query: the one membership check of every company request (authentication re-reads
    the user row anyway, so the check rides along). `user_fields`: attnames in the
    model's field order, as Model.from_db expects."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            _user_with_member_company_sql(user_model, tuple(user_fields)), [key, user_id]
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    split = len(user_fields)
    user = user_model.from_db(connection.alias, user_fields, row[:split])
    if row[split] is None:
        return user, None
    return user, Company.from_db(connection.alias, list(_COMPANY_COLUMNS), row[split:])


@functools.cache
def _user_with_member_company_sql(user_model, user_fields: tuple[str, ...]) -> str:
    """Built once per process (quote_name for every column cost more than the query)."""
    quote = connection.ops.quote_name
    user_columns = ", ".join(f"u.{quote(name)}" for name in user_fields)
    company_columns = ", ".join(f"c.{quote(name)}" for name in _COMPANY_COLUMNS)
    return (
        f"SELECT {user_columns}, {company_columns} "
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(Company._meta.db_table)} c ON c.{quote('key')} = %s "
        f"AND (u.{quote('is_superuser')} OR EXISTS (SELECT 1 FROM "
        f"{quote('tenancy_membership')} m WHERE m.company_id = c.id AND m.user_id = u.id)) "
        f"WHERE u.id = %s"
    )


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
