"""Operators' admin for tenants and users. A tenant's users and devices are listed as
links, not inlines: hundreds of inline rows overflow DATA_UPLOAD_MAX_NUMBER_FIELDS."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Tenant, User
from accounts.selectors import tenant_users
from devices.models import Device
from devices.selectors import tenant_devices
from events.services.rollup import tenant_time_zone_change

LINKS_SHOWN = 50


def _count_of(model: type, field: str = "tenant") -> Coalesce:
    # One correlated COUNT per tenant row: two JOINs with Count(distinct=True)
    # would build users x devices rows per tenant before counting.
    counted = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _links(labels: list[tuple[int, str]], total: int, changelist: str, tenant: Tenant) -> str:
    """Links to the first objects' change pages, and to the changelist filtered by tenant."""
    shown = format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse(f"admin:{changelist}_change", args=[pk]), label) for pk, label in labels),
    )
    see_all = reverse(f"admin:{changelist}_changelist") + f"?tenant__id__exact={tenant.pk}"
    if not total:
        return "none"
    if total > LINKS_SHOWN:
        return format_html('{} … <a href="{}">see all {}</a>', shown, see_all, total)
    return format_html('{} (<a href="{}">{} in the list</a>)', shown, see_all, total)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "time_zone",
        "raw_retention_days",
        "write_rate",
        "is_active",
        "user_count",
        "device_count",
    ]
    list_filter = ["is_active"]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "time_zone", "raw_retention_days", "write_rate", "is_active"]
    readonly_fields = ["raw_floor", "raw_purged_before", "users", "devices"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting cascades through millions of events and rollups (and the
        # confirmation page would collect them all first): deactivate the tenant
        # or revoke the keys instead; a database operator can delete for real.
        return False

    def get_queryset(self, request) -> QuerySet[Tenant]:
        return (
            super()
            .get_queryset(request)
            .annotate(user_count=_count_of(User), device_count=_count_of(Device))
        )

    def get_fields(self, request, obj: Tenant | None = None) -> list[str]:
        if obj is None:
            return self.fields
        return [*self.fields, "raw_floor", "raw_purged_before", "users", "devices"]

    @admin.display(description="users", ordering="user_count")
    def user_count(self, tenant: Tenant) -> int:
        return tenant.user_count

    @admin.display(description="devices", ordering="device_count")
    def device_count(self, tenant: Tenant) -> int:
        return tenant.device_count

    @admin.display(description="users")
    def users(self, tenant: Tenant) -> str:
        shown = tenant_users(tenant=tenant).values_list("pk", "username")[:LINKS_SHOWN]
        return _links(list(shown), tenant.user_count, "accounts_user", tenant)

    @admin.display(description="devices")
    def devices(self, tenant: Tenant) -> str:
        shown = tenant_devices(tenant=tenant).values_list("pk", "device_id")[:LINKS_SHOWN]
        return _links(list(shown), tenant.device_count, "devices_device", tenant)

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
    list_filter = ["role", "is_staff", "is_superuser", "is_active", "tenant"]
    autocomplete_fields = ["tenant"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Tenant", {"fields": ("tenant", "role")}))
