"""Helpers shared by the apps' HTML pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers

from telemetry.errors import DomainError


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every host: the hashed static icon."""
    return redirect(static("favicon.svg"), permanent=True)


def show_once(request: HttpRequest, context: dict) -> HttpResponse:
    """A new secret (an API key, a password) in this response only.

    Not in a message after a redirect: messages wait in the session (the
    database) or a cookie until read. Never cached, so Back cannot show it again.
    """
    response = render(request, "manage/secret.html", context)
    add_never_cache_headers(response)
    return response


def form_refusal(form: forms.Form, field: str | None, exc: DomainError | ValidationError) -> None:
    """Put a service's refusal on `field` of the form, so the page shows it beside the input."""
    form.add_error(field, exc.message if isinstance(exc, DomainError) else exc.messages)
