"""Messages of the account rules; tests import them."""

from __future__ import annotations

TENANT_EXISTS = "tenant {slug!r} already exists"
RETENTION_DAYS_RANGE = "raw retention must be between 1 and {limit} days"
TENANT_NOT_FOUND = "no tenant with slug {slug!r}"
USER_EXISTS = "user {username!r} already exists"
TENANT_INACTIVE = "this tenant is deactivated"
NO_ACTIVE_ACCOUNT = "no active account found for the given credentials"
TOO_MANY_KEY_FAILURES = "too many failed API key attempts from {ip}: at most {described}"
TOO_MANY_LOGIN_FAILURES = "too many failed logins from {ip}: at most {described}"
NO_TENANT_PAGES = "this account belongs to no tenant: operators use /admin/"
TENANT_ADMINS_ONLY = "only the tenant's admins may manage users and devices"
USER_NOT_FOUND = "user not found"
NOT_ON_YOURSELF = "you cannot change your own role or deactivate yourself: ask another admin"
ROLE_UNKNOWN = "{role!r} is not a role (admin, member or viewer)"
