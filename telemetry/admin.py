"""Django admin's site, with its login limited like /login/ (failed logins per address)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from accounts.forms import AdminLoginForm
from accounts.guards import login_failures_limited


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    @method_decorator(login_failures_limited)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().login(request, extra_context)
