"""The Manage page lists the tenant admin's own users and devices, nobody else's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from devices.services import key_create, key_revoke
from testsupport import make_device

URL = reverse("devices:manage")


def test_it_lists_only_the_tenants_users_and_devices(
    ada_client, alice, bob, charlie, device, other_device
):
    make_device(device.tenant, "esp32-02")

    response = ada_client.get(URL)

    assert response.status_code == 200
    assert [user.username for user in response.context["users"]] == ["ada", "alice", "bob"]
    listed = [(item.tenant.slug, item.device_id) for item in response.context["devices"]]
    assert listed == [("acme", "esp32-01"), ("acme", "esp32-02")]
    assert "charlie" not in response.content.decode()


def test_it_counts_live_keys_only(ada_client, device, device_key):
    key_create(device=device)
    key_revoke(prefix=device_key[:8])

    response = ada_client.get(URL)

    assert [item.live_keys for item in response.context["devices"]] == [1]


def test_its_queries_do_not_grow_with_the_devices(
    ada_client, tenant, django_assert_max_num_queries
):
    for number in range(20):
        make_device(tenant, f"esp32-{number:02}")

    with django_assert_max_num_queries(6):  # session, user+tenant, users, devices
        response = ada_client.get(URL)
    assert len(response.context["devices"]) == 20


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_and_viewers_get_403(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403


def test_a_superuser_of_no_tenant_is_sent_to_admin(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_a_logged_out_visitor_is_sent_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
