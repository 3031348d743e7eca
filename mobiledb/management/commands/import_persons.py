"""`import_persons KEY FILE [--json]` (SPEC section 2): the import engine, synchronously."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from mobiledb.imports.models import PersonImport, PersonImportError
from mobiledb.imports.services import person_import_create, person_import_run


class Command(BaseCommand):
    help = "Import a .persons file for a company and print the summary and the error report."

    def add_arguments(self, parser):
        parser.add_argument("key", help="company key")
        parser.add_argument("file", help="path of the file")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, key, file, as_json: bool = False, **options):
        try:
            open(file, "rb").close()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        person_import = person_import_create(
            company_key=key, file_path=file, kind=self.kind_of(file)
        )
        person_import = person_import_run(person_import.pk)
        if as_json:
            self._print_json(person_import)
        else:
            self._print_summary(person_import)
        if person_import.status == PersonImport.Status.FAILED:
            if not as_json:
                self.stderr.write(f"{person_import.error_class}: {person_import.error_message}")
            sys.exit(1)

    def kind_of(self, file: str) -> str:
        return PersonImport.Kind.PERSONS

    def _print_summary(self, pi: PersonImport) -> None:
        self.stdout.write(
            f"Import {pi.pk} of {pi.file_name} for {pi.company_key}: {pi.status}\n"
            f"rows: {pi.rows}, created: {pi.created}, updated: {pi.updated}, "
            f"failed: {pi.failed}\n"
            f"Error report: {pi.error_report_path}"
        )

    def _print_json(self, pi: PersonImport) -> None:
        """One JSON object; the errors list is streamed, so any number of them fits."""
        head = {
            "rows": pi.rows,
            "created": pi.created,
            "updated": pi.updated,
            "failed": pi.failed,
            "error_report": pi.error_report_path,
        }
        if pi.status == PersonImport.Status.FAILED:
            head["error_class"] = pi.error_class
            head["message"] = pi.error_message
        errors = (
            PersonImportError.objects.filter(person_import=pi)
            .order_by("row", "id")
            .values_list("row", "error_class", "message")
        )
        out = self.stdout
        out.write(json.dumps(head)[:-1] + ', "errors": [', ending="")
        for number, (row, error_class, message) in enumerate(errors.iterator(chunk_size=2000)):
            entry = {"row": row, "error_class": error_class, "message": message}
            out.write(("," if number else "") + json.dumps(entry), ending="")
        out.write("]}")
