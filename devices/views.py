"""Pages: the tenant's device list and each device's charts; a tenant admin's pages to
register devices, edit them, and create and revoke their keys."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.guards import tenant_admin_page, tenant_page
from accounts.selectors import tenant_users
from devices.forms import DeviceAddForm, DeviceEditForm, KeyAddForm
from devices.selectors import device_get, device_key_get, device_keys, tenant_devices_with_keys
from devices.services import NewKey, device_provision, device_update, key_create, key_revoke
from events.selectors import device_overview, devices_overview, events_latest
from telemetry.errors import Conflict
from telemetry.pages import form_refusal, show_once


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
    tenant = request.user.tenant
    context = {
        "tenant": tenant,
        "users": tenant_users(tenant=tenant),
        "devices": tenant_devices_with_keys(tenant=tenant),
    }
    return render(request, "manage/index.html", context)


def _show_key(request: HttpRequest, new_key: NewKey, title: str) -> HttpResponse:
    device = new_key.key.device
    context = {
        "title": title,
        "what": f"The API key of {device.device_id}",
        "secret": new_key.raw_key,
        "event_url": request.build_absolute_uri(reverse("events:event")),
        "device": device,
        "next_url": reverse("devices:manage-device", args=[device.device_id]),
    }
    return show_once(request, context)


@tenant_admin_page
def manage_device_add(request: HttpRequest) -> HttpResponse:
    form = DeviceAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_key = device_provision(tenant=request.user.tenant, **form.cleaned_data)
        except (Conflict, ValidationError) as exc:
            form_refusal(form, "device_id", exc)
        else:
            return _show_key(request, new_key, f"Device {new_key.key.device.device_id} registered")
    return render(request, "manage/device_add.html", {"form": form})


@tenant_admin_page
def manage_device(request: HttpRequest, device_id: str) -> HttpResponse:
    device = device_get(tenant=request.user.tenant, device_id=device_id)
    initial = {"name": device.name, "expected_interval_seconds": device.expected_interval_seconds}
    form = DeviceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        device_update(device=device, **form.cleaned_data)
        messages.success(request, f"Device {device.device_id} saved.")
        return redirect("devices:manage")
    context = {
        "device": device,
        "form": form,
        "keys": device_keys(device=device),
        "key_form": KeyAddForm(),
    }
    return render(request, "manage/device_edit.html", context)


@tenant_admin_page
@require_POST
def manage_key_add(request: HttpRequest, device_id: str) -> HttpResponse:
    device = device_get(tenant=request.user.tenant, device_id=device_id)
    form = KeyAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
        return redirect("devices:manage-device", device_id=device.device_id)
    new_key = key_create(device=device, name=form.cleaned_data["name"])
    return _show_key(request, new_key, f"New key for {device.device_id}")


@tenant_admin_page
@require_POST
def manage_key_revoke(request: HttpRequest, device_id: str, prefix: str) -> HttpResponse:
    device = device_get(tenant=request.user.tenant, device_id=device_id)
    key = device_key_get(device=device, prefix=prefix)
    try:
        key_revoke(prefix=key.prefix)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Key {key.prefix}… revoked: it stops working now.")
    return redirect("devices:manage-device", device_id=device.device_id)
