"""The consent ledger in the admin: every record of a number, read-only, and the audit
export (CSV and JSON, with the chain hashes) of whatever the list shows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse

from vibesweb.inputs import parse_id
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin
from vibesweb.tenancy.services import companies_for_user

from ..imports.rows import escape_cell
from ..validation import normalize_mdn_for_search
from .consent import LEDGER_COLUMNS, consent_ledger_verify
from .models import ConsentRecord

# The ledger's own columns, the company by its key (an auditor reads keys, not ids).
AUDIT_COLUMNS = ["company", *LEDGER_COLUMNS[1:]]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "sequence",
        "occurred_at",
        "mdn",
        "action",
        "subscription_list_id",
        "campaign_id",
        "channel",
        "short_source",
    ]
    list_filter = [CompanyListFilter, "action", "channel"]
    search_fields = ["=mdn", "=person_id"]
    search_help_text = "A number in any format, or a person id: that number's whole history."
    ordering = ["company", "-sequence"]
    list_per_page = 100
    show_full_result_count = False
    change_list_template = "admin/mobiledb/consentrecord/change_list.html"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        person_id = parse_id(term)
        if person_id is not None and len(term) < 10:
            return queryset.filter(person_id=person_id), False
        return queryset.filter(mdn=normalize_mdn_for_search(term) or term), False

    @admin.display(description="source")
    def short_source(self, record: ConsentRecord) -> str:
        return record.source if len(record.source) <= 80 else record.source[:79] + "…"

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "verify/",
                self.admin_site.admin_view(self.verify_chain),
                name="mobiledb_consentrecord_verify",
            ),
            path(
                "audit-export/<str:file_format>/",
                self.admin_site.admin_view(self.audit_export),
                name="mobiledb_consentrecord_audit_export",
            ),
            *super().get_urls(),
        ]

    def verify_chain(self, request: HttpRequest) -> HttpResponseRedirect:
        """Walk the chain of each of the user's companies and say whether it holds."""
        for company in companies_for_user(request.user).order_by("key"):
            result = consent_ledger_verify(company=company)
            if result.intact:
                self.message_user(
                    request,
                    f"{company.key}: the consent ledger is intact "
                    f"({result.checked} record(s) verified).",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"{company.key}: the consent ledger is BROKEN at record "
                    f"#{result.broken_sequence}: {result.problem}.",
                    messages.ERROR,
                )
        return HttpResponseRedirect(reverse("admin:mobiledb_consentrecord_changelist"))

    def audit_export(self, request: HttpRequest, file_format: str) -> StreamingHttpResponse:
        """The records the list shows (its search and filters, scoped), oldest first."""
        if file_format not in ("csv", "json"):
            file_format = "csv"
        changelist = self.get_changelist_instance(request)
        records = (
            changelist.get_queryset(request)
            .select_related("company")
            .order_by("company_id", "sequence")
        )
        rows = (_audit_row(record) for record in records.iterator(chunk_size=2000))
        if file_format == "json":
            response = StreamingHttpResponse(_json_lines(rows), content_type="application/json")
        else:
            response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="consent-audit.{file_format}"'
        return response


def _audit_row(record: ConsentRecord) -> dict:
    row = {name: getattr(record, name) for name in AUDIT_COLUMNS[1:]}
    row["occurred_at"] = record.occurred_at.isoformat()
    return {"company": record.company.key, **row}


def _csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        writer.writerow(
            [escape_cell(value) if isinstance(value, str) else value for value in row.values()]
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_lines(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row, ensure_ascii=False)
    yield "]"
