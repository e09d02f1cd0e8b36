from __future__ import annotations

from django.urls import re_path

from accounts import api

app_name = "accounts"

urlpatterns = [
    re_path(r"^api/auth/token/?$", api.TokenObtainView.as_view(), name="token"),
    re_path(r"^api/auth/token/refresh/?$", api.TokenRefreshView.as_view(), name="token-refresh"),
]
