"""Device-key authentication for DRF: the legacy `x-api-key` header."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.services import client_ip, credential_failure_note, credential_failures_check
from devices import errors
from devices.models import DeviceAPIKey
from devices.selectors import DeviceCaller, key_authenticate
from devices.services import key_note_used


class DeviceKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[DeviceCaller, DeviceAPIKey] | None:
        raw_key = request.META.get("HTTP_X_API_KEY")
        if raw_key is None:
            return None  # let the next scheme (JWT) try
        ip = client_ip(request)
        credential_failures_check(kind="key", ip=ip)
        key = key_authenticate(raw_key=raw_key.strip())
        if key is None:
            credential_failure_note(kind="key", ip=ip)
            raise AuthenticationFailed(errors.KEY_INVALID)
        key_note_used(key=key, now=timezone.now())
        return DeviceCaller(key=key), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401, not 403, to a request without credentials.
        return 'Bearer realm="api", ApiKey header="x-api-key"'
