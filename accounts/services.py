"""Writes for tenants and users."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import errors
from accounts.models import DEFAULT_WRITE_RATE, Role, Tenant, User
from telemetry.errors import BadInput, Conflict, Forbidden, NotFound
from telemetry.ratelimit import Counted, Window, limit_check, limit_count, rate_describe, window_of


def tenant_create(
    *,
    slug: str,
    name: str = "",
    time_zone: str = "UTC",
    raw_retention_days: int = 60,
    write_rate: str = DEFAULT_WRITE_RATE,
) -> Tenant:
    """Create a tenant; an existing slug is a Conflict, bad settings a ValidationError."""
    tenant = Tenant(
        slug=slug,
        name=name or slug,
        time_zone=time_zone,
        raw_retention_days=raw_retention_days,
        write_rate=write_rate,
    )
    tenant.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError:
        # Only a taken slug is "exists": a failed check constraint must say what it is.
        if Tenant.objects.filter(slug=slug).exists():
            raise Conflict(errors.TENANT_EXISTS.format(slug=slug)) from None
        raise
    return tenant


def password_generate() -> str:
    return secrets.token_urlsafe(12)


def user_create(*, tenant: Tenant, username: str, password: str, role: str = Role.MEMBER) -> User:
    """Create a user of `tenant`; an existing username (in any tenant) is a Conflict."""
    user = User(tenant=tenant, username=username, role=role)
    user.full_clean(exclude=["password"], validate_unique=False)
    validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(errors.USER_EXISTS.format(username=username)) from None
    return user


def _check_may_manage(actor: User, user: User) -> None:
    # Callers fetch `user` through tenant_user_get already; checked again here so
    # that no caller can reach across tenants by forgetting to.
    if actor.tenant_id is None or user.tenant_id != actor.tenant_id:
        raise NotFound(errors.USER_NOT_FOUND)
    # The actor is an active admin and may not demote or deactivate themselves,
    # so a tenant can never lose its last admin through these pages.
    if user.pk == actor.pk:
        raise Forbidden(errors.NOT_ON_YOURSELF)


def user_role_set(*, actor: User, user: User, role: str) -> User:
    """Give `user`, of the actor's tenant, another role (the actor's own is refused)."""
    _check_may_manage(actor, user)
    if role not in Role.values:
        raise BadInput(errors.ROLE_UNKNOWN.format(role=role))
    user.role = role
    user.save(update_fields=["role"])
    return user


def user_deactivate(*, actor: User, user: User) -> User:
    """Deactivate `user`, of the actor's tenant: their sessions and tokens stop working
    on the next request (both check is_active). Idempotent; the actor's own is refused."""
    _check_may_manage(actor, user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a reverse proxy the header it sets
    (RATELIMIT_IP_META_KEY); of a list, the last entry, the one the proxy added."""
    header = settings.RATELIMIT_IP_META_KEY
    raw = (request.META.get(header) if header else None) or request.META.get("REMOTE_ADDR")
    return (raw or "unknown").split(",")[-1].strip()


# Failed credentials are counted per client address: once it has failed `rate`
# times in the window, every attempt from it is refused (429) until the window
# ends, the right ones too, so guessing gains nothing from the refusals.
FAILURE_LIMITS = {
    "key": ("KEY_FAILURE_RATE", errors.TOO_MANY_KEY_FAILURES),
    "login": ("LOGIN_FAILURE_RATE", errors.TOO_MANY_LOGIN_FAILURES),
}


def _failure_limit(kind: str, ip: str) -> dict[str, str]:
    setting, message = FAILURE_LIMITS[kind]
    rate = getattr(settings, setting)
    return {
        "group": f"{kind}-failures",
        "value": ip,
        "rate": rate,
        "message": message.format(ip=ip, described=rate_describe(rate)),
    }


def credential_failures_window(*, kind: str, ip: str) -> Window:
    """The counter of `ip`'s failed `kind` credentials in the current window."""
    rate = getattr(settings, FAILURE_LIMITS[kind][0])
    return window_of(group=f"{kind}-failures", value=ip, rate=rate)


def credential_failures_check(*, kind: str, ip: str, counted: Counted | None = None) -> None:
    """Refuse (429) while `ip` is over its limit of failed `kind` credentials (`counted`:
    the failures the caller has read already)."""
    limit_check(**_failure_limit(kind, ip), counted=counted)


def credential_failure_note(*, kind: str, ip: str) -> None:
    """Count one failed `kind` credential (an API key, a password) from `ip`."""
    limit = _failure_limit(kind, ip)
    limit_count(group=limit["group"], value=limit["value"], rate=limit["rate"])
