"""The export is safe to open in a spreadsheet and imports back unchanged, whatever the
values and field names hold (issue 16, Medium 5): a bare CR is quoted (it once became an
injected row on re-import), field names and TAB-led values are guarded like formulas."""

from __future__ import annotations

import pytest

from mobiledb.imports.cells import escape_cell, unescape_cell
from mobiledb.imports.export import persons_export_lines
from mobiledb.models import Person
from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
EVIL_NAME = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("value", ["=1+1", "'=x", "''@y", "\tz", "\r1", "plain", "'", "-", ""])
def test_escape_and_unescape_round_trip(value):
    assert unescape_cell(escape_cell(value)) == value


def test_export_with_cr_tab_and_evil_field_name_imports_back_unchanged(company, run_import):
    custom_field_create(company=company, name="note", data_type="string")
    custom_field_create(company=company, name=EVIL_NAME, data_type="string")
    injected = "harmless\rEVIL,+12995550666,owned"
    values = {
        "E1": {"note": injected},
        "E2": {"note": "\tcmd|' /C calc'!A0"},
        "E3": {"note": "'=kept", EVIL_NAME: "=2+3"},
    }
    for n, (external_id, fields) in enumerate(values.items(), start=1):
        PersonFactory(company=company, external_person_id=external_id,
                      mdn=f"+1229555000{n}", custom_fields=fields)  # fmt: skip
    exported = "".join(persons_export_lines(company))

    assert f'"{injected}"' in exported  # the bare CR is inside quotes
    assert "'\tcmd" in exported
    assert f'"\'{EVIL_NAME}"'.replace('"http', '""http') in exported or "'=HYPERLINK" in exported
    header = exported.split("\r\n")[2]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in header.split(","))

    before = dict(Person.objects.values_list("external_person_id", "custom_fields"))
    result = run_import("ACME", exported.encode())
    assert (result.status, result.failed, result.created) == ("finished", 0, 0)
    assert not Person.objects.filter(external_person_id="EVIL").exists()
    assert dict(Person.objects.values_list("external_person_id", "custom_fields")) == before
