"""Admin for person imports: upload, list, live progress, cancel, error report, export.

Scoped: a staff user who is not a superuser sees and chooses only companies it is a
member of (vibesweb.tenancy.models.Membership), in the list, the form and every view.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse

from vibesweb.inputs import require_id
from vibesweb.tenancy.models import Company
from vibesweb.tenancy.services import companies_for_user

from ..persons.admin import PersonAdmin
from .export import persons_export_lines
from .models import PersonImport
from .progress import import_progress
from .report import report_lines
from .services import person_import_cancel, person_import_create, person_import_enqueue

UPLOAD_EXTENSIONS = (".persons", ".subscriptions", ".opt_outs")


def max_upload_bytes() -> int:
    return settings.PERSON_IMPORT_MAX_UPLOAD_BYTES


class PersonImportUploadForm(forms.ModelForm):
    file = forms.FileField(
        help_text="A .persons file (UTF-8 or ASCII CSV, seeds/004), or a .subscriptions or "
        ".opt_outs file (opt-ins and opt-outs by mdn, person_key or external_person_id)."
    )

    class Meta:
        model = PersonImport
        fields = ["company"]

    def __init__(self, *args, companies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].required = True
        if companies is not None:
            self.fields["company"].queryset = companies

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_EXTENSIONS):
            raise forms.ValidationError(
                "The file name must end with .persons, .subscriptions or .opt_outs"
            )
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(
                f"The file is larger than {max_upload_bytes() // 1024**2} MB"
            )
        return upload


def _store_upload(upload) -> Path:
    """Copy the upload (already on disk or in memory) under MEDIA_ROOT, a chunk at a time."""
    folder = Path(settings.MEDIA_ROOT) / "imports" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    with open(target, "wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    return target


@admin.register(PersonImport)
class PersonImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "kind", "company_key", "status_badge", "progress_text",
                    "created", "updated", "failed", "created_at"]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "company_key"]
    actions = ["resume_imports"]
    change_form_template = "admin/imports/personimport/change_form.html"
    change_list_template = "admin/imports/personimport/change_list.html"
    readonly_fields = ["company", "file_name", "kind", "size", "status", "rows", "created",
                       "updated", "failed", "error_class", "error_message", "created_by",
                       "created_at", "started_at", "finished_at"]  # fmt: skip

    # --- scoping ---------------------------------------------------------------------

    def companies(self, request):
        return companies_for_user(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("company")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(company__in=self.companies(request))

    def has_change_permission(self, request, obj=None):
        return False  # an import is never edited; its page is a read-only summary

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and (obj is None or not obj.is_active)

    def _visible(self, request, pk) -> PersonImport:
        person_import = self.get_queryset(request).filter(pk=pk).first()
        if person_import is None or not self.has_view_permission(request, person_import):
            raise Http404
        return person_import

    # --- list ------------------------------------------------------------------------

    @admin.display(description="file size")
    def size(self, obj):
        return filesizeformat(obj.file_size)

    @admin.display(description="status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @admin.display(description="progress")
    def progress_text(self, obj):
        progress = import_progress(obj)
        return f"{progress['rows']:,} rows ({progress['percent']:.0f}%)"

    @admin.action(description="Resume selected imports (after a worker was lost)",
                  permissions=["add"])  # fmt: skip
    def resume_imports(self, request, queryset):
        active = [pi for pi in queryset if pi.is_active]
        for person_import in active:
            person_import_enqueue(person_import)
        self.message_user(
            request, f"{len(active)} import(s) queued; each resumes after its last chunk."
        )

    # --- upload ----------------------------------------------------------------------

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            companies = self.companies(request)

            class Form(PersonImportUploadForm):
                def __init__(self, *args, **inner):
                    super().__init__(*args, companies=companies, **inner)

            return Form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["company", "file"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        company = form.cleaned_data["company"]
        if not self.companies(request).filter(pk=company.pk).exists():
            raise PermissionDenied
        upload = form.cleaned_data["file"]
        stored = _store_upload(upload)
        created = person_import_create(
            company_key=company.key,
            file_path=str(stored),
            file_name=Path(upload.name).name,
            created_by=request.user,
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)
        person_import_enqueue(created)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(reverse("admin:mobiledb_personimport_change", args=[obj.pk]))

    # --- extra views -----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress.json", view(self.progress_view),
                 name="mobiledb_personimport_progress"),
            path("<int:pk>/cancel/", view(self.cancel_view),
                 name="mobiledb_personimport_cancel"),
            path("<int:pk>/errors.csv", view(self.errors_view),
                 name="mobiledb_personimport_errors"),
            path("export/", view(self.export_view), name="mobiledb_personimport_export"),
            *super().get_urls(),
        ]  # fmt: skip

    def progress_view(self, request, pk):
        return JsonResponse(import_progress(self._visible(request, pk)))

    def cancel_view(self, request, pk):
        person_import = self._visible(request, pk)
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        with transaction.atomic():
            person_import_cancel(person_import)
        self.message_user(request, "Cancel requested: rows already applied stay.", messages.INFO)
        return HttpResponseRedirect(
            reverse("admin:mobiledb_personimport_change", args=[person_import.pk])
        )

    def errors_view(self, request, pk):
        person_import = self._visible(request, pk)
        response = StreamingHttpResponse(report_lines(person_import), content_type="text/csv")
        stem = Path(person_import.file_name).stem or "import"
        response["Content-Disposition"] = f'attachment; filename="{stem}-errors.csv"'
        return response

    def export_view(self, request):
        """Choose a company, download its persons as a .persons file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        companies = self.companies(request)
        company_id = request.GET.get("company")
        if company_id:
            company = get_object_or_404(companies, pk=require_id(company_id, name="company"))
            return export_response(company)
        context = {
            **self.admin_site.each_context(request),
            "title": "Export persons",
            "companies": companies,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/imports/personimport/export.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["progress"] = import_progress(obj)
            context["progress_url"] = reverse("admin:mobiledb_personimport_progress", args=[obj.pk])
            context["cancel_url"] = reverse("admin:mobiledb_personimport_cancel", args=[obj.pk])
            context["errors_url"] = reverse("admin:mobiledb_personimport_errors", args=[obj.pk])
            context["can_cancel"] = obj.is_active and self.has_add_permission(request)
        else:
            context["max_upload_mb"] = max_upload_bytes() // 1024**2
        return super().render_change_form(request, context, add, change, form_url, obj)


def export_response(company: Company, persons=None) -> StreamingHttpResponse:
    """A download of `persons` (or all of the company's) as `<KEY>.persons`."""
    response = StreamingHttpResponse(
        persons_export_lines(company, persons), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{company.key}.persons"'
    return response


@admin.action(description="Export selected persons as a .persons file")
def export_persons(modeladmin, request, queryset):
    """Person changelist action: the selection (or the whole filter) of one company."""
    # order_by(): a distinct() over the list's ordering (-id) would count each person.
    company_ids = list(queryset.order_by().values_list("company_id", flat=True).distinct()[:2])
    if len(company_ids) != 1:
        modeladmin.message_user(
            request, "Export persons of one company at a time: filter by company first.",
            messages.ERROR,
        )  # fmt: skip
        return None
    company = companies_for_user(request.user).filter(pk=company_ids[0]).first()
    if company is None:
        raise PermissionDenied
    return export_response(company, queryset)


# The .persons export is an action of the Person list.
PersonAdmin.actions = [*(PersonAdmin.actions or []), export_persons]
