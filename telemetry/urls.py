"""Root URLs: the apps' routes, admin, and a health check."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def healthz(request: HttpRequest) -> JsonResponse:
    """Public on purpose: liveness for load balancers."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", include("events.urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Public on purpose: the API's description, for clients and fuzzers.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "telemetry.handlers.handler400"
handler404 = "telemetry.handlers.handler404"
handler500 = "telemetry.handlers.handler500"
