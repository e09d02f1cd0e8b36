"""Account pages: log in (failures limited per address), log out, change password; a tenant
admin's pages to add users, change their role and deactivate them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.forms import LoginForm, UserAddForm, UserRoleForm
from accounts.guards import login_failures_limited, tenant_admin_page, user_page
from accounts.selectors import tenant_user_get
from accounts.services import password_generate, user_create, user_deactivate, user_role_set
from telemetry.errors import Conflict, DomainError
from telemetry.pages import form_refusal, show_once

# The failed-login limit is the admin login's too (telemetry/admin.py): one counter.
login = login_failures_limited(
    auth_views.LoginView.as_view(form_class=LoginForm, redirect_authenticated_user=True)
)
# Logout is a POST (Django 5); answering it needs no login.
logout = auth_views.LogoutView.as_view()
password_change = user_page(
    auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password-change-done"))
)
password_change_done = user_page(auth_views.PasswordChangeDoneView.as_view())


MANAGE_URL = reverse_lazy("devices:manage")


@tenant_admin_page
def user_add(request: HttpRequest) -> HttpResponse:
    form = UserAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password"] or password_generate()
        try:
            user = user_create(
                tenant=request.user.tenant,
                username=data["username"],
                password=password,
                role=data["role"],
            )
        except Conflict as exc:
            form_refusal(form, "username", exc)
        except ValidationError as exc:  # the password rules
            form_refusal(form, "password", exc)
        else:
            if data["password"]:
                messages.success(request, f"User {user.username} added.")
                return redirect("devices:manage")
            context = {"title": f"User {user.username} added", "what": "Their password"}
            return show_once(request, {**context, "secret": password, "next_url": MANAGE_URL})
    return render(request, "manage/user_add.html", {"form": form})


@tenant_admin_page
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    managed = tenant_user_get(tenant=request.user.tenant, user_id=user_id)
    form = UserRoleForm(request.POST or None, initial={"role": managed.role})
    if request.method == "POST" and form.is_valid():
        try:
            user_role_set(actor=request.user, user=managed, role=form.cleaned_data["role"])
        except DomainError as exc:
            form_refusal(form, "role", exc)
        else:
            messages.success(request, f"{managed.username} is now {managed.get_role_display()}.")
            return redirect("devices:manage")
    return render(request, "manage/user_edit.html", {"form": form, "managed": managed})


@tenant_admin_page
@require_POST
def user_deactivate_page(request: HttpRequest, user_id: int) -> HttpResponse:
    managed = tenant_user_get(tenant=request.user.tenant, user_id=user_id)
    try:
        user_deactivate(actor=request.user, user=managed)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user-edit", user_id=managed.pk)
    messages.success(request, f"{managed.username} is deactivated and can no longer log in.")
    return redirect("devices:manage")
