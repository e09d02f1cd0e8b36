from __future__ import annotations

from django.urls import path

from devices import views

app_name = "devices"

urlpatterns = [
    path("", views.device_list, name="list"),
    path("devices/<str:device_id>/", views.device_detail, name="detail"),
    path("manage/", views.manage, name="manage"),
    path("manage/register/", views.manage_device_add, name="manage-device-add"),
    path("manage/devices/<str:device_id>/", views.manage_device, name="manage-device"),
    path("manage/devices/<str:device_id>/keys/", views.manage_key_add, name="manage-key-add"),
    path(
        "manage/devices/<str:device_id>/keys/<str:prefix>/revoke/",
        views.manage_key_revoke,
        name="manage-key-revoke",
    ),
]
