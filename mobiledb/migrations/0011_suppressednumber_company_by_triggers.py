import django.db.models.deletion
from django.db import migrations, models

# SuppressedNumber.company loses its foreign key constraint: PostgreSQL's RI trigger ran
# one query per inserted row at COMMIT, a third of the server work an .opt_outs import
# adds (1M numbers, COPY). Triggers enforce the same reference instead, on both sides:
#
# - numbers: an AFTER INSERT and an AFTER UPDATE *statement* trigger read the statement's
#   new rows (a transition table; PostgreSQL allows one per single-event trigger, so two
#   triggers share the function), lock the distinct companies they name FOR KEY SHARE, as
#   RI does, and raise foreign_key_violation (23503: Django's IntegrityError) if one is
#   missing: one query per statement, COPY included.
# - companies: an AFTER DELETE and an AFTER UPDATE OF id row trigger refuse (23503) while
#   the company still has numbers, probing the unique (company_id, mdn) index; an AFTER
#   TRUNCATE trigger refuses a TRUNCATE that leaves numbers behind (one that empties both
#   tables, as a test database's flush does, passes). SQLite differs: see SQLITE_SQL.
#
# Concurrency (READ COMMITTED, Django's default): an import T1 of company X's numbers
# races a delete T2 of X. T1's lock comes after its rows are written, T2's probe after it
# holds X's row lock (a DELETE or key UPDATE conflicts with FOR KEY SHARE), and each
# statement of a PL/pgSQL function reads a fresh snapshot. If T1 locks X first, T2 waits
# for T1 to end and then sees its numbers (refused), or none if T1 rolled back. If T2
# deletes X first, T1 waits for T2 to end and then finds X gone (T1 fails) or there (T2
# rolled back). T2 probing before T1 locks sees none of T1's numbers and may commit: T1's
# lock then finds X gone. No committed number names a missing company.
# Under REPEATABLE READ this is weaker than RI: T2's probe reads its transaction snapshot,
# and PL/pgSQL has no crosscheck snapshot to raise a serialization failure when T1
# committed numbers after it was taken. SERIALIZABLE catches it (T2 reads the range T1
# writes, T1 reads the row T2 deletes); nothing here deletes companies under REPEATABLE READ.
#
# The checks run at the end of each statement, not deferred to COMMIT as Django's foreign
# keys are: write the company before its numbers and delete the numbers before the
# company (Django's collector does).
POSTGRESQL_SQL = """
CREATE FUNCTION mobiledb_suppressednumber_company_exists() RETURNS trigger AS $$
DECLARE
    wanted bigint[];
    locked bigint;
BEGIN
    SELECT array_agg(DISTINCT company_id) INTO wanted FROM new_numbers;
    IF wanted IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM tenancy_company WHERE id = ANY (wanted) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < cardinality(wanted) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "mobiledb_suppressednumber" violates '
                      'its reference to "tenancy_company"',
            DETAIL = format('Companies named: %s; existing: %s.', wanted, locked);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mobiledb_suppressednumber_company_insert
    AFTER INSERT ON mobiledb_suppressednumber REFERENCING NEW TABLE AS new_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION mobiledb_suppressednumber_company_exists();
CREATE TRIGGER mobiledb_suppressednumber_company_update
    AFTER UPDATE ON mobiledb_suppressednumber REFERENCING NEW TABLE AS new_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION mobiledb_suppressednumber_company_exists();

CREATE FUNCTION mobiledb_company_without_suppressed_numbers() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mobiledb_suppressednumber WHERE company_id = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'update or delete on table "tenancy_company" leaves rows of '
                      '"mobiledb_suppressednumber" without their company',
            DETAIL = format('Company %s still has suppressed numbers.', OLD.id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mobiledb_company_suppressed_numbers_delete
    AFTER DELETE ON tenancy_company
    FOR EACH ROW EXECUTE FUNCTION mobiledb_company_without_suppressed_numbers();
CREATE TRIGGER mobiledb_company_suppressed_numbers_rekey
    AFTER UPDATE OF id ON tenancy_company
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION mobiledb_company_without_suppressed_numbers();

CREATE FUNCTION mobiledb_company_truncate_without_suppressed_numbers() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mobiledb_suppressednumber) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'truncate of "tenancy_company" leaves rows of '
                      '"mobiledb_suppressednumber" without their company';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mobiledb_company_suppressed_numbers_truncate
    AFTER TRUNCATE ON tenancy_company
    FOR EACH STATEMENT EXECUTE FUNCTION mobiledb_company_truncate_without_suppressed_numbers();
"""
POSTGRESQL_DROP_SQL = """
DROP TRIGGER IF EXISTS mobiledb_company_suppressed_numbers_truncate ON tenancy_company;
DROP TRIGGER IF EXISTS mobiledb_company_suppressed_numbers_rekey ON tenancy_company;
DROP TRIGGER IF EXISTS mobiledb_company_suppressed_numbers_delete ON tenancy_company;
DROP TRIGGER IF EXISTS mobiledb_suppressednumber_company_update ON mobiledb_suppressednumber;
DROP TRIGGER IF EXISTS mobiledb_suppressednumber_company_insert ON mobiledb_suppressednumber;
DROP FUNCTION IF EXISTS mobiledb_company_truncate_without_suppressed_numbers();
DROP FUNCTION IF EXISTS mobiledb_company_without_suppressed_numbers();
DROP FUNCTION IF EXISTS mobiledb_suppressednumber_company_exists();
"""

# SQLite has row triggers only, and serialises writers: no locks to take. Its message is
# the one its own foreign keys give. A company's delete takes its numbers with it rather
# than being refused: a row trigger fires at once, and Django's flush on SQLite (a test
# database emptied between tests, `manage.py flush`) deletes from every table in no set
# order, which the deferred foreign key allowed and a refusal broke at random. No number
# is left without its company either way. A migration that remakes either table on SQLite
# (Django's AlterField does) drops its triggers: it must create them again, as this one
# does after its AlterField.
SQLITE_SQL = [
    """
CREATE TRIGGER mobiledb_suppressednumber_company_insert
    BEFORE INSERT ON mobiledb_suppressednumber
    WHEN NOT EXISTS (SELECT 1 FROM tenancy_company WHERE id = NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed');
END
""",
    """
CREATE TRIGGER mobiledb_suppressednumber_company_update
    BEFORE UPDATE OF company_id ON mobiledb_suppressednumber
    WHEN NOT EXISTS (SELECT 1 FROM tenancy_company WHERE id = NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed');
END
""",
    """
CREATE TRIGGER mobiledb_company_suppressed_numbers_delete
    AFTER DELETE ON tenancy_company
BEGIN
    DELETE FROM mobiledb_suppressednumber WHERE company_id = OLD.id;
END
""",
    """
CREATE TRIGGER mobiledb_company_suppressed_numbers_rekey
    BEFORE UPDATE OF id ON tenancy_company
    WHEN OLD.id IS NOT NEW.id
        AND EXISTS (SELECT 1 FROM mobiledb_suppressednumber WHERE company_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed');
END
""",
]
SQLITE_DROP_SQL = [
    "DROP TRIGGER IF EXISTS mobiledb_company_suppressed_numbers_rekey",
    "DROP TRIGGER IF EXISTS mobiledb_company_suppressed_numbers_delete",
    "DROP TRIGGER IF EXISTS mobiledb_suppressednumber_company_update",
    "DROP TRIGGER IF EXISTS mobiledb_suppressednumber_company_insert",
]


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_SQL, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_SQL:
            schema_editor.execute(statement)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP_SQL, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP_SQL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("mobiledb", "0010_subscription_campaign_index_partial"),
        ("tenancy", "0002_company_schema_version_start"),
    ]

    operations = [
        migrations.AlterField(
            model_name="suppressednumber",
            name="company",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="suppressed_numbers",
                to="tenancy.company",
            ),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
