"""Root URLs: the apps' routes, admin, and a health check."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from telemetry.health import healthz
from telemetry.pages import favicon

urlpatterns = [
    path("", include("events.urls")),
    path("", include("accounts.urls")),
    path("", include("devices.urls")),
    path("admin/", admin.site.urls),
    # Public on purpose: browsers ask every page's host for it (admin pages too).
    path("favicon.ico", favicon, name="favicon"),
    # Public on purpose: for load balancers and orchestrators.
    re_path(r"^healthz/?$", healthz, name="healthz"),
    # Public on purpose: the API's description, for clients and fuzzers.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "telemetry.handlers.handler400"
handler404 = "telemetry.handlers.handler404"
handler500 = "telemetry.handlers.handler500"
