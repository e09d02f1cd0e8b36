"""The pages in real headless Chromium against a live server, with seeded data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from events.serializers import Reading
from events.services import event_ingest
from testsupport import make_device, make_tenant, make_user, seed_simulated
from testsupport.browser import DESKTOP, PHONE

# Counts a canvas's painted pixels: a blank chart has none.
PAINTED_PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


@pytest.fixture
def pool(tenant):
    tenant.time_zone = "Europe/Madrid"
    tenant.save(update_fields=["time_zone"])
    device = make_device(tenant, "esp32-pool-01")
    seed_simulated(device, days=7)
    make_device(tenant, "esp32-spare")
    make_device(make_tenant("globex"), "globex-only")
    return device


def wait_for_charts(page) -> str:
    page.wait_for_selector("#charts[data-state=ready]", timeout=20_000)
    return page.inner_text("#status")


def painted_charts(page) -> dict[str, int]:
    return {
        chart.get_attribute("data-channel"): chart.eval_on_selector("canvas", PAINTED_PIXELS)
        for chart in page.query_selector_all("#charts .chart")
    }


def test_a_user_logs_in_and_sees_only_the_tenants_devices(live_url, pool, alice, open_page):
    for name, viewport in (("device-list-desktop", DESKTOP), ("device-list-phone", PHONE)):
        watched = open_page(viewport)
        watched.log_in(live_url, "alice")

        cards = watched.page.query_selector_all("article.device")
        assert [card.get_attribute("data-device-id") for card in cards] == [
            "esp32-pool-01",
            "esp32-spare",
        ]
        assert "globex-only" not in watched.page.content()
        watched.screenshot(name)
        assert watched.errors == []


RANGES = {"1h": "raw events", "24h": "raw events", "7d": "hourly summaries",
          "30d": "hourly summaries", "1y": "daily summaries"}  # fmt: skip


def test_the_device_page_draws_every_range_with_data(live_url, pool, alice, open_page):
    watched = open_page()
    watched.log_in(live_url, "alice")
    page = watched.page
    page.click("a[href='/devices/esp32-pool-01/']")
    wait_for_charts(page)

    for label, resolution in RANGES.items():
        page.click(f"[data-range='{label}']")
        page.wait_for_function(
            f"document.querySelector(\"[data-range='{label}']\").ariaPressed === 'true' && "
            f"document.getElementById('status').textContent.includes('{resolution}') && "
            "document.getElementById('charts').dataset.state === 'ready'",
            timeout=20_000,
        )
        painted = painted_charts(page)
        assert set(painted) == {"pump", "valve", "temperature"}, label
        assert all(count > 500 for count in painted.values()), (label, painted)
        assert page.eval_on_selector("#bars canvas", PAINTED_PIXELS) > 500, label
        assert f"range={label}" in page.url
    assert watched.errors == []
    watched.screenshot("device-page-desktop-1y")


def test_the_device_page_is_usable_on_a_phone(live_url, pool, alice, open_page):
    watched = open_page(PHONE)
    watched.log_in(live_url, "alice")
    watched.page.goto(f"{live_url}/devices/esp32-pool-01/?range=24h")
    assert "raw events" in wait_for_charts(watched.page)

    widths = watched.page.eval_on_selector_all(
        "#charts canvas", "(canvases) => canvases.map((c) => c.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= PHONE["width"]
    scroll_width = watched.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    watched.screenshot("device-page-phone-24h")
    watched.page.set_viewport_size(DESKTOP)
    watched.page.wait_for_timeout(300)  # the resize is debounced
    watched.screenshot("device-page-desktop-24h")
    assert watched.errors == []


def test_the_csv_download_holds_what_the_chart_shows(live_url, pool, alice, open_page):
    watched = open_page()
    watched.log_in(live_url, "alice")
    page = watched.page
    page.goto(f"{live_url}/devices/esp32-pool-01/?range=24h")
    wait_for_charts(page)
    drawn = page.evaluate(
        "Object.fromEntries(window.deviceCharts.filter((c) => c.channel === 'temperature')"
        ".map((c) => [c.channel, c.data[1].filter((v) => v !== null)]))"
    )

    with page.expect_download() as download:
        page.click("#csv-link")
    table = list(csv.DictReader(io.StringIO(download.value.path().read_text())))

    in_window = [row for row in table if row["carried_in"] == ""]
    temperatures = [float(row["value"]) for row in in_window if row["channel"] == "temperature"]
    assert len(temperatures) > 1000
    assert temperatures == drawn["temperature"]
    assert all(row["time"].endswith("+01:00") for row in in_window)
    assert download.value.suggested_filename.endswith("-raw.csv")
    assert watched.errors == []


def test_the_pump_line_starts_with_the_state_carried_in(live_url, tenant, alice, open_page):
    device = make_device(tenant, "esp32-01")
    now = datetime.now(UTC)
    for ts, state in ((now - timedelta(hours=3), "OFF"), (now - timedelta(hours=2), "ON")):
        event_ingest(device=device, reading=Reading("pump", ts, state=state), received_at=now)
    watched = open_page()
    watched.log_in(live_url, "alice")
    watched.page.goto(f"{live_url}/devices/esp32-01/?range=1h")
    wait_for_charts(watched.page)

    pump = watched.page.evaluate(
        "(() => { const c = window.deviceCharts.find((c) => c.channel === 'pump');"
        " return {x: c.data[0], y: c.data[1], start: c.scales.x.min}; })()"
    )
    assert pump["y"] == [1, 1]  # ON from the window's start to now, no event inside
    assert pump["x"][0] == pytest.approx(pump["start"], abs=1)
    assert watched.page.eval_on_selector("#charts canvas", PAINTED_PIXELS) > 500


def test_a_silent_device_is_drawn_differently(live_url, tenant, alice, open_page):
    device = make_device(tenant, "esp32-01")
    now = datetime.now(UTC)
    reading = Reading("pump", now - timedelta(hours=5), state="ON")
    event_ingest(device=device, reading=reading, received_at=now - timedelta(hours=5))
    type(device).objects.filter(pk=device.pk).update(last_seen_at=now - timedelta(hours=5))
    watched = open_page()
    watched.log_in(live_url, "alice")
    watched.page.goto(f"{live_url}/devices/esp32-01/?range=24h")
    wait_for_charts(watched.page)

    assert watched.page.is_visible("#silent-note")
    assert watched.page.inner_text("h1 .badge").lower() == "offline"


def test_a_viewer_sees_the_pages_too(live_url, pool, bob, open_page):
    watched = open_page()
    watched.log_in(live_url, "bob")
    watched.page.goto(f"{live_url}/devices/esp32-pool-01/")
    assert "raw events" in wait_for_charts(watched.page)
    assert watched.errors == []


def test_logging_out_is_a_post_and_ends_the_session(live_url, pool, alice, open_page):
    watched = open_page()
    watched.log_in(live_url, "alice")
    watched.page.click("form[action='/logout/'] button")
    watched.page.wait_for_url(f"{live_url}/login/")
    watched.page.goto(f"{live_url}/")
    assert watched.page.url == f"{live_url}/login/?next=/"


def test_a_tenant_admin_registers_a_device_and_sees_its_key_once(live_url, pool, open_page):
    make_user(pool.tenant, "dora", Role.ADMIN)
    for name, viewport in (("manage-desktop", DESKTOP), ("manage-phone", PHONE)):
        watched = open_page(viewport)
        watched.log_in(live_url, "dora")
        watched.page.click("nav a[href='/manage/']")
        assert "globex-only" not in watched.page.content()
        assert watched.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        watched.screenshot(name)
        assert watched.errors == []

    watched.page.goto(f"{live_url}/manage/register/")
    watched.page.fill("input[name=device_id]", "esp32-new")
    watched.page.click("main form button[type=submit]")
    key = watched.page.inner_text("#secret").strip()
    assert len(key) == 40 and key.isalnum()
    watched.screenshot("manage-new-key-phone")

    watched.page.goto(f"{live_url}/manage/devices/esp32-new/")
    assert key not in watched.page.content()
    assert key[:8] in watched.page.content()  # the prefix names the key
    assert watched.errors == []


def test_hovering_a_stepped_line_shows_the_state_in_force(live_url, tenant, alice, open_page):
    device = make_device(tenant, "esp32-01")
    now = datetime.now(UTC).replace(microsecond=0)
    on, off = now - timedelta(hours=3), now - timedelta(hours=1)
    for ts, state in ((on, "ON"), (off, "OFF")):
        event_ingest(device=device, reading=Reading("pump", ts, state=state), received_at=now)
    watched = open_page()
    watched.log_in(live_url, "alice")
    watched.page.goto(f"{live_url}/devices/esp32-01/?range=24h")
    wait_for_charts(watched.page)

    def hover(moment: datetime) -> str:
        point = watched.page.evaluate(
            "(ts) => { const c = window.deviceCharts.find((c) => c.channel === 'pump');"
            " const box = c.over.getBoundingClientRect();"
            " return {x: box.left + c.valToPos(ts, 'x'), y: box.top + 5}; }",
            moment.timestamp(),
        )
        watched.page.mouse.move(point["x"], point["y"])
        return watched.page.text_content(
            ".chart[data-channel=pump] .u-series:nth-child(2) .u-value"
        )

    assert hover(off - timedelta(minutes=2)) == "ON"
    assert hover(off + timedelta(minutes=2)) == "OFF"
    assert hover(on - timedelta(minutes=2)) == "\u2013"  # before the first known state
    assert watched.errors == []


def test_a_window_a_browser_cannot_hold_falls_back_to_24h(live_url, pool, alice, open_page):
    watched = open_page()
    watched.log_in(live_url, "alice")
    watched.page.goto(f"{live_url}/devices/esp32-pool-01/?from=1&to=99999999999999999")

    assert "raw events" in wait_for_charts(watched.page)
    assert watched.page.get_attribute("[data-range='24h']", "aria-pressed") == "true"
    assert watched.errors == []
