"""Operators' admin for devices and their keys. A new key is rendered in the response
that creates it and nowhere else; revoking goes through key_revoke."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from devices.forms import interval_field
from devices.models import Device, DeviceAPIKey
from devices.services import NewKey, key_create, key_revoke
from telemetry.errors import Conflict

# One action may mint a key per selected device; the page that shows them is
# their only copy, so keep it short enough to copy by hand.
KEYS_PER_ACTION = 20


class DeviceAPIKeyInline(admin.TabularInline):
    model = DeviceAPIKey
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # "Create a new API key" makes keys: it shows the key once


class DeviceAdminForm(forms.ModelForm):
    expected_interval_seconds = interval_field()

    class Meta:
        model = Device
        fields = ["tenant", "device_id", "name", "expected_interval_seconds"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    form = DeviceAdminForm
    list_display = ["device_id", "name", "tenant", "expected_interval_seconds", "last_seen_at"]
    list_select_related = ["tenant"]
    list_filter = ["tenant"]
    search_fields = ["device_id", "name", "tenant__slug"]
    autocomplete_fields = ["tenant"]
    inlines = [DeviceAPIKeyInline]
    actions = ["create_keys"]
    change_form_template = "admin/devices/device/change_form.html"

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting cascades through millions of events and rollups (and the
        # confirmation page would collect them all first): deactivate the tenant
        # or revoke the keys instead; a database operator can delete for real.
        return False

    def get_readonly_fields(self, request, obj: Device | None = None) -> list[str]:
        # The hardware sends the id, and moving a device would carry its history
        # into another tenant: both are fixed once the device exists.
        return ["tenant", "device_id", "last_seen_at", "created_at"] if obj else []

    def get_urls(self) -> list:
        create_key = self.admin_site.admin_view(require_POST(self.create_key_view))
        own = [path("<int:pk>/create-key/", create_key, name="devices_device_create_key")]
        return own + super().get_urls()

    def has_add_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("devices.add_deviceapikey")

    def change_view(self, request, object_id, form_url="", extra_context=None) -> HttpResponse:
        extra = {"has_add_key_permission": self.has_add_key_permission(request)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    @admin.action(
        description="Create a new API key for each selected device", permissions=["add_key"]
    )
    def create_keys(self, request: HttpRequest, queryset: QuerySet[Device]) -> HttpResponse | None:
        devices = list(queryset.select_related("tenant")[: KEYS_PER_ACTION + 1])
        if len(devices) > KEYS_PER_ACTION:
            self.message_user(
                request, f"Select at most {KEYS_PER_ACTION} devices at a time.", messages.ERROR
            )
            return None
        return self._show_keys(request, [self._new_key(request, device) for device in devices])

    def create_key_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_add_key_permission(request):
            raise PermissionDenied
        device = get_object_or_404(Device.objects.select_related("tenant"), pk=pk)
        return self._show_keys(request, [self._new_key(request, device)])

    def _new_key(self, request: HttpRequest, device: Device) -> NewKey:
        new_key = key_create(device=device, name=f"made in admin by {request.user.get_username()}")
        self.log_change(request, device, f"Created API key {new_key.key.prefix}…")
        return new_key

    def _show_keys(self, request: HttpRequest, new_keys: list[NewKey]) -> HttpResponse:
        # Rendered in this response only (admin views send no-cache headers): not in
        # a message, which would wait in the session or a cookie until read.
        context = {
            **self.admin_site.each_context(request),
            "title": "New API keys" if len(new_keys) > 1 else "New API key",
            "opts": self.model._meta,
            "new_keys": new_keys,
        }
        return TemplateResponse(request, "admin/devices/device/new_keys.html", context)


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("live", "Live"), ("revoked", "Revoked")]

    def queryset(self, request, queryset: QuerySet[DeviceAPIKey]) -> QuerySet[DeviceAPIKey]:
        if self.value() in ("live", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "live")
        return queryset


@admin.register(DeviceAPIKey)
class DeviceAPIKeyAdmin(admin.ModelAdmin):
    """Keys are read-only here: made on a device's page, revoked by the action below,
    never deleted (a revoked key stays on record)."""

    list_display = ["prefix", "device_link", "name", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["device__tenant"]
    list_filter = [KeyStatusFilter, "device__tenant"]
    search_fields = ["prefix", "name", "device__device_id"]
    actions = ["revoke_keys"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("devices.change_deviceapikey")

    @admin.display(description="device", ordering="device__device_id")
    def device_link(self, key: DeviceAPIKey) -> str:
        url = reverse("admin:devices_device_change", args=[key.device_id])
        return format_html('<a href="{}">{}</a>', url, key.device)

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[DeviceAPIKey]) -> None:
        revoked = []
        for key in queryset:
            try:
                revoked.append(key_revoke(prefix=key.prefix))
            except Conflict:
                continue  # already revoked: nothing to do
            self.log_change(request, key, "Revoked")
        names = ", ".join(f"{key.prefix}…" for key in revoked) or "none (all were revoked already)"
        self.message_user(request, f"Revoked {len(revoked)} key(s): {names}.", messages.SUCCESS)
