from __future__ import annotations

from django.urls import re_path

from events import api

app_name = "events"

# Both spellings answer directly: a redirect would turn a device's POST into a GET.
urlpatterns = [
    re_path(r"^api/event/?$", api.EventView.as_view(), name="event"),
    re_path(r"^api/events/?$", api.BatchView.as_view(), name="batch"),
    re_path(r"^api/history/?$", api.HistoryView.as_view(), name="history"),
]
