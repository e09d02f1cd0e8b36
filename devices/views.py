"""Pages: the tenant's device list and each device's charts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.guards import tenant_admin_page, tenant_page
from devices.selectors import device_get
from events.selectors import device_overview, devices_overview, events_latest


@tenant_page
def device_list(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    overviews = devices_overview(tenant=tenant, now=timezone.now())
    context = {
        "tenant": tenant,
        "overviews": overviews,
        "event_url": request.build_absolute_uri(reverse("events:event")),
    }
    return render(request, "devices/list.html", context)


@tenant_page
def device_detail(request: HttpRequest, device_id: str) -> HttpResponse:
    device = device_get(tenant=request.user.tenant, device_id=device_id)
    overview = device_overview(device=device, now=timezone.now())
    config = {
        "deviceId": device.device_id,
        "historyUrl": reverse("events:history"),
        "timeZone": device.tenant.time_zone,
        "silentSince": int(overview.silent_since.timestamp() * 1000)
        if overview.silent_since
        else None,
        "expectedIntervalSeconds": device.expected_interval_seconds,
        "channels": {channel.name: channel.kind for channel in overview.channels},
    }
    context = {
        "device": device,
        "overview": overview,
        "ranges": ["1h", "24h", "7d", "30d", "1y"],
        "events": events_latest(device=device),
        "config": config,
    }
    return render(request, "devices/detail.html", context)


@tenant_admin_page
def manage(request: HttpRequest) -> HttpResponse:
    return render(request, "devices/manage.html", {"tenant": request.user.tenant})
