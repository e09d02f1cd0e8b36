from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django admin, on telemetry.admin's site."""

    default_site = "telemetry.admin.AdminSite"
