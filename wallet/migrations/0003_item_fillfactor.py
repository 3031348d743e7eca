"""Leave half of each wallet item page free on PostgreSQL, so a message's update of every
targeted item is a HOT update (the new row version on the same page, no index entry
written) instead of a new entry in each of the item table's six indexes.

A message rewrites every item it targets (notification, Google message, update tag) in
one statement; with full pages every row version went to another page and was indexed
again: 72 us a row, the bulk of a message to 100,000 items (SPEC 9: < 60 s). With
fillfactor 45 the same UPDATE of 30,000 items took 355 ms instead of 2,180 ms, for a
table twice the size. Dead versions of the previous message are pruned when a page is
next updated. SQLite has no such setting.
"""

from django.db import migrations


def fillfactor(value: int):
    def apply(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE wallet_walletitem SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_templates_locations")]

    operations = [migrations.RunPython(fillfactor(45), fillfactor(100))]
