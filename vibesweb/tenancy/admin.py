from __future__ import annotations

from django.contrib import admin

from .models import Company, Membership
from .scoping import CompanyScopedAdminMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["key", "name", "created_at"]
    search_fields = ["key", "name"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The key is the API's :company_key: integrations break if it changes.
        return ["key"] if obj is not None else []

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_inlines(self, request, obj):
        return self.inlines if request.user.is_superuser else []
