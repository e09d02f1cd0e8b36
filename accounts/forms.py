"""Forms of the account pages."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import errors
from accounts.auth import user_may_authenticate
from accounts.models import User


class LoginForm(AuthenticationForm):
    """Django's login form that also refuses users of a deactivated tenant."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user_may_authenticate(user):
            raise ValidationError(errors.TENANT_INACTIVE, code="tenant_inactive")
