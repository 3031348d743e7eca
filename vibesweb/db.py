"""Reading model rows with one raw statement on the API's hot path.

`Model.objects.raw()` sets itself up again on every call (the columns of the cursor's
description mapped to fields, the model's init order, each column's converters): on a
GET person that cost more than the three queries it ran. A `ModelRows` does that work
once per process and connection vendor and then builds instances as `Model.from_db`
would (`instance_from_db`), applying the same converters the ORM would (UUIDs,
datetimes, JSON on SQLite), so the instances are indistinguishable from the ORM's.
Statements still go through Django's cursor, so they are counted, logged and wrapped
like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


def instance_from_db(model: type[Model], using: str, names: Sequence[str], values: Sequence[Any]):
    """`model.from_db(using, names, values)` without running `Model.__init__`: the values
    set as attributes as unpickling an instance does (fields not in `names` stay
    deferred). `__init__` walks every field and sends pre_init/post_init: for the user, the
    company and the person of a GET person, ~6% of the request's CPU (py-spy). A model
    with pre_init or post_init receivers (an ImageField, a GenericForeignKey) gets
    `from_db`."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(using, list(names), list(values))
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding = False
    state.db = using
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def prepared_cursor(connection):
    """A cursor whose statements the database prepares once per connection, where the
    backend offers one (vibesweb.postgresql), else a plain cursor. For fixed raw SQL only."""
    make = getattr(connection, "prepared_cursor", None)
    return make() if make is not None else connection.cursor()


class ModelRows:
    """`SELECT <the model's columns> FROM <its table> <tail>` into model instances.

    `fields`: attnames to load (the model's concrete fields by default); the others stay
    deferred. The select list is in the model's field order, as `from_db` expects.
    """

    def __init__(self, model: type[Model], fields: Iterable[str] | None = None):
        self.model = model
        wanted = set(fields) if fields is not None else None
        self.fields = [
            f for f in model._meta.concrete_fields if wanted is None or f.attname in wanted
        ]
        self.names = [f.attname for f in self.fields]
        # where the primary key is in a row (None there: a LEFT JOIN found no row)
        pk = model._meta.pk.attname
        self.pk_index = self.names.index(pk) if pk in self.names else None
        self._prepared: dict[str, tuple[str, list, str]] = {}

    def _prepare(self, alias: str) -> tuple[str, list, str]:
        """(the select list, the converters by column, `SELECT <list> FROM <table> `)."""
        prepared = self._prepared.get(alias)
        if prepared is None:
            connection = connections[alias]
            quote = connection.ops.quote_name
            table = self.model._meta.db_table
            columns = ", ".join(f"{quote(table)}.{quote(f.column)}" for f in self.fields)
            converters = []
            for index, field in enumerate(self.fields):
                col = field.get_col(table)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if found:
                    converters.append((index, found, col))
            prepared = (columns, converters, f"SELECT {columns} FROM {quote(table)} ")
            self._prepared[alias] = prepared
        return prepared

    def columns(self, using: str = "default") -> str:
        """The select list, each column qualified by the table's name (for a join)."""
        return self._prepare(using)[0]

    def instance(self, row: Sequence[Any], using: str = "default") -> Model:
        """The instance of `row`, the values of `columns()` in their order."""
        connection = connections[using]
        values = list(row)
        for index, functions, col in self._prepare(using)[1]:
            value = values[index]
            for convert in functions:
                value = convert(value, col, connection)
            values[index] = value
        return instance_from_db(self.model, using, self.names, values)

    def select(self, tail: str, params: Sequence[Any], *, using: str = "default") -> list:
        """Instances of the rows `tail` (WHERE ..., FOR UPDATE ...) selects."""
        head = self._prepare(using)[2]
        with prepared_cursor(connections[using]) as cursor:
            cursor.execute(head + tail, params)
            rows = cursor.fetchall()
        return [self.instance(row, using) for row in rows]

    def first(self, tail: str, params: Sequence[Any], *, using: str = "default"):
        found = self.select(tail, params, using=using)
        return found[0] if found else None


class ModelInsert:
    """`INSERT INTO <its table> (<its columns>) VALUES (...)` of one instance with one raw
    statement, built once per connection vendor: `Model.save()` compiles its INSERT anew
    every time, which cost more than running it on the API's hot write paths.

    Values are prepared as the ORM's insert prepares them (`pre_save`, so `auto_now`
    fields are stamped, then `get_db_prep_save`); the new primary key is set on the
    instance, which is then saved as far as Django can tell.
    """

    def __init__(self, model: type[Model]):
        self.model = model
        self.fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
        self._prepared: dict[tuple[str, bool], str] = {}

    def _sql(self, alias: str, *, if_new: bool = False) -> str:
        sql = self._prepared.get((alias, if_new))
        if sql is None:
            connection = connections[alias]
            quote = connection.ops.quote_name
            meta = self.model._meta
            columns = ", ".join(quote(f.column) for f in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
            if if_new:
                sql += " ON CONFLICT DO NOTHING"
            if connection.features.can_return_columns_from_insert:
                sql += f" RETURNING {quote(meta.pk.column)}"
            self._prepared[(alias, if_new)] = sql
        return sql

    def insert_from(
        self, instance: Model, *, source: str, computed: dict[str, str], returning: str
    ) -> tuple[str, list]:
        """`INSERT ... SELECT ... FROM <source> RETURNING <returning>` of `instance`: the
        columns named in `computed` (attname -> SQL over `source`) are computed there,
        the others are `instance`'s values, prepared as `insert` prepares them. For a
        caller that runs it as part of a larger statement (PostgreSQL `WITH`)."""
        connection = connections["default"]
        quote = connection.ops.quote_name
        selected, params = [], []
        for f in self.fields:
            if f.attname in computed:
                selected.append(computed[f.attname])
            else:
                selected.append("%s")
                params.append(f.get_db_prep_save(f.pre_save(instance, add=True), connection))
        columns = ", ".join(quote(f.column) for f in self.fields)
        sql = (
            f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) "
            f"SELECT {', '.join(selected)} FROM {source} RETURNING {returning}"
        )
        return sql, params

    def insert(self, instance: Model, *, using: str = "default") -> None:
        """Insert `instance` (IntegrityError as `save()` would raise it), with a statement
        prepared once per connection where the backend offers it (`prepared_cursor`).
        No pre_save/post_save signals are sent: for models that have no receivers."""
        connection = connections[using]
        values = [
            f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in self.fields
        ]
        with prepared_cursor(connection) as cursor:
            cursor.execute(self._sql(using), values)
            if connection.features.can_return_columns_from_insert:
                pk = cursor.fetchone()[0]
            else:
                pk = connection.ops.last_insert_id(
                    cursor, self.model._meta.db_table, self.model._meta.pk.column
                )
        self.mark_saved(instance, pk, using=using)

    def insert_if_new(self, instance: Model, *, using: str = "default") -> bool:
        """Insert `instance` unless a row already holds one of its unique values (any
        unique constraint or index, partial ones included): True if it was written, False
        if nothing was (no error, so an enclosing transaction goes on). One statement,
        `INSERT ... ON CONFLICT DO NOTHING RETURNING`, on PostgreSQL and SQLite."""
        connection = connections[using]
        if not connection.features.can_return_columns_from_insert:
            raise NotImplementedError("insert_if_new needs INSERT ... RETURNING")
        values = [
            f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in self.fields
        ]
        with prepared_cursor(connection) as cursor:
            cursor.execute(self._sql(using, if_new=True), values)
            row = cursor.fetchone()
        if row is None:
            return False
        self.mark_saved(instance, row[0], using=using)
        return True

    @staticmethod
    def mark_saved(instance: Model, pk, *, using: str = "default") -> None:
        """`instance` was written as row `pk` (by `insert`, or a statement of `insert_from`)."""
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = using


@contextmanager
def index_probes() -> Iterator[None]:
    """PostgreSQL: plan the statements inside as nested loops of index probes (no hash or
    merge joins, no parallel workers), in a transaction of their own (SET LOCAL).

    For a small side joined to a table of millions whose statistics cannot say how few
    rows match (a company's tags joined to its persons): the planner hashed the whole
    person table (215 ms at a million persons) instead of probing its primary key once
    per tag row (about 10 ms). Other databases run the block unchanged.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                "SET LOCAL max_parallel_workers_per_gather = 0"
            )
        yield
