"""Tenants and their users."""

from __future__ import annotations

import re
import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts import errors

# django-ratelimit's rate syntax: count / [multiplier] unit, e.g. "5/s", "10/5s", "60/m".
WRITE_RATE_RE = re.compile(r"^[1-9][0-9]{0,6}/([1-9][0-9]{0,5})?[smhd]$")
DEFAULT_WRITE_RATE = "5/5s"
# 100 years: more is a typo, and the purge's `now - retention` would overflow.
RETENTION_MAX_DAYS = 36500
RETENTION_RANGE = errors.RETENTION_DAYS_RANGE.format(limit=RETENTION_MAX_DAYS)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Madrid)")


def validate_write_rate(value: str) -> None:
    if not WRITE_RATE_RE.match(value):
        raise ValidationError(f"{value!r} is not a rate like 5/s, 10/5s or 60/m")


class Tenant(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    raw_retention_days = models.PositiveIntegerField(
        default=60,
        validators=[
            MinValueValidator(1, message=RETENTION_RANGE),
            MaxValueValidator(RETENTION_MAX_DAYS, message=RETENTION_RANGE),
        ],
        help_text=f"Days raw events are kept, 1 to {RETENTION_MAX_DAYS}.",
    )
    write_rate = models.CharField(
        max_length=20,
        default=DEFAULT_WRITE_RATE,
        validators=[validate_write_rate],
        help_text="Writes allowed per device, in django-ratelimit syntax (5/s, 10/5s, 60/m).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the purge job, always at a local day boundary, so no hour or day
    # bucket is ever half purged. Ingest refuses events before `raw_floor`
    # (they would be deleted unsummarised); rollups are not recomputed before
    # `raw_purged_before`, where the raw events are gone.
    raw_floor = models.DateTimeField(null=True, blank=True, editable=False)
    raw_purged_before = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    raw_retention_days__gte=1, raw_retention_days__lte=RETENTION_MAX_DAYS
                ),
                name="tenant_retention_range",
                violation_error_message=RETENTION_RANGE,
            )
        ]

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class User(AbstractUser):
    """A person. Belongs to one tenant; only superusers may have none."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    objects = UserManager()

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.MEMBER)

    def __str__(self) -> str:
        return self.username
