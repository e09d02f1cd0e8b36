"""Operators read rollups in admin: read-only, filtered by tenant, period and channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events.models import Rollup
from events.serializers import Reading
from events.services import event_ingest
from events.services.rollup import rollup_run

CHANGELIST = reverse("admin:events_rollup_changelist")
T = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)


@pytest.fixture
def rollups(device, other_device):
    for target in (device, other_device):
        for reading in (Reading("pump", T, state="ON"), Reading("temperature", T, value=21.0)):
            event_ingest(device=target, reading=reading, received_at=T)
    rollup_run(now=T + timedelta(minutes=5))


def listed(admin_client, query: str = "") -> list[Rollup]:
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_it_lists_every_bucket(admin_client, rollups):
    assert len(listed(admin_client)) == 8  # 2 devices x 2 channels x (hour, day)


def test_it_filters_by_tenant_period_and_channel(admin_client, rollups, tenant):
    rows = listed(admin_client, f"tenant={tenant.pk}&period__exact=day&channel=temperature")

    assert [(row.device.tenant.slug, row.period, row.channel, row.min) for row in rows] == [
        ("acme", "day", "temperature", 21.0)
    ]


def test_rollups_are_read_only(admin_client, rollups):
    rollup = Rollup.objects.first()

    assert admin_client.get(reverse("admin:events_rollup_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:events_rollup_change", args=[rollup.pk]), {"count": 0}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:events_rollup_delete", args=[rollup.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Rollup.objects.count() == 8


def test_the_list_runs_a_bounded_number_of_queries(
    admin_client, rollups, tenant, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        admin_client.get(f"{CHANGELIST}?tenant={tenant.pk}&period__exact=hour&channel=pump")
