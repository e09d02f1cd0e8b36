"""Guards of the HTML pages; the URL walk in telemetry/tests/test_structure.py
fails for a page without one. The login pages (ours and Django admin's) are
guarded by the failed-login limit."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts import errors
from accounts.models import Role
from accounts.services import client_ip, credential_failure_note, credential_failures_check
from telemetry.ratelimit import TooManyRequests

View = Callable[..., HttpResponse]


def tenant_page(view: View) -> View:
    """A page for a logged-in user of a tenant; others are sent to log in, staff without
    a tenant to admin, the rest refused (403)."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.tenant_id is None:
            # Operators without a tenant work in Django admin.
            if request.user.is_staff:
                return redirect("admin:index")
            raise PermissionDenied(errors.NO_TENANT_PAGES)
        if not request.user.tenant.is_active:
            raise PermissionDenied(errors.TENANT_INACTIVE)
        return view(request, *args, **kwargs)

    guarded.guard = "tenant"
    return guarded


def tenant_admin_page(view: View) -> View:
    """A page for a tenant's admins (role admin): they manage their own tenant only."""

    @tenant_page
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.role != Role.ADMIN:
            raise PermissionDenied(errors.TENANT_ADMINS_ONLY)
        return view(request, *args, **kwargs)

    guarded.guard = "tenant-admin"
    return guarded


def user_page(view: View) -> View:
    """A page for any logged-in user (e.g. password change), superusers included."""
    guarded = login_required(view)
    guarded.guard = "user"
    return guarded


def login_failures_limited(view: View) -> View:
    """A login page whose failed logins count against the client address's limit, the
    counter the token API shares; over it, every attempt is refused (429), the right
    password too. Its form shows the refusal: accounts.forms.LoginRefusalMixin."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        ip = client_ip(request)
        try:
            credential_failures_check(kind="login", ip=ip)
        except TooManyRequests as refusal:
            request.login_refusal = refusal
        response = view(request, *args, **kwargs)
        if response.status_code != 200:  # logged in: a redirect
            return response
        refusal = getattr(request, "login_refusal", None)
        if refusal is None:  # the form again: a failure
            credential_failure_note(kind="login", ip=ip)
            return response
        response.status_code = 429
        for header, value in refusal.headers.items():
            response[header] = value
        return response

    return limited
