import { api, hub, requireRole, showOffline, escape, startFeed } from "./session.js";

const history = [];
const $ = id => document.getElementById(id);
const mb = bytes => `${(bytes / 1048576).toFixed(0)} MB`;

requireRole(["operator", "dispatcher"], async () => {
  const connection = hub("/hubs/monitor");
  connection.on("stats", show);
  connection.onreconnecting(() => showOffline("Connection lost; reconnecting…"));
  connection.onreconnected(() => showOffline(null));
  await startFeed(connection);
  $("quality-form").addEventListener("submit", event => { event.preventDefault(); loadIndicators(); });
  await loadIndicators();
  // Kept live as outages end and orders settle: read again every minute while the page is open.
  setInterval(loadIndicators, 60000);
});

// ---- service-quality indicators (GET /api/indicators, docs/indicators.md) ----

const number = (v, digits = 2) => (v == null ? "—" : v.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const count = v => (v == null ? "—" : v.toLocaleString("en-GB"));
const plural = (n, noun) => `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
const percent = (v, digits = 2) => (v == null ? "—" : `${(v * 100).toFixed(digits)} %`);

async function loadIndicators() {
  const form = $("quality-form");
  const query = new URLSearchParams();
  for (const name of ["region", "from", "to"]) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  try {
    const i = await api("GET", `/api/indicators${query.size ? `?${query}` : ""}`);
    $("quality-error").textContent = "";
    $("quality-error").classList.remove("shown");
    showIndicators(i);
  } catch (error) {
    // A region no feeder names, a month range backwards: said here, the figures shown before are cleared.
    $("quality-error").textContent = error.message || String(error);
    $("quality-error").classList.add("shown");
    $("indicators").innerHTML = "";
    $("quality-scope").textContent = "";
  }
}

function showIndicators(i) {
  const r = i.reliability;
  $("quality-scope").textContent =
    `${i.region === "*" ? "all regions" : i.region} · ${i.from === i.to ? i.from : `${i.from} to ${i.to}`} · ${plural(i.customersServed, "customer")} · as of ${new Date(i.asOf).toLocaleTimeString("en-GB")}`;
  const rows = [
    ["Outages", count(r.outages), `${plural(r.customerInterruptions, "customer interruption")}, ${number(r.customerInterruptionMinutes, 0)} customer-minutes`],
    ["SAIFI", number(r.saifi, 4), "interruptions per customer"],
    ["SAIDI", r.saidiMinutes == null ? "—" : `${number(r.saidiMinutes)} min`, `unplanned ${number(r.unplannedSaidiMinutes)} min, planned ${number(r.plannedSaidiMinutes)} min per customer`],
    ["CAIDI", r.caidiMinutes == null ? "—" : `${number(r.caidiMinutes)} min`, "minutes per interruption"],
    ["ASAI", percent(r.asai, 4), "availability"],
    ["On-time rate", percent(i.onTime.rate, 1), `${count(i.onTime.met)} promises met, ${count(i.onTime.breached)} breached`],
    ["Complaints", count(i.complaints.received), `${number(i.complaints.perMillionCustomers)} per million customers`],
    ["New connections", count(i.newConnections.completed), i.newConnections.averageWorkingDays == null ? "none completed" : `${number(i.newConnections.averageWorkingDays)} working days on average`],
    ["Repeated outages", count(i.repeatedOutages.customers), `customers cut ${i.repeatedOutages.threshold} times or more`],
    ["Callback satisfaction", percent(i.callbacks.satisfactionRate, 1), `${count(i.callbacks.satisfied)} satisfied, ${count(i.callbacks.dissatisfied)} dissatisfied, ${count(i.callbacks.unreachable)} unreachable`],
    ["Line loss", percent(i.lineLoss.lossRate), `${count(i.lineLoss.measuredPeriods)} area-periods measured, ${count(i.lineLoss.highLossPeriods)} high, ${count(i.lineLoss.excludedPeriods)} excluded`],
  ];
  $("indicators").innerHTML = rows.map(([name, value, detail]) =>
    `<tr data-indicator="${escape(name)}"><td>${escape(name)}</td><td class="big-cell">${escape(value)}</td><td class="muted">${escape(detail)}</td></tr>`).join("");
}

function show(s) {
  history.push(s);
  if (history.length > 120) history.shift();
  $("calls").textContent = Math.round(s.callsPerSecond).toLocaleString();
  // No call timed this second (one in 16 is): a dash, not a latency of 0.
  $("p99").textContent = s.callLatencyP99Ms > 0 ? `${s.callLatencyP99Ms.toFixed(2)} ms` : "—";
  $("activations").textContent = s.activations.toLocaleString();
  $("queue").textContent = s.queueDepth.toLocaleString();
  $("errors").textContent = s.errorsPerSecond.toFixed(1);
  $("refusals").textContent = s.refusalsPerSecond.toFixed(1);
  $("cpu").textContent = `${s.cpuPercent.toFixed(0)} %`;
  $("memory").textContent = mb(s.workingSetBytes);
  const ms = v => (v == null ? "—" : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`);
  $("methods").innerHTML = s.methods.slice(0, 30).map(m => `<tr><td>${escape(m.method)}</td><td>${Math.round(m.callsPerSecond).toLocaleString()}</td><td>${ms(m.latencyP50Ms)}</td><td>${ms(m.latencyP99Ms)}</td><td class="${m.errorsPerSecond > 0 ? "late" : ""}">${m.errorsPerSecond.toFixed(1)}</td><td>${m.refusalsPerSecond.toFixed(1)}</td></tr>`).join("");
  $("types").innerHTML = Object.entries(s.activationsByType).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([type, n]) => `<tr><td>${escape(type)}</td><td>${n.toLocaleString()}</td></tr>`).join("");
  $("runtime").innerHTML = [
    ["reminders in memory", s.remindersInMemory.toLocaleString()],
    ["reminders fired/s", s.remindersFiredPerSecond.toFixed(1)],
    ["reminder lateness p99", `${s.reminderLatenessP99Ms.toFixed(1)} ms`],
    ["storage batches/s", s.storageBatchesPerSecond.toFixed(1)],
    ["items per batch", s.storageItemsPerBatch.toFixed(0)],
    ["batch commit", `${s.storageBatchMs.toFixed(1)} ms`],
    ["storage errors", s.storageErrors],
    ["managed heap (with garbage not yet collected)", mb(s.managedHeapBytes)],
    ["live heap at the last full collection", s.liveHeapBytes == null ? "none yet" : mb(s.liveHeapBytes)],
  ].map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("");
  // What the grains never see: the API's own refusals and failures, and whether customers' notices go out.
  const rate = v => v.toFixed(1);
  $("http").innerHTML = [
    ["requests", s.http.requestsPerSecond, false],
    ["refused: bad or unknown (4xx)", s.http.rejectedPerSecond, false],
    ["refused: not signed in or not allowed (401, 403)", s.http.unauthorizedPerSecond, true],
    ["held back: rate limits, back-pressure (429, 503)", s.http.throttledPerSecond, true],
    ["failed (5xx)", s.http.serverErrorsPerSecond, true],
    ["notices queued", s.notices.enqueuedPerSecond, false],
    ["notices delivered", s.notices.deliveredPerSecond, false],
    ["notices failed (retried)", s.notices.failedPerSecond, true],
  ].map(([k, v, alarming]) => `<tr data-rate="${escape(k)}"><td>${k}</td><td class="${alarming && v > 0 ? "late" : ""}">${rate(v)}</td></tr>`).join("");
  chart("chart", [
    { name: "calls/s", color: "#58a6ff", value: h => h.callsPerSecond, format: v => Math.round(v).toLocaleString() },
    { name: "errors/s", color: "#f85149", value: h => h.errorsPerSecond, format: v => v.toFixed(1) },
    { name: "refusals/s", color: "#d29922", value: h => h.refusalsPerSecond, format: v => v.toFixed(1) },
  ]);
  chart("chart-latency", [
    { name: "p50", color: "#3fb950", value: h => h.callLatencyP50Ms, format: ms },
    { name: "p99", color: "#d29922", value: h => h.callLatencyP99Ms, format: ms },
  ], { shared: true });
  chart("chart-queue", [
    { name: "queue", color: "#58a6ff", value: h => h.queueDepth, format: v => Math.round(v).toLocaleString() },
    { name: "batch commit", color: "#d29922", value: h => h.storageBatchMs, format: ms },
  ]);
  chart("chart-memory", [
    { name: "CPU", color: "#3fb950", value: h => h.cpuPercent, format: v => `${v.toFixed(0)} %` },
    { name: "working set", color: "#58a6ff", value: h => h.workingSetBytes, format: mb },
    { name: "heap", color: "#a371f7", value: h => h.managedHeapBytes, format: mb },
  ]);
}

// One line per series over the last two minutes (120 snapshots), each scaled to its own maximum (shown in the legend
// with the latest value), so a series of milliseconds and one of megabytes share a chart and both stay readable;
// `shared` puts series of one unit (p50 and p99) on one scale.
function chart(id, series, { shared = false } = {}) {
  const width = 400, height = 120, charWidth = 5.6;
  // The legend first: items flow onto a new line when the next would not fit, and the lines start below them.
  let x = 4, y = 12;
  const placed = series.map(s => {
    const values = history.map(s.value);
    const max = Math.max(...(shared ? series.flatMap(t => history.map(t.value)) : values), 1e-9);
    const text = `${s.name} ${s.format(values[values.length - 1])} (max ${s.format(max)})`;
    if (x > 4 && x + text.length * charWidth > width) {
      x = 4;
      y += 13;
    }
    const item = { ...s, values, max, text, x, y };
    x += text.length * charWidth + 10;
    return item;
  });
  const top = y + 8;
  $(id).innerHTML = placed.map(l => {
    const points = l.values.map((v, i) => `${((width * i) / 119).toFixed(1)},${(height - 4 - ((height - top - 4) * v) / l.max).toFixed(1)}`).join(" ");
    return `<polyline points="${points}" fill="none" stroke="${l.color}" stroke-width="1.5"/>`;
  }).join("") + placed.map(l => `<text x="${l.x}" y="${l.y}" fill="${l.color}" font-size="10">${escape(l.text)}</text>`).join("");
}
