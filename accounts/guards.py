"""Guards of the HTML pages; the URL walk in telemetry/tests/test_structure.py
fails for a page without one."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts import errors
from accounts.models import Role

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
