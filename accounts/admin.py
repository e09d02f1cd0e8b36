from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Tenant, User
from events.services.rollup import tenant_time_zone_change


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "time_zone", "raw_retention_days", "write_rate", "is_active"]
    search_fields = ["slug", "name"]
    readonly_fields = ["raw_floor", "raw_purged_before"]

    def save_model(self, request, obj: Tenant, form, change: bool) -> None:
        new_zone = obj.time_zone
        if change and "time_zone" in form.changed_data:
            obj.time_zone = form.initial["time_zone"]  # the service switches it
            super().save_model(request, obj, form, change)
            tenant_time_zone_change(tenant=obj, time_zone=new_zone)
            return
        super().save_model(request, obj, form, change)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "tenant", "role", "is_active", "is_staff"]
    list_select_related = ["tenant"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
