"""Messages of the device and key rules; tests import them."""

from __future__ import annotations

KEY_INVALID = "invalid or revoked API key"
KEY_OTHER_DEVICE = "this API key belongs to another device"
DEVICE_NOT_FOUND = "device not found"
DEVICE_EXISTS = "device {device_id!r} already exists in tenant {tenant}"
KEY_NOT_FOUND = "no API key with prefix {prefix!r}"
KEY_ALREADY_REVOKED = "the API key {prefix}… is already revoked"
NO_TENANT = "this user belongs to no tenant and has no devices"
VIEWER_READ_ONLY = "viewers may read but not write"
DEVICE_ID_REQUIRED = "deviceId is required when authenticating as a user"
KEY_NOT_OF_DEVICE = "API key not found"
INTERVAL_OUT_OF_RANGE = "the expected report interval must be {low} to {high} seconds"
