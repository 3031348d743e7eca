"""Company scoping, wired once in DEFAULT_PERMISSION_CLASSES."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import Http404
from rest_framework.permissions import BasePermission

from vibesweb.db import ModelRows, instance_from_db, prepared_cursor
from vibesweb.tenancy.models import Company

# In the model's field order, as Model.from_db expects; created_at stays deferred.
_COMPANY_COLUMNS = ("id", "key", "name", "schema_version")
# Facts about the company that apps above this one want on every request, read in the
# membership statement instead of a round trip of their own: attribute -> an SQL
# expression over the company row `c` (registered at app ready, see `company_fact`).
_company_facts: dict[str, str] = {}


def company_fact(attribute: str, sql: str) -> None:
    """Read `sql` (an expression over the company row `c`, e.g. an EXISTS) with every
    request's membership check and set it on `request.company` as `attribute` (a bool).
    The value is as of the request's start: a caller must treat a change made during
    the request as made after it."""
    _company_facts[attribute] = sql
    _user_with_member_company_sql.cache_clear()


@dataclass(frozen=True)
class RouteRow:
    """The one row a read names in its URL (GET /persons/:id), in the company of the URL.

    The authentication reads it in the same statement as the user and the membership, so
    the read costs one round trip to the database instead of two (on PostgreSQL each
    costs the client far more than its statement). `column` and `value`: the row's unique
    column in that company and the value ready for the database.
    """

    rows: ModelRows
    column: str
    value: Any


def member_company(user, key: str) -> Company | None:
    """The company with `key` if `user` may reach it (a superuser reaches every one): the
    same single query as the remembered-credential path, with only the user's id."""
    return user_with_member_company(get_user_model(), ["id"], user.pk, key)[1]


def user_with_member_company(
    user_model, user_fields: list[str], user_id: int, key: str, route_row: RouteRow | None = None
) -> tuple[Any, Company | None, Any]:
    """(the user row as it is now, the company with `key` if that user may reach it, the
    `route_row` in that company or None) in one query: the one membership check of every
    company request (authentication re-reads the user row anyway, so the check rides
    along). `user_fields`: attnames in the model's field order, as Model.from_db expects."""
    if route_row is None:
        sql = _user_with_member_company_sql(user_model, tuple(user_fields))
        params = [key, user_id]
    else:
        sql = _user_with_member_company_sql(
            user_model, tuple(user_fields), route_row.rows, route_row.column
        )
        params = [key, route_row.value, user_id]
    database = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up
    alias = database.alias
    with prepared_cursor(database) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None, None, None
    split = len(user_fields)
    user = instance_from_db(user_model, alias, user_fields, row[:split])
    if row[split] is None:
        return user, None, None
    company_end = split + len(_COMPANY_COLUMNS)
    company = instance_from_db(Company, alias, _COMPANY_COLUMNS, row[split:company_end])
    for attribute in _company_facts:
        setattr(company, attribute, bool(row[company_end]))
        company_end += 1
    found = None
    if route_row is not None and row[company_end + route_row.rows.pk_index] is not None:
        found = route_row.rows.instance(row[company_end:], alias)
    return user, company, found


@functools.cache
def _user_with_member_company_sql(
    user_model, user_fields: tuple[str, ...], rows: ModelRows | None = None, column: str = ""
) -> str:
    """Built once per process (quote_name for every column cost more than the query);
    with `rows`, the row of theirs whose `column` is the second parameter, in company `c`
    only (another company's row is never read)."""
    quote = connection.ops.quote_name
    user_columns = ", ".join(f"u.{quote(name)}" for name in user_fields)
    company_columns = ", ".join(
        [f"c.{quote(name)}" for name in _COMPANY_COLUMNS] + list(_company_facts.values())
    )
    row_columns, row_join = "", ""
    if rows is not None:
        table = quote(rows.model._meta.db_table)
        row_columns = f", {rows.columns(connection.alias)}"
        row_join = (
            f"LEFT JOIN {table} ON {table}.{quote('company_id')} = c.id "
            f"AND {table}.{quote(column)} = %s "
        )
    return (
        f"SELECT {user_columns}, {company_columns}{row_columns} "
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(Company._meta.db_table)} c ON c.{quote('key')} = %s "
        f"AND (u.{quote('is_superuser')} OR EXISTS (SELECT 1 FROM "
        f"{quote('tenancy_membership')} m WHERE m.company_id = c.id AND m.user_id = u.id)) "
        f"{row_join}WHERE u.id = %s"
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
