// The device page: history from /api/history (session auth), drawn with uPlot.
// Numbers come from the API as they are; this file only lays them out.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("device-config").textContent);
  const zone = config.timeZone;
  const RANGES = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3, "1y": 365 * 86400e3 };
  const LIMIT = 5000;
  const BAR_DAYS_MIN = 7;
  const COLORS = ["#0b6bcb", "#1a7f37", "#b26a00", "#8250df", "#c62828", "#0a7a7a"];
  const charts = [];
  const statusLine = document.getElementById("status");

  // --- Time in the tenant's zone ---------------------------------------------------
  const partsFormat = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function wallParts(epochMs) {
    const parts = {};
    for (const part of partsFormat.formatToParts(new Date(epochMs))) parts[part.type] = part.value;
    return parts;
  }
  function offsetMs(epochMs) {
    const p = wallParts(epochMs);
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - Math.floor(epochMs / 1000) * 1000;
  }
  function offsetLabel(epochMs) {
    const minutes = Math.round(offsetMs(epochMs) / 60000);
    const sign = minutes < 0 ? "-" : "+";
    const abs = Math.abs(minutes);
    return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  }
  function formatTime(epochMs) {
    const p = wallParts(epochMs);
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }
  function toWallInput(epochMs) {
    const p = wallParts(epochMs);
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
  }
  // A wall time typed in the tenant's zone ("2026-01-10T10:50") as an instant.
  function fromWallInput(text) {
    const [date, time] = text.split("T");
    const [y, mo, d] = date.split("-").map(Number);
    const [h, mi] = time.split(":").map(Number);
    const wall = Date.UTC(y, mo - 1, d, h, mi);
    let guess = wall;
    for (let i = 0; i < 3; i++) guess = wall - offsetMs(guess);
    return guess;
  }
  function formatDuration(seconds) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
    if (m) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
    return `${s} s`;
  }

  // --- Window: from the page's URL, so a reload or a shared link shows the same ---
  function currentWindow() {
    const params = new URLSearchParams(location.search);
    const now = Date.now();
    const from = Number(params.get("from")), to = Number(params.get("to"));
    const valid = (ms) => Number.isFinite(ms) && ms > 0 && ms < 8.64e15; // what a Date can hold
    if (valid(from) && valid(to) && to > from) return { from, to, label: null };
    const label = RANGES[params.get("range")] ? params.get("range") : "24h";
    return { from: now - RANGES[label], to: now, label };
  }
  function setWindow(params) {
    history.replaceState(null, "", `${location.pathname}?${new URLSearchParams(params)}`);
    load();
  }

  async function fetchHistory(params) {
    const query = new URLSearchParams({ deviceId: config.deviceId, limit: LIMIT, ...params });
    const response = await fetch(`${config.historyUrl}?${query}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    if (!response.ok || !answer.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return { answer, query };
  }

  // --- Series from the answer -------------------------------------------------------
  function byChannel(items) {
    const groups = new Map();
    for (const item of items) {
      if (!groups.has(item.channel)) groups.set(item.channel, []);
      groups.get(item.channel).push(item);
    }
    return groups;
  }
  function isStateChannel(name, items) {
    if (config.channels[name]) return config.channels[name] === "state";
    return items.some((item) => "state" in item || "state_seconds" in item);
  }
  // ON/OFF as 1/0; modes such as "1"/"2" as their number; other states by rank.
  function stateScale(states) {
    const distinct = [...new Set(states)].sort();
    if (distinct.every((s) => s === "ON" || s === "OFF")) return { value: (s) => (s === "ON" ? 1 : 0), labels: { 0: "OFF", 1: "ON" } };
    if (distinct.every((s) => s !== "" && !isNaN(Number(s)))) return { value: Number, labels: Object.fromEntries(distinct.map((s) => [Number(s), s])) };
    return { value: (s) => distinct.indexOf(s), labels: Object.fromEntries(distinct.map((s, i) => [i, s])) };
  }
  // A numeric line breaks where samples are more than three typical intervals apart.
  function withGaps(xs, ys) {
    if (xs.length < 3) return [xs, ys];
    const deltas = xs.slice(1).map((x, i) => x - xs[i]).sort((a, b) => a - b);
    const typical = deltas[Math.floor(deltas.length / 2)] || 1;
    const gx = [xs[0]], gy = [ys[0]];
    for (let i = 1; i < xs.length; i++) {
      if (xs[i] - xs[i - 1] > 3 * typical) { gx.push((xs[i] + xs[i - 1]) / 2); gy.push(null); }
      gx.push(xs[i]); gy.push(ys[i]);
    }
    return [gx, gy];
  }

  // A state holds until the next event: the line runs to now (never into the future),
  // or, when the answer was cut at its limit, to where the answer stops.
  function rawStateSeries(name, items, carried, win, until) {
    const states = items.map((i) => i.state).concat(carried ? [carried.state] : []);
    const scale = stateScale(states);
    const xs = [], ys = [], labels = [];
    if (carried && win.from < until) { xs.push(win.from / 1000); ys.push(scale.value(carried.state)); labels.push(carried.state); }
    for (const item of items) { xs.push(item.ts / 1000); ys.push(scale.value(item.state)); labels.push(item.state); }
    if (xs.length && until / 1000 > xs[xs.length - 1]) { xs.push(until / 1000); ys.push(ys[ys.length - 1]); labels.push(labels[labels.length - 1]); }
    return { kind: "state", name, xs, ys: [ys], labels, scale };
  }
  function rawNumericSeries(name, items) {
    const [xs, ys] = withGaps(items.map((i) => i.ts / 1000), items.map((i) => i.value));
    return { kind: "numeric", name, xs, ys: [ys] };
  }
  // Buckets: ON/OFF as the share of known time ON; other states as the longest one.
  function bucketStateSeries(name, items) {
    const onOff = items.every((i) => Object.keys(i.state_seconds).every((s) => s === "ON" || s === "OFF"));
    const xs = items.map((i) => i.ts / 1000);
    if (onOff) {
      const ys = items.map((i) => (i.known_seconds ? (i.state_seconds.ON || 0) / i.known_seconds : null));
      return { kind: "share", name, xs, ys: [ys], items };
    }
    const longest = items.map((i) => Object.entries(i.state_seconds).sort((a, b) => b[1] - a[1])[0]?.[0] ?? i.last_state);
    const scale = stateScale(longest);
    return { kind: "state", name, xs, ys: [longest.map(scale.value)], labels: longest, scale, items };
  }
  function bucketNumericSeries(name, items) {
    const xs = items.map((i) => i.ts / 1000);
    return { kind: "band", name, xs, ys: [items.map((i) => i.min), items.map((i) => i.mean), items.map((i) => i.max)], items };
  }

  // --- Drawing ----------------------------------------------------------------------
  function lastAtOrBefore(xs, x) {
    let lo = 0, hi = xs.length - 1;
    if (hi < 0 || x < xs[0]) return null; // before the first known state
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (xs[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function hatchSilent(u) {
    if (!config.silentSince) return;
    const from = u.valToPos(config.silentSince / 1000, "x", true);
    const to = Math.min(u.bbox.left + u.bbox.width, u.valToPos(Date.now() / 1000, "x", true));
    if (from >= to) return;
    const left = Math.max(from, u.bbox.left);
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, u.bbox.top, to - left, u.bbox.height);
    ctx.clip();
    ctx.strokeStyle = "rgba(140, 149, 159, 0.45)";
    ctx.lineWidth = 1;
    for (let x = left - u.bbox.height; x < to; x += 8) {
      ctx.moveTo(x, u.bbox.top + u.bbox.height);
      ctx.lineTo(x + u.bbox.height, u.bbox.top);
    }
    ctx.stroke();
    ctx.restore();
    document.getElementById("silent-note").hidden = false;
  }

  function plotWidth(container) { return Math.max(280, container.clientWidth); }

  function makeChart(container, title, spec, win, color) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.channel = spec.name;
    box.innerHTML = `<h3></h3><div class="plot"></div>`;
    box.querySelector("h3").textContent = title;
    container.appendChild(box);
    const plot = box.querySelector(".plot");
    const xSeries = { value: (u, v) => (v == null ? "–" : `${formatTime(v * 1000)} ${offsetLabel(v * 1000)}`) };
    let series, scales = { x: { time: true, range: () => [win.from / 1000, win.to / 1000] } }, axes, bands;
    const days = win.to - win.from > 2 * 86400e3;
    const axisX = {
      space: 60,
      ...(days ? { incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400] } : {}),
      values: (u, splits) => splits.map((v) => { const p = wallParts(v * 1000); return days ? `${p.month}-${p.day}` : `${p.hour}:${p.minute}`; }),
    };
    if (spec.kind === "state") {
      const values = Object.keys(spec.scale.labels).map(Number);
      scales.y = { range: [Math.min(...values) - 0.2, Math.max(...values) + 0.2] };
      series = [xSeries, {
        label: spec.name, stroke: color, width: 2, fill: `${color}22`,
        paths: uPlot.paths.stepped({ align: 1 }),
        value: (u, v, si, idx) => (idx == null ? "–" : spec.labels[idx]),
      }];
      axes = [axisX, { values: (u, splits) => splits.map((v) => spec.scale.labels[v] ?? ""), splits: () => values }];
    } else if (spec.kind === "share") {
      scales.y = { range: [0, 1] };
      series = [xSeries, {
        label: `${spec.name} ON`, stroke: color, width: 2, fill: `${color}22`,
        paths: uPlot.paths.stepped({ align: 1 }),
        value: (u, v, si, idx) => (v == null ? "–" : `${Math.round(v * 100)}% (${formatDuration(spec.items[idx].state_seconds.ON || 0)})`),
      }];
      axes = [axisX, { values: (u, splits) => splits.map((v) => `${Math.round(v * 100)}%`) }];
    } else if (spec.kind === "band") {
      series = [xSeries,
        { label: "min", stroke: `${color}66`, width: 1, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
        { label: "mean", stroke: color, width: 2, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
        { label: "max", stroke: `${color}66`, width: 1, value: (u, v) => (v == null ? "–" : v.toFixed(2)) }];
      bands = [{ series: [3, 1], fill: `${color}22` }];
      axes = [axisX, {}];
    } else {
      series = [xSeries, { label: spec.name, stroke: color, width: 2, spanGaps: false, points: { show: spec.xs.length < 200 }, value: (u, v) => (v == null ? "–" : String(v)) }];
      axes = [axisX, {}];
    }
    const stepped = spec.kind === "state" || spec.kind === "share";
    const options = {
      width: plotWidth(plot), height: spec.kind === "state" || spec.kind === "share" ? 130 : 200,
      scales, series, axes, bands, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
      cursor: {
        drag: { x: false, y: false },
        // A stepped line's value under the cursor is its last point at or before it.
        ...(stepped ? { dataIdx: (u, seriesIdx, closestIdx, xValue) => lastAtOrBefore(u.data[0], xValue) } : {}),
      },
      hooks: { draw: [hatchSilent] },
    };
    const chart = new uPlot(options, [spec.xs, ...spec.ys], plot);
    chart.channel = spec.name;
    charts.push(chart);
    return chart;
  }

  function makeBars(container, name, items, color) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.channel = name;
    box.innerHTML = `<h3></h3><div class="plot"></div>`;
    box.querySelector("h3").textContent = `${name}: hours ON`;
    container.appendChild(box);
    const plot = box.querySelector(".plot");
    const xs = items.map((i) => i.ts / 1000);
    const hours = items.map((i) => (i.state_seconds.ON || 0) / 3600);
    const chart = new uPlot({
      width: plotWidth(plot), height: 160,
      scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      series: [
        { value: (u, v, si, idx) => (idx == null ? "–" : `${items[idx].date} (${items[idx].time_zone})`) },
        { label: "ON", stroke: color, fill: `${color}99`, paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false },
          value: (u, v, si, idx) => (idx == null ? "–" : formatDuration(items[idx].state_seconds.ON || 0)) },
      ],
      axes: [
        { incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400], values: (u, splits) => splits.map((v) => { const p = wallParts(v * 1000); return `${p.month}-${p.day}`; }) },
        { values: (u, splits) => splits.map((v) => `${v} h`) },
      ],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    }, [xs, hours], plot);
    chart.channel = name;
    charts.push(chart);
  }

  function clearCharts() {
    while (charts.length) charts.pop().destroy();
    document.getElementById("charts").replaceChildren();
    document.getElementById("bars").replaceChildren();
    document.getElementById("silent-note").hidden = true;
  }

  const RESOLUTION_NAMES = { raw: "raw events", hour: "hourly summaries", day: "daily summaries" };

  function drawHistory(answer, win) {
    const container = document.getElementById("charts");
    const groups = byChannel(answer.items);
    const carried = new Map((answer.before || []).map((b) => [b.channel, b]));
    for (const name of carried.keys()) if (!groups.has(name)) groups.set(name, []);
    const names = [...groups.keys()].sort((a, b) => {
      const sa = isStateChannel(a, groups.get(a)), sb = isStateChannel(b, groups.get(b));
      return sa === sb ? a.localeCompare(b) : sa ? -1 : 1;
    });
    const truncated = answer.items.length >= LIMIT;
    const until = truncated ? answer.items[answer.items.length - 1].ts : Math.min(win.to, Date.now());
    names.forEach((name, index) => {
      const items = groups.get(name);
      const color = COLORS[index % COLORS.length];
      let spec;
      if (answer.resolution === "raw") {
        spec = isStateChannel(name, items) ? rawStateSeries(name, items, carried.get(name), win, until) : rawNumericSeries(name, items);
      } else {
        spec = isStateChannel(name, items) ? bucketStateSeries(name, items) : bucketNumericSeries(name, items);
      }
      if (spec.xs.length) makeChart(container, name, spec, win, color);
    });
    if (!container.children.length) container.innerHTML = `<p class="muted">No data in this window.</p>`;
    const points = answer.items.length;
    statusLine.className = "status-line";
    const cut = answer.resolution === "raw"
      ? ` (the first ${LIMIT.toLocaleString()} events, up to ${formatTime(until)}: summaries of this window appear once the rollup job has run, every few minutes)`
      : " (limit reached: narrow the window)";
    statusLine.textContent = `${formatTime(win.from)} – ${formatTime(win.to)} · ${RESOLUTION_NAMES[answer.resolution]} · ${points.toLocaleString()} items${truncated ? cut : ""}`;
  }

  async function drawBars(win) {
    const from = Math.min(win.from, win.to - BAR_DAYS_MIN * 86400e3);
    const { answer } = await fetchHistory({ from: Math.round(from), to: Math.round(win.to), resolution: "day" });
    const container = document.getElementById("bars");
    const groups = byChannel(answer.items);
    let index = 0;
    for (const [name, items] of [...groups.entries()].sort()) {
      const onOff = items.length && items.every((i) => i.state_seconds && Object.keys(i.state_seconds).every((s) => s === "ON" || s === "OFF"));
      if (onOff) makeBars(container, name, items, COLORS[index++ % COLORS.length]);
    }
    document.getElementById("bars-note").textContent = container.children.length
      ? `Local days in ${zone}; today so far.` : "No ON/OFF channel has data in these days yet.";
  }

  let loading = 0;
  async function load() {
    const ticket = ++loading;
    const win = currentWindow();
    for (const button of document.querySelectorAll("[data-range]")) button.setAttribute("aria-pressed", String(button.dataset.range === win.label));
    const form = document.getElementById("custom-range");
    form.from.value = toWallInput(win.from);
    form.to.value = toWallInput(win.to);
    document.getElementById("zone-note").textContent = `Times in ${zone} (UTC${offsetLabel(win.to)})`;
    statusLine.textContent = "Loading…";
    const chartsBox = document.getElementById("charts");
    chartsBox.dataset.state = "loading";
    try {
      const { answer, query } = await fetchHistory({ from: Math.round(win.from), to: Math.round(win.to), resolution: "auto" });
      if (ticket !== loading) return;
      clearCharts();
      drawHistory(answer, win);
      // The CSV is exactly what is drawn: the same window and the resolution auto chose.
      query.set("resolution", answer.resolution);
      query.set("format", "csv");
      document.getElementById("csv-link").href = `${config.historyUrl}?${query}`;
      await drawBars(win);
      if (ticket === loading) chartsBox.dataset.state = "ready";
    } catch (error) {
      if (ticket !== loading) return;
      statusLine.className = "status-line error";
      statusLine.textContent = `Could not load the history: ${error.message}`;
      chartsBox.dataset.state = "error";
    }
  }

  document.querySelector(".ranges").addEventListener("click", (event) => {
    const button = event.target.closest("[data-range]");
    if (button) setWindow({ range: button.dataset.range });
  });
  document.getElementById("custom-range").addEventListener("submit", (event) => {
    event.preventDefault();
    const from = fromWallInput(event.target.from.value), to = fromWallInput(event.target.to.value);
    if (!(to > from)) {
      statusLine.className = "status-line error";
      statusLine.textContent = "'To' must be later than 'From'.";
      return;
    }
    setWindow({ from, to });
  });
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const chart of charts) chart.setSize({ width: plotWidth(chart.root.parentElement), height: chart.height });
    }, 150);
  });
  window.deviceCharts = charts; // for the browser tests and the curious
  load();
})();
