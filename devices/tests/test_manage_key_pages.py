"""A tenant admin creates a key for a device (shown once) and revokes keys (POST only)."""

from __future__ import annotations

from django.urls import reverse

from devices import errors
from devices.models import DeviceAPIKey
from testsupport import key_header, make_device, make_key

ADD_URL = reverse("devices:manage-key-add", args=["esp32-01"])


def revoke_url(prefix: str, device_id: str = "esp32-01") -> str:
    return reverse("devices:manage-key-revoke", args=[device_id, prefix])


def test_a_new_key_is_shown_once_and_stored_hashed(ada_client, device):
    response = ada_client.post(ADD_URL, {"name": "spare"})

    raw_key = response.context["secret"]
    assert "no-store" in response.headers["Cache-Control"]
    stored = DeviceAPIKey.objects.get(device=device)
    assert (stored.prefix, stored.name) == (raw_key[:8], "spare")
    assert (
        raw_key
        not in ada_client.get(reverse("devices:manage-device", args=["esp32-01"])).content.decode()
    )


def test_creating_a_key_answers_405_to_a_get(ada_client, device):
    assert ada_client.get(ADD_URL).status_code == 405
    assert not DeviceAPIKey.objects.exists()


def test_creating_a_key_for_another_tenants_device_answers_404(ada_client, other_device):
    other_device.device_id = "globex-only"
    other_device.save()

    response = ada_client.post(reverse("devices:manage-key-add", args=["globex-only"]))

    assert response.status_code == 404
    assert not DeviceAPIKey.objects.exists()


def test_a_revoked_key_is_refused_on_the_next_request(ada_client, api, device, device_key):
    response = ada_client.post(revoke_url(device_key[:8]))

    assert response.status_code == 302
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is not None
    assert api.get("/api/history", **key_header(device_key)).status_code == 401


def test_revoking_twice_says_so(ada_client, device, device_key):
    ada_client.post(revoke_url(device_key[:8]), follow=True)

    response = ada_client.post(revoke_url(device_key[:8]), follow=True)

    assert [str(message) for message in response.context["messages"]] == [
        errors.KEY_ALREADY_REVOKED.format(prefix=device_key[:8])
    ]


def test_revoking_another_tenants_key_answers_404_and_keeps_it(
    ada_client, device, other_device_key
):
    # Both tenants own an esp32-01, so this URL names ours: the key is not among its keys.
    assert ada_client.post(revoke_url(other_device_key[:8])).status_code == 404
    assert DeviceAPIKey.objects.get(prefix=other_device_key[:8]).revoked_at is None


def test_revoking_a_key_of_another_of_our_devices_through_this_url_answers_404(
    ada_client, device, tenant
):
    other_key = make_key(make_device(tenant, "esp32-02"))

    assert ada_client.post(revoke_url(other_key[:8])).status_code == 404
    assert DeviceAPIKey.objects.get(prefix=other_key[:8]).revoked_at is None


def test_revoking_answers_405_to_a_get(ada_client, device, device_key):
    assert ada_client.get(revoke_url(device_key[:8])).status_code == 405
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is None


def test_a_member_can_neither_create_nor_revoke(client, alice, device, device_key):
    client.force_login(alice)

    assert client.post(ADD_URL).status_code == 403
    assert client.post(revoke_url(device_key[:8])).status_code == 403
    assert DeviceAPIKey.objects.filter(revoked_at__isnull=True).count() == 1
