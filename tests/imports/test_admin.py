"""Admin: upload, scoped list, live progress JSON, cancel, error report, export round trip."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mobiledb.imports.models import PersonImport
from mobiledb.imports.services import person_import_create
from mobiledb.models import Person
from tests.factories import CompanyFactory, MembershipFactory, PersonFactory, UserFactory
from vibesweb.celery import app as celery_app

ADMIN = "/admin/mobiledb/personimport/"


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def staff(company):
    user = UserFactory(username="staff", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_personimport", "view_personimport"])
    )
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    return client


def upload(client, name: str, content: bytes, company):
    return client.post(
        ADMIN + "add/",
        {"company": company.pk, "file": SimpleUploadedFile(name, content)},
    )


def test_upload_runs_the_import_on_the_imports_queue(
    staff, standard_fields, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff, "crm.persons", b"mdn,first_name\n2295551234,Ann\n1,x\n",
                          standard_fields)  # fmt: skip

    person_import = PersonImport.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{person_import.pk}/change/")
    assert person_import.status == PersonImport.Status.FINISHED
    assert (person_import.created, person_import.failed) == (1, 1)
    assert person_import.file_name == "crm.persons"
    page = staff.get(response["Location"])
    assert b"import-progress" in page.content
    assert b"Download error report" in page.content


def test_upload_checks_extension_and_size(staff, company, settings):
    settings.PERSON_IMPORT_MAX_UPLOAD_BYTES = 10

    wrong_name = upload(staff, "crm.csv", b"mdn\n", company)
    too_big = upload(staff, "crm.persons", b"mdn\n2295551234\n", company)

    assert b"must end with .persons" in wrong_name.content
    assert b"larger than" in too_big.content
    assert PersonImport.objects.count() == 0


def test_staff_cannot_upload_for_another_company(staff, db):
    other = CompanyFactory()

    response = upload(staff, "crm.persons", b"mdn\n2295551234\n", other)

    assert response.status_code == 200  # the form refuses the choice
    assert PersonImport.objects.count() == 0


def _import_for(company_key: str, tmp_path) -> PersonImport:
    path = tmp_path / f"{company_key}.persons"
    path.write_text("mdn\n2295551234\n")
    return person_import_create(company_key=company_key, file_path=str(path))


def test_staff_see_only_their_companies_imports(staff, company, tmp_path):
    other = CompanyFactory(key="OTHER")
    mine = _import_for(company.key, tmp_path)
    theirs = _import_for(other.key, tmp_path)

    listing = staff.get(ADMIN)

    assert listing.status_code == 200
    assert b"ACME.persons" in listing.content
    assert b"OTHER.persons" not in listing.content
    assert staff.get(f"{ADMIN}{mine.pk}/progress.json").status_code == 200
    assert staff.get(f"{ADMIN}{theirs.pk}/progress.json").status_code == 404
    assert staff.get(f"{ADMIN}{theirs.pk}/errors.csv").status_code == 404
    assert staff.post(f"{ADMIN}{theirs.pk}/cancel/").status_code == 404


def test_progress_json_reports_rows_rate_and_eta(staff, standard_fields, tmp_path):
    person_import = _import_for(standard_fields.key, tmp_path)
    PersonImport.objects.filter(pk=person_import.pk).update(
        status="running", rows=500, created=400, updated=90, failed=10,
        bytes_done=person_import.file_size // 2,
        started_at=person_import.created_at,
    )  # fmt: skip

    progress = staff.get(f"{ADMIN}{person_import.pk}/progress.json").json()

    assert progress["status"] == "running"
    assert (progress["rows"], progress["created"], progress["failed"]) == (500, 400, 10)
    assert 0 < progress["percent"] < 100
    assert progress["rows_per_second"] > 0
    assert progress["eta_seconds"] is not None
    assert progress["finished"] is False


def test_cancel_from_the_admin(staff, company, tmp_path):
    person_import = _import_for(company.key, tmp_path)

    response = staff.post(f"{ADMIN}{person_import.pk}/cancel/")

    assert response.status_code == 302
    person_import.refresh_from_db()
    assert person_import.status == PersonImport.Status.CANCELED


def test_error_report_download(staff, standard_fields, run_import):
    person_import = run_import("ACME", "mdn,tier\n2295551234,GOLD\n=cmd(),gold\n")

    response = staff.get(f"{ADMIN}{person_import.pk}/errors.csv")

    text = b"".join(response.streaming_content).decode()
    lines = text.splitlines()
    assert lines[0] == "row,error_class,message,detail,original_row"
    assert lines[1].startswith("2,PersonErrors::InvalidSelectCustomFieldValue,")
    assert lines[2].startswith("3,MobilePhoneErrors::InvalidMDNFormat,")
    assert "'=cmd()" in lines[2]  # formula-injection safe in a spreadsheet


def test_export_imports_back_to_the_same_data(staff, standard_fields, run_import):
    PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="=HYPERLINK()",
                  custom_fields={"first_name": "-Ann, \"A\"", "tier": "gold",
                                 "interests": ["shoes", "bags"], "points": 7})  # fmt: skip
    PersonFactory(company=standard_fields, mdn=None, external_person_id="E2",
                  custom_fields={"first_name": "Bob\nline"})  # fmt: skip
    PersonFactory(company=standard_fields, mdn="+442071838750", external_person_id=None)
    PersonFactory(mdn="+12295550009")  # another company's: not exported

    response = staff.get(f"{ADMIN}export/?company={standard_fields.pk}")
    exported = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="ACME.persons"'
    assert b"'+12295550001" in exported and b"'=HYPERLINK()" in exported

    before = sorted(
        Person.objects.filter(company=standard_fields).values_list(
            "external_person_id", "mdn", "custom_fields"
        ),
        key=str,
    )
    Person.objects.filter(company=standard_fields).delete()
    result = run_import("ACME", exported)

    assert (result.created, result.failed) == (3, 0)
    after = sorted(
        Person.objects.filter(company=standard_fields).values_list(
            "external_person_id", "mdn", "custom_fields"
        ),
        key=str,
    )
    assert after == before


def test_export_of_another_company_is_not_found(staff, db):
    other = CompanyFactory()

    assert staff.get(f"{ADMIN}export/?company={other.pk}").status_code == 404


def test_resume_action_requeues_an_active_import(
    staff, standard_fields, tmp_path, eager_celery, django_capture_on_commit_callbacks
):
    person_import = _import_for(standard_fields.key, tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            ADMIN, {"action": "resume_imports", "_selected_action": [person_import.pk]}
        )

    assert response.status_code == 302
    person_import.refresh_from_db()
    assert person_import.status == PersonImport.Status.FINISHED


def test_person_changelist_action_exports_the_selection(standard_fields, db):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client = Client()
    client.force_login(admin_user)
    kept = PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="K")
    PersonFactory(company=standard_fields, mdn="+12295550002", external_person_id="L")

    response = client.post(
        "/admin/mobiledb/person/",
        {"action": "export_persons", "_selected_action": [kept.pk]},
    )

    body = b"".join(response.streaming_content).decode()
    assert "K,'+12295550001" in body
    assert "+12295550002" not in body


def test_person_changelist_action_exports_two_persons_of_one_company(standard_fields):
    # The list is ordered by -id: a distinct() over that ordering made one company two.
    marketer = UserFactory(username="marketer", is_staff=True)
    marketer.user_permissions.set(Permission.objects.filter(content_type__app_label="mobiledb"))
    MembershipFactory(user=marketer, company=standard_fields)
    client = Client()
    client.force_login(marketer)
    first = PersonFactory(company=standard_fields, mdn="+12295550001", external_person_id="K")
    second = PersonFactory(company=standard_fields, mdn="+12295550002", external_person_id="L")
    PersonFactory(company=standard_fields, mdn="+12295550003", external_person_id="M")

    response = client.post(
        "/admin/mobiledb/person/",
        {"action": "export_persons", "_selected_action": [first.pk, second.pk]},
    )

    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content).decode()
    assert "K,'+12295550001" in body and "L,'+12295550002" in body
    assert "+12295550003" not in body
