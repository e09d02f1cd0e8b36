"""Operators read events in admin: read-only, filters with fixed choices, bounded
queries and counts, however big the table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from events.serializers import Reading
from events.services import event_ingest
from testsupport import make_device

CHANGELIST = reverse("admin:events_event_changelist")


def post(device, channel="pump", ago=timedelta(minutes=1), **reading):
    now = timezone.now()
    reading = reading or {"state": "ON"}
    event_ingest(device=device, reading=Reading(channel, now - ago, **reading), received_at=now)


def listed(admin_client, query: str = "") -> list[Event]:
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def events(device, other_device):
    post(device, "pump")
    post(device, "temperature", value=24.5)
    post(device, "pump", ago=timedelta(days=3), state="OFF")
    post(other_device, "pump")


def test_it_lists_events_newest_first(admin_client, events):
    assert len(listed(admin_client)) == 4


def test_the_tenant_filter_keeps_one_tenants_events(admin_client, events, tenant):
    rows = listed(admin_client, f"tenant={tenant.pk}")

    assert {event.device.tenant.slug for event in rows} == {"acme"}
    assert len(rows) == 3


def test_the_device_filter_lists_only_the_chosen_tenants_devices(
    admin_client, events, tenant, other_device
):
    make_device(tenant, "esp32-02")

    response = admin_client.get(f"{CHANGELIST}?tenant={tenant.pk}")

    device_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "device"
    )
    assert [label for _, label in device_filter.lookup_choices] == ["esp32-01", "esp32-02"]
    assert str(other_device.pk) not in dict(device_filter.lookup_choices)


def test_the_device_filter_keeps_one_devices_events(admin_client, events, device, other_device):
    rows = listed(admin_client, f"device={other_device.pk}")

    assert [event.device for event in rows] == [other_device]


def test_the_channel_filter_keeps_one_channel(admin_client, events, tenant):
    rows = listed(admin_client, f"tenant={tenant.pk}&channel=temperature")

    assert [(event.channel, event.value) for event in rows] == [("temperature", 24.5)]


def test_the_time_filter_keeps_recent_events(admin_client, events, tenant):
    rows = listed(admin_client, f"tenant={tenant.pk}&since=24h")

    assert sorted(event.channel for event in rows) == ["pump", "temperature"]
    assert len(listed(admin_client, f"tenant={tenant.pk}&since=7d")) == 3


@pytest.mark.parametrize("query", ["tenant=abc", "device=-1", "since=1y", "channel=nope"])
def test_a_bad_filter_value_never_errors(admin_client, events, query):
    assert admin_client.get(f"{CHANGELIST}?{query}").status_code in (200, 302)


def test_events_are_read_only(admin_client, events):
    event = Event.objects.first()

    assert admin_client.get(reverse("admin:events_event_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:events_event_change", args=[event.pk]), {"channel": "x"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:events_event_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        admin_client.get(reverse("admin:events_event_change", args=[event.pk])).status_code == 200
    )
    assert Event.objects.count() == 4


@pytest.mark.parametrize("query", ["", "tenant=1", "tenant=1&device=1&channel=pump&since=24h"])
def test_the_list_runs_a_bounded_number_of_queries(
    admin_client, query, events, tenant, django_assert_max_num_queries
):
    for number in range(30):  # more devices and events: the same queries
        post(make_device(tenant, f"esp32-{number + 10}"))
    query = query.replace("tenant=1", f"tenant={tenant.pk}")

    # session, user, tenants, devices, channels, bounded count, page
    with django_assert_max_num_queries(7):
        admin_client.get(f"{CHANGELIST}?{query}")


def test_facet_counts_are_never_offered(admin_client, events, tenant):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(f"{CHANGELIST}?_facets=True&tenant={tenant.pk}")

    assert "Show counts" not in response.content.decode()
    assert _whole_table_counts(captured.captured_queries) == []
    assert len(captured.captured_queries) <= 7


def test_counting_stops_at_the_cap_and_so_do_the_pages(admin_client, events, monkeypatch):
    monkeypatch.setattr("events.admin.COUNT_CAP", 2)

    response = admin_client.get(f"{CHANGELIST}?channel=pump")

    paginator = response.context["cl"].paginator
    assert (paginator.count, paginator.count_is_capped) == (2, True)
    assert "2+ events" in response.content.decode()


def test_a_page_past_the_cap_is_not_served(admin_client, events, monkeypatch):
    monkeypatch.setattr("events.admin.COUNT_CAP", 2)
    monkeypatch.setattr("events.admin.EventAdmin.list_per_page", 1)

    response = admin_client.get(f"{CHANGELIST}?p=3")

    assert response.status_code == 302  # the admin's "invalid page" redirect (?e=1)


def _whole_table_counts(queries: list[dict]) -> list[str]:
    table = Event._meta.db_table
    return [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"].upper()
        and table in query["sql"]
        and " WHERE " not in query["sql"].upper()
        and " LIMIT " not in query["sql"].upper()
    ]


def test_counts_of_the_table_are_always_bounded(admin_client, events):
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(CHANGELIST)
        admin_client.get(f"{CHANGELIST}?channel=pump")

    assert _whole_table_counts(captured.captured_queries) == []


@pytest.mark.postgres
def test_on_postgresql_the_unfiltered_list_reads_the_planners_estimate(
    admin_client, events, monkeypatch
):
    monkeypatch.setattr("events.admin.COUNT_CAP", 2)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Event._meta.db_table}")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST)

    sql = [query["sql"] for query in captured.captured_queries]
    assert not [query for query in sql if "COUNT(" in query.upper() and "events_event" in query]
    assert any("reltuples" in query for query in sql)
    assert response.context["cl"].paginator.count_is_estimate
    assert "about 4 events" in response.content.decode()


@pytest.mark.postgres
def test_the_estimate_is_the_partitions_sum_when_only_they_were_analysed(
    admin_client, events, monkeypatch
):
    # Autovacuum analyses each partition, never the partitioned parent.
    monkeypatch.setattr("events.admin.COUNT_CAP", 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [Event._meta.db_table],
        )
        for (child,) in cursor.fetchall():
            cursor.execute(f"ANALYZE {child}")

    response = admin_client.get(CHANGELIST)

    assert response.context["cl"].paginator.count_is_estimate
    assert "about 4 events" in response.content.decode()
