from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "time_zone", "raw_retention_days", "write_rate", "is_active"]
    search_fields = ["slug", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "tenant", "role", "is_active", "is_staff"]
    list_select_related = ["tenant"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
