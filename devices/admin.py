from __future__ import annotations

from django.contrib import admin

from devices.models import Device, DeviceAPIKey


class DeviceAPIKeyInline(admin.TabularInline):
    model = DeviceAPIKey
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are made with `create_key`, which shows the key once


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "name", "tenant", "last_seen_at"]
    list_select_related = ["tenant"]
    search_fields = ["device_id", "name"]
    inlines = [DeviceAPIKeyInline]
