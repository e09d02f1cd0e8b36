"""Operators revoke keys with one action; keys are otherwise read-only in admin."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import reverse

from devices.models import DeviceAPIKey
from testsupport import key_header, make_key, make_user

CHANGELIST = reverse("admin:devices_deviceapikey_changelist")


def revoke(admin_client, *keys: str):
    pks = [DeviceAPIKey.objects.get(prefix=key[:8]).pk for key in keys]
    return admin_client.post(
        CHANGELIST, {"action": "revoke_keys", "_selected_action": pks}, follow=True
    )


def test_a_revoked_key_fails_on_the_next_request(admin_client, api, device, device_key):
    assert api.get("/api/history", **key_header(device_key)).status_code == 200

    revoke(admin_client, device_key)

    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is not None
    response = api.post(
        "/api/event", {"channel": "pump", "state": "ON"}, format="json", **key_header(device_key)
    )
    assert response.status_code == 401


def test_it_revokes_only_the_selected_keys(admin_client, device, device_key):
    spare = make_key(device)

    revoke(admin_client, device_key)

    assert DeviceAPIKey.objects.get(prefix=spare[:8]).revoked_at is None


def test_revoking_revoked_keys_again_changes_nothing(admin_client, device, device_key):
    revoke(admin_client, device_key)
    first = DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at

    response = revoke(admin_client, device_key)

    assert "Revoked 0 key(s)" in str(next(iter(response.context["messages"])))
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at == first


def test_the_device_page_links_to_its_keys_for_revoking(
    admin_client, device, device_key, other_device_key
):
    page = admin_client.get(
        reverse("admin:devices_device_change", args=[device.pk])
    ).content.decode()
    url = f"{CHANGELIST}?device__id__exact={device.pk}"

    assert url in page
    assert [key.prefix for key in admin_client.get(url).context["cl"].result_list] == [
        device_key[:8]
    ]


def test_keys_cannot_be_added_edited_or_deleted_in_admin(admin_client, device, device_key):
    key = DeviceAPIKey.objects.get()

    assert admin_client.get(reverse("admin:devices_deviceapikey_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:devices_deviceapikey_change", args=[key.pk]), {"name": "renamed"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:devices_deviceapikey_delete", args=[key.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert DeviceAPIKey.objects.get().name == key.name


def test_staff_without_the_change_permission_cannot_revoke(client, device, device_key):
    viewer = make_user(None, "olga")
    viewer.is_superuser = False
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_deviceapikey"))
    client.force_login(viewer)

    response = revoke(client, device_key)

    assert response.status_code == 200
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is None
