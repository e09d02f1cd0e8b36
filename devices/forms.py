"""Forms of the tenant admins' device pages."""

from __future__ import annotations

from django import forms

from devices.models import (
    DEFAULT_INTERVAL_SECONDS,
    INTERVAL_MAX_SECONDS,
    INTERVAL_MIN_SECONDS,
    Device,
    DeviceAPIKey,
)


def interval_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Expected report interval (seconds)",
        min_value=INTERVAL_MIN_SECONDS,
        max_value=INTERVAL_MAX_SECONDS,
        initial=DEFAULT_INTERVAL_SECONDS,
        help_text="The device counts as offline once this long has passed without a report.",
    )


class DeviceEditForm(forms.Form):
    name = Device._meta.get_field("name").formfield(
        help_text="Shown on the pages (default: the id)."
    )
    expected_interval_seconds = interval_field()


class DeviceAddForm(DeviceEditForm):
    device_id = Device._meta.get_field("device_id").formfield()

    field_order = ["device_id", "name", "expected_interval_seconds"]


class KeyAddForm(forms.Form):
    name = DeviceAPIKey._meta.get_field("name").formfield(
        label="Name of the new key", help_text="A label, e.g. where the key is used."
    )
