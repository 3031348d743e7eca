"""Admin for segments (saved persons list filters, with their live count) and the bulk
actions' progress."""

from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin

from .models import PersonBulkAction, Segment
from .selectors import capped_count, segment_persons


@admin.register(Segment)
class SegmentAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "persons_now", "open_list", "company", "updated_at"]
    list_filter = [CompanyListFilter]
    search_fields = ["name"]
    fields = ["company", "name", "filters_text", "persons_now", "open_list"]
    readonly_fields = ["filters_text", "persons_now", "open_list"]

    def get_readonly_fields(self, request, obj=None):
        return ["company", *self.readonly_fields] if obj is not None else self.readonly_fields

    def has_add_permission(self, request):
        return False  # a segment is saved from the persons list's filters

    @admin.display(description="persons now")
    def persons_now(self, segment: Segment) -> str:
        count, capped = capped_count(segment_persons(segment))
        return f"more than {count:,}" if capped else f"{count:,}"

    @admin.display(description="filters")
    def filters_text(self, segment: Segment) -> str:
        if not segment.filters:
            return "everyone"
        return "; ".join(f"{key} = {value}" for key, value in segment.filters.items())

    @admin.display(description="persons list")
    def open_list(self, segment: Segment) -> str:
        url = reverse("admin:mobiledb_person_changelist")
        return format_html('<a href="{}?{}">Show these persons</a>', url, segment.query_string)


@admin.register(PersonBulkAction)
class PersonBulkActionAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "status", "progress", "changed", "created_at", "company"]
    list_filter = [CompanyListFilter, "kind", "status"]
    search_fields = ["tag", "subscription_list__name"]
    fields = [
        "kind",
        "subscription_list",
        "tag",
        "status",
        "total",
        "processed",
        "changed",
        "error",
        "created_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/mobiledb/personbulkaction/change_form.html"

    def has_add_permission(self, request):
        return False  # started from the persons list's action bar

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, action: PersonBulkAction) -> str:
        return f"{action.processed:,} of {action.total:,} ({action.percent}%)"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress.json", view(self.progress_view),
                 name="mobiledb_personbulkaction_progress"),
            *super().get_urls(),
        ]  # fmt: skip

    def progress_view(self, request, pk: int):
        action = self.get_object(request, str(pk))
        if action is None:
            return JsonResponse({"error": "not found"}, status=404)
        return JsonResponse(bulk_action_progress(action))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["progress"] = bulk_action_progress(obj)
            context["progress_url"] = reverse(
                "admin:mobiledb_personbulkaction_progress", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def bulk_action_progress(action: PersonBulkAction) -> dict:
    return {
        "status": action.status,
        "total": action.total,
        "processed": action.processed,
        "changed": action.changed,
        "percent": action.percent,
        "finished": action.status in (PersonBulkAction.Status.DONE, PersonBulkAction.Status.FAILED),
        "error": action.error,
    }
