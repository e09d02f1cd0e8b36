from __future__ import annotations

from django.urls import path, re_path

from accounts import api, views

app_name = "accounts"

urlpatterns = [
    re_path(r"^api/auth/token/?$", api.TokenObtainView.as_view(), name="token"),
    re_path(r"^api/auth/token/refresh/?$", api.TokenRefreshView.as_view(), name="token-refresh"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("password/done/", views.password_change_done, name="password-change-done"),
    path("manage/users/add/", views.user_add, name="user-add"),
    path("manage/users/<int:user_id>/", views.user_edit, name="user-edit"),
    path(
        "manage/users/<int:user_id>/deactivate/",
        views.user_deactivate_page,
        name="user-deactivate",
    ),
]
