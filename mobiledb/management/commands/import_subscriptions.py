"""`import_subscriptions KEY FILE [--json]` (SPEC section 2): a `.subscriptions` or
`.opt_outs` file through the import engine, synchronously, with import_persons' output."""

from __future__ import annotations

from django.core.management.base import CommandError

from mobiledb.imports.subscription_files import file_kind

from .import_persons import Command as ImportPersonsCommand


class Command(ImportPersonsCommand):
    help = (
        "Import a .subscriptions or .opt_outs file for a company and print the summary and "
        "the error report."
    )

    def kind_of(self, file: str) -> str:
        kind = file_kind(file)
        if kind is None:
            raise CommandError("The file name must end with .subscriptions or .opt_outs")
        return kind
