"""The incentives admin: scoped per company, counts and low warning, upload with progress
and report, issuance and redemption search."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.incentives.pools import incentive_pool_create
from campaigns.incentives.services import incentive_issue, issuee_resolve
from campaigns.incentives.uploads import incentive_code_upload_run
from campaigns.models import IncentiveCodeUpload
from tests.factories import CompanyFactory, staff_client

from .conftest import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(company):
    """A staff member of ACME only, with every incentive permission."""
    return staff_client(company, "campaigns", username="staff")


def test_pool_list_shows_remaining_threshold_and_a_low_warning(staff, company):
    low = incentive_pool_create(company=company, name="Lowpool", low_threshold=5)
    load(low, ["A", "B"])
    fine = incentive_pool_create(company=company, name="Finepool", low_threshold=1)
    load(fine, ["C", "D", "E"])
    page = staff.get("/admin/campaigns/incentivepool/").content.decode()
    assert "Lowpool" in page and "Finepool" in page
    assert page.count("⚠ low") == 1


def test_pool_page_warns_when_low(staff, company):
    pool = incentive_pool_create(company=company, name="Lowpool", low_threshold=5)
    page = staff.get(f"/admin/campaigns/incentivepool/{pool.pk}/change/").content.decode()
    assert "Low on codes: 0 left" in page


def test_another_companys_pools_are_hidden(staff):
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirpool")
    assert "Theirpool" not in staff.get("/admin/campaigns/incentivepool/").content.decode()
    assert staff.get(f"/admin/campaigns/incentivepool/{theirs.pk}/change/").status_code in (
        302,
        404,
    )


def test_admin_pool_form_uses_the_api_checks(staff, company):
    response = staff.post(
        "/admin/campaigns/incentivepool/add/",
        {
            "company": company.pk,
            "name": "P",
            "issuance_allowed": "on",
            "redemption_allowed": "on",
            "low_threshold": "3",
            "max_characters": "300",
            "distribution": "unique",
            "notification_email_address": "",
        },
    )
    assert response.status_code == 200
    assert "between 1 and 255" in response.content.decode()


def test_upload_stores_the_file_and_shows_progress_and_report(staff, company, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    pool = incentive_pool_create(company=company, name="Up")
    file = SimpleUploadedFile("codes.csv", b"\xef\xbb\xbfK1\r\nK2\r\nK1\r\n")
    response = staff.post(
        "/admin/campaigns/incentivecodeupload/add/", {"pool": pool.pk, "file": file}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    upload = IncentiveCodeUpload.objects.get()
    page = staff.get(response["Location"]).content.decode()
    assert 'id="upload-progress"' in page
    incentive_code_upload_run(upload.pk)
    progress = staff.get(f"/admin/campaigns/incentivecodeupload/{upload.pk}/progress.json").json()
    assert progress["finished"] and (progress["added"], progress["refused"]) == (2, 1)
    report = staff.get(f"/admin/campaigns/incentivecodeupload/{upload.pk}/refused.csv")
    assert b"3,K1,duplicate of line 1" in b"".join(report.streaming_content)


def test_upload_into_another_companys_pool_is_refused(staff, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirs")
    file = SimpleUploadedFile("codes.txt", b"X1\n")
    response = staff.post(
        "/admin/campaigns/incentivecodeupload/add/", {"pool": theirs.pk, "file": file}
    )
    assert response.status_code == 200  # the form refuses a pool it does not offer
    assert not IncentiveCodeUpload.objects.exists()


def test_issuances_and_redemptions_are_searchable_by_code_or_issuee(staff, company):
    pool = incentive_pool_create(company=company, name="S")
    load(pool, ["FINDME", "OTHER1"])
    for who in ("crm-42", "crm-43"):
        incentive_issue(pool=pool, issuee=issuee_resolve(company=company, external_issuee_id=who))
    by_code = staff.get("/admin/campaigns/incentiveissuance/?q=FINDME").content.decode()
    assert "crm-42" in by_code and "crm-43" not in by_code
    by_issuee = staff.get("/admin/campaigns/incentiveissuance/?q=crm-43").content.decode()
    assert "OTHER1" in by_issuee and "FINDME" not in by_issuee
    assert staff.get("/admin/campaigns/incentiveredemption/?q=crm-42").status_code == 200
