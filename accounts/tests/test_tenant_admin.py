"""Operators' tenant admin: counts in the list, users and devices as capped links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import Tenant
from events.models import Rollup
from events.serializers import Reading
from events.services import event_ingest
from events.services.rollup import rollup_run
from telemetry.celery import app as celery_app
from testsupport import make_device, make_tenant, make_user

CHANGELIST = reverse("admin:accounts_tenant_changelist")


def change_url(tenant: Tenant) -> str:
    return reverse("admin:accounts_tenant_change", args=[tenant.pk])


def test_the_list_counts_users_and_devices_per_tenant(admin_client, alice, bob, device, charlie):
    response = admin_client.get(CHANGELIST)

    counts = {t.slug: (t.user_count, t.device_count) for t in response.context["cl"].result_list}
    assert counts == {"acme": (2, 1), "globex": (1, 0)}


def test_the_list_costs_the_same_queries_for_many_tenants(
    admin_client, django_assert_max_num_queries
):
    for number in range(30):
        tenant = make_tenant(f"t{number}")
        make_user(tenant, f"user{number}")
        make_device(tenant)

    with django_assert_max_num_queries(6):  # session, user, is_active filter, count, page
        response = admin_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 30


def test_the_change_page_links_the_tenants_users_and_devices(admin_client, tenant, alice, device):
    page = admin_client.get(change_url(tenant)).content.decode()

    assert reverse("admin:accounts_user_change", args=[alice.pk]) in page
    assert reverse("admin:devices_device_change", args=[device.pk]) in page
    assert f"?tenant__id__exact={tenant.pk}" in page
    assert 'name="users-TOTAL_FORMS"' not in page  # links, not inlines


def test_the_links_stop_at_the_cap_with_a_link_to_all(admin_client, tenant, monkeypatch):
    monkeypatch.setattr("accounts.admin.LINKS_SHOWN", 2)
    for number in range(3):
        make_device(tenant, f"esp32-{number}")

    page = admin_client.get(change_url(tenant)).content.decode()

    assert ">esp32-0</a>" in page and ">esp32-1</a>" in page
    assert ">esp32-2</a>" not in page
    assert "see all 3</a>" in page


def test_see_all_lists_only_that_tenants_users(admin_client, tenant, alice, charlie):
    url = reverse("admin:accounts_user_changelist") + f"?tenant__id__exact={tenant.pk}"

    listed = [user.username for user in admin_client.get(url).context["cl"].result_list]

    assert listed == ["alice"]


def test_a_superuser_creates_a_tenant(admin_client, db):
    form = {
        "slug": "initech",
        "name": "Initech",
        "time_zone": "Europe/Madrid",
        "raw_retention_days": 90,
        "write_rate": "10/5s",
        "is_active": "on",
    }

    response = admin_client.post(reverse("admin:accounts_tenant_add"), form)

    assert response.status_code == 302
    initech = Tenant.objects.get(slug="initech")
    assert (initech.time_zone, initech.raw_retention_days, initech.write_rate) == (
        "Europe/Madrid",
        90,
        "10/5s",
    )


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_changing_the_time_zone_rebuilds_the_rollups(
    admin_client, tenant, device, eager_celery, django_capture_on_commit_callbacks
):
    moment = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)
    event_ingest(device=device, reading=Reading("pump", moment, state="ON"), received_at=moment)
    rollup_run()
    form = {
        "slug": "acme",
        "name": "Acme",
        "time_zone": "Asia/Kolkata",
        "raw_retention_days": 60,
        "write_rate": tenant.write_rate,
        "is_active": "on",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(tenant), form)

    assert response.status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).time_zone == "Asia/Kolkata"
    day = Rollup.objects.get(period="day")
    assert (day.time_zone, day.bucket_start) == (
        "Asia/Kolkata",
        datetime(2026, 1, 9, 18, 30, tzinfo=UTC),
    )


def test_admin_offers_no_delete_of_a_tenant_or_a_device(admin_client, tenant, device):
    tenant_delete = reverse("admin:accounts_tenant_delete", args=[tenant.pk])
    device_delete = reverse("admin:devices_device_delete", args=[device.pk])

    assert admin_client.get(tenant_delete).status_code == 403
    assert admin_client.get(device_delete).status_code == 403
    assert (
        "Delete"
        not in admin_client.get(change_url(tenant))
        .content.decode()
        .split('class="submit-row"')[-1]
        .split("</div>")[0]
    )
    assert Tenant.objects.filter(pk=tenant.pk).exists()
