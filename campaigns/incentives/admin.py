"""Admin for incentives, scoped per company: pools with their counts and low warning,
code uploads with live progress and a refused-codes report, issuances and redemptions
searchable by code or issuee."""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin, scope_queryset

from .errors import DistributionLocked
from .models import (
    IncentiveCode,
    IncentiveCodeUpload,
    IncentiveIssuance,
    IncentivePool,
    IncentiveRedemption,
)
from .pools import POOL_FIELDS, incentive_pool_clean, incentive_pool_create, incentive_pool_update
from .selectors import pool_counts
from .tasks import incentive_code_upload_enqueue
from .uploads import incentive_code_upload_create, upload_folder, upload_progress


class IncentivePoolForm(forms.ModelForm):
    class Meta:
        model = IncentivePool
        fields = ["company", *POOL_FIELDS]

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned[name] for name in POOL_FIELDS if name in cleaned}
        values["notification_email_address"] = values.get("notification_email_address") or ""
        try:
            incentive_pool_clean(values)  # the API's checks, one validation path
        except DomainError as error:
            for problem in getattr(error, "errors", [error]):
                field = problem.field if problem.field in self.fields else None
                self.add_error(field, problem.message)
        pool = self.instance
        changing = pool.pk and values.get("distribution", pool.distribution) != pool.distribution
        if changing and IncentiveIssuance.objects.filter(pool_id=pool.pk).exists():
            self.add_error("distribution", DistributionLocked.default_message)
        return cleaned


def _count_of(model, **filters):
    rows = model.objects.filter(pool=OuterRef("pk"), **filters).order_by().values("pool")
    return Coalesce(
        Subquery(rows.annotate(n=Count("id")).values("n"), output_field=IntegerField()), 0
    )


@admin.register(IncentivePool)
class IncentivePoolAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = IncentivePoolForm
    list_display = [
        "name",
        "company",
        "distribution",
        "codes_total",
        "codes_remaining",
        "low_threshold",
        "low_warning",
        "issuance_allowed",
        "redemption_allowed",
    ]
    list_filter = [CompanyListFilter, "distribution", "issuance_allowed"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("company")
            .annotate(
                n_unissued=_count_of(IncentiveCode, issued_at__isnull=True),
                n_issued=_count_of(IncentiveCode, issued_at__isnull=False),
            )
        )

    @admin.display(description="codes")
    def codes_total(self, obj):
        return obj.n_unissued + obj.n_issued

    @admin.display(description="remaining", ordering="n_unissued")
    def codes_remaining(self, obj):
        return obj.n_unissued if obj.is_unique else obj.n_unissued + obj.n_issued

    @admin.display(description="low")
    def low_warning(self, obj):
        if obj.is_unique and obj.n_unissued <= obj.low_threshold:
            return format_html('<strong style="color:#ba2121">{}</strong>', "⚠ low")
        return ""

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in POOL_FIELDS}
        values["notification_email_address"] = values["notification_email_address"] or ""
        try:
            if change:
                saved = incentive_pool_update(pool=obj, **values)
            else:
                saved = incentive_pool_create(company=form.cleaned_data["company"], **values)
        except DomainError as error:
            # DistributionLocked: shown, nothing saved.
            self.message_user(request, error.message, messages.ERROR)
            obj.pk = obj.pk or None
            return
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pool = self.get_queryset(request).filter(pk=object_id).first()
        if pool is not None and request.method == "GET":
            counts = pool_counts(pool)
            if pool.is_unique and counts.remaining <= pool.low_threshold:
                self.message_user(
                    request,
                    f"Low on codes: {counts.remaining} left of {counts.total} "
                    f"(threshold {pool.low_threshold}). Upload more codes.",
                    messages.WARNING,
                )
            extra_context = {
                **(extra_context or {}),
                "subtitle": f"{counts.total} codes, {counts.issued} issued, "
                f"{counts.remaining} remaining",
            }
        return super().change_view(request, object_id, form_url, extra_context)


class CodeUploadForm(forms.ModelForm):
    file = forms.FileField(help_text="A text or CSV file: one code per line (first column), UTF-8.")

    class Meta:
        model = IncentiveCodeUpload
        fields = ["pool"]


def _store_upload(upload) -> Path:
    """Copy the upload under MEDIA_ROOT a chunk at a time (never whole in memory)."""
    target = upload_folder("uploads") / f"{uuid.uuid4().hex}.txt"
    with open(target, "wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    return target


@admin.register(IncentiveCodeUpload)
class IncentiveCodeUploadAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = CodeUploadForm
    list_display = ["file_name", "pool", "status", "lines", "added", "refused", "created_at"]
    list_filter = [CompanyListFilter, "status"]
    search_fields = ["file_name"]
    change_form_template = "admin/incentives/incentivecodeupload/change_form.html"
    readonly_fields = [
        "pool",
        "file_name",
        "file_size",
        "status",
        "lines",
        "added",
        "refused",
        "error_message",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ["pool", "file"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        pool = form.cleaned_data["pool"]
        visible = scope_queryset(IncentivePool.objects.all(), request.user, "company")
        if not visible.filter(pk=pool.pk).exists():
            raise PermissionDenied
        upload = form.cleaned_data["file"]
        created = incentive_code_upload_create(
            pool=pool,
            file_path=str(_store_upload(upload)),
            file_name=Path(upload.name).name,
            created_by=request.user,
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)
        incentive_code_upload_enqueue(created)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(
            reverse("admin:campaigns_incentivecodeupload_change", args=[obj.pk])
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/progress.json",
                view(self.progress_view),
                name="campaigns_incentivecodeupload_progress",
            ),
            path(
                "<int:pk>/refused.csv",
                view(self.report_view),
                name="campaigns_incentivecodeupload_report",
            ),
            *super().get_urls(),
        ]

    def _visible(self, request, pk) -> IncentiveCodeUpload:
        upload = self.get_queryset(request).filter(pk=pk).first()
        if upload is None:
            raise Http404
        return upload

    def progress_view(self, request, pk):
        return JsonResponse(upload_progress(self._visible(request, pk)))

    def report_view(self, request, pk):
        upload = self._visible(request, pk)
        if not upload.report_path or not Path(upload.report_path).exists():
            raise Http404
        stem = Path(upload.file_name).stem or "codes"
        return FileResponse(
            open(upload.report_path, "rb"),  # noqa: SIM115 (FileResponse closes it)
            as_attachment=True,
            filename=f"{stem}-refused.csv",
            content_type="text/csv",
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["progress"] = upload_progress(obj)
            context["progress_url"] = reverse(
                "admin:campaigns_incentivecodeupload_progress", args=[obj.pk]
            )
            context["report_url"] = reverse(
                "admin:campaigns_incentivecodeupload_report", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


class ReadOnlyScopedAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IncentiveIssuance)
class IncentiveIssuanceAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "code",
        "pool",
        "issuee_id",
        "external_issuee_id",
        "person",
        "referring_application",
        "created_at",
    ]
    list_filter = [CompanyListFilter]
    list_select_related = ["code", "pool", "person"]
    # Exact matches: indexed lookups, fast at millions of issuances.
    search_fields = ["=code__code", "=issuee_id", "=external_issuee_id"]
    search_help_text = "An exact code, issuee id or external issuee id."
    raw_id_fields = ["code", "person"]


@admin.register(IncentiveRedemption)
class IncentiveRedemptionAdmin(ReadOnlyScopedAdmin):
    list_display = ["code", "issuee", "referring_application", "created_at"]
    list_filter = [CompanyListFilter]
    list_select_related = ["code", "issuance"]
    search_fields = ["=code__code", "=issuance__issuee_id", "=issuance__external_issuee_id"]
    search_help_text = "An exact code, issuee id or external issuee id."
    raw_id_fields = ["code", "issuance"]

    @admin.display(description="issuee")
    def issuee(self, obj):
        return obj.issuance.issuee_id or obj.issuance.external_issuee_id


@admin.register(IncentiveCode)
class IncentiveCodeAdmin(ReadOnlyScopedAdmin):
    list_display = ["code", "pool", "issued_at", "created_at"]
    list_filter = [CompanyListFilter]
    list_select_related = ["pool"]
    search_fields = ["=code"]
    raw_id_fields = ["pool"]
