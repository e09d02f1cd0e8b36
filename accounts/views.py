"""Account pages: log in (failures limited per address), log out, change password."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from accounts.forms import LoginForm
from accounts.guards import user_page
from accounts.services import client_ip, credential_failure_note, credential_failures_check
from telemetry.ratelimit import TooManyRequests


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            credential_failures_check(kind="login", ip=client_ip(request))
        except TooManyRequests as refusal:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, refusal.message)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            for header, value in refusal.headers.items():
                response[header] = value
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        credential_failure_note(kind="login", ip=client_ip(self.request))
        return super().form_invalid(form)


login = LoginView.as_view()
# Logout is a POST (Django 5); answering it needs no login.
logout = auth_views.LogoutView.as_view()
password_change = user_page(
    auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password-change-done"))
)
password_change_done = user_page(auth_views.PasswordChangeDoneView.as_view())
