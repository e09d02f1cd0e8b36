"""The app's URLs plus the bare baselines, served by the same gunicorn under the same
settings. Never part of the app: only `bench/run` points ROOT_URLCONF here."""

from __future__ import annotations

from django.urls import path

from bench import views
from telemetry.urls import handler400, handler404, handler500
from telemetry.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/bare-event", views.bare_event),
    path("bench/bare-sql/<str:name>", views.bare_sql),
    *app_urlpatterns,
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
