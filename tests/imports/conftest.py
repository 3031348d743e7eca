"""Helpers for import tests: write a .persons file, run it through the engine."""

from __future__ import annotations

import pytest

from mobiledb.imports.models import PersonImportError
from mobiledb.imports.services import person_import_create, person_import_run
from tests.factories import PersonFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def run_import(tmp_path):
    """run_import(company_key, content, chunk_size=None) -> the finished PersonImport."""
    counter = {"n": 0}

    def run(company_key: str, content: str | bytes, *, chunk_size: int | None = None):
        counter["n"] += 1
        path = tmp_path / f"file{counter['n']}.persons"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        person_import = person_import_create(company_key=company_key, file_path=str(path))
        return person_import_run(person_import.pk, chunk_size=chunk_size)

    return run


def errors_of(person_import) -> list[tuple[int, str, str]]:
    return list(
        PersonImportError.objects.filter(person_import=person_import)
        .order_by("row")
        .values_list("row", "error_class", "message")
    )


# Six rows: five new persons and OLD, an existing one (the old_person fixture), updated.
CONTENT = (
    "external_person_id,mdn,first_name,tier\n"
    "E1,2295550001,Ann,gold\n"
    "E2,2295550002,Bob,silver\n"
    "E3,2295550003,Cy,gold\n"
    "OLD,,Updated,silver\n"
    "E5,2295550005,Di,gold\n"
    "E6,2295550006,Ed,silver\n"
)


@pytest.fixture
def old_person(standard_fields):
    return PersonFactory(company=standard_fields, external_person_id="OLD", mdn="+12295550004",
                         custom_fields={"first_name": "Before"})  # fmt: skip
