from __future__ import annotations

from django.urls import path

from devices import views

app_name = "devices"

urlpatterns = [
    path("", views.device_list, name="list"),
    path("devices/<str:device_id>/", views.device_detail, name="detail"),
    path("manage/", views.manage, name="manage"),
]
