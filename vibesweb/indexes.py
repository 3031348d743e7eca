"""Index options Django's portable `models.Index` does not express."""

from __future__ import annotations

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement


class UndeduplicatedIndex(models.Index):
    """A B-tree index whose equal keys PostgreSQL stores one entry each
    (`deduplicate_items = off`); other databases get a plain index.

    For an index of few distinct keys on a table whose rows are updated in bulk: an update
    that is not HOT adds an entry for the same key to every index, and once a leaf page
    is full PostgreSQL first tries to make room by merging equal keys (and, for those
    logically unchanged entries, deleting old versions bottom-up) before splitting it.
    Rows a long transaction updates are still live, so that work frees nothing and is
    done again at every page. Measured (benchmarks/README.md): an `.opt_outs` import that
    ends 500,000 subscriptions of one list, ~0.5 s of 18 less with this on the
    subscriptions' list and company-and-date indexes. The price is space: ~20 bytes an
    entry instead of ~6 for a repeated key.
    """

    def create_sql(self, model: type[models.Model], schema_editor: BaseDatabaseSchemaEditor,
                   using: str = "", **kwargs) -> Statement:  # fmt: skip
        statement = super().create_sql(model, schema_editor, using=using, **kwargs)
        if schema_editor.connection.vendor == "postgresql":
            statement.parts["extra"] = " WITH (deduplicate_items = off)" + statement.parts["extra"]
        return statement
