"""Forms of the account pages and of the tenant admins' user pages."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import errors
from accounts.auth import user_may_authenticate
from accounts.models import Role, User


class LoginRefusalMixin:
    """A login form that, while accounts.guards.login_failures_limited refuses the
    client's address, shows that refusal and authenticates no one."""

    def clean(self) -> dict:
        refusal = getattr(self.request, "login_refusal", None)
        if refusal is not None:
            raise ValidationError(refusal.message, code="too_many_failures")
        return super().clean()


class LoginForm(LoginRefusalMixin, AuthenticationForm):
    """Django's login form that also refuses users of a deactivated tenant."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user_may_authenticate(user):
            raise ValidationError(errors.TENANT_INACTIVE, code="tenant_inactive")


class AdminLoginForm(LoginRefusalMixin, AdminAuthenticationForm):
    """Django admin's login form (staff only)."""


class UserAddForm(forms.Form):
    username = User._meta.get_field("username").formfield()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to generate one; it is shown once.",
    )


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
