import { hub, requireRole, showError, escape } from "./session.js";

const history = [];
const $ = id => document.getElementById(id);
const mb = bytes => `${(bytes / 1048576).toFixed(0)} MB`;

requireRole(["operator", "dispatcher"], async () => {
  const connection = hub("/hubs/monitor");
  connection.on("stats", show);
  connection.onreconnecting(() => showError({ message: "Connection lost; reconnecting…" }));
  connection.onreconnected(() => showError(null));
  await connection.start();
});

function show(s) {
  history.push(s);
  if (history.length > 120) history.shift();
  $("calls").textContent = Math.round(s.callsPerSecond).toLocaleString();
  $("p99").textContent = `${s.callLatencyP99Ms.toFixed(2)} ms`;
  $("activations").textContent = s.activations.toLocaleString();
  $("queue").textContent = s.queueDepth.toLocaleString();
  $("errors").textContent = s.errorsPerSecond.toFixed(1);
  $("cpu").textContent = `${s.cpuPercent.toFixed(0)} %`;
  $("memory").textContent = mb(s.workingSetBytes);
  $("methods").innerHTML = s.methods.slice(0, 30).map(m => `<tr><td>${escape(m.method)}</td><td>${Math.round(m.callsPerSecond).toLocaleString()}</td><td class="${m.errorsPerSecond > 0 ? "late" : ""}">${m.errorsPerSecond.toFixed(1)}</td></tr>`).join("");
  $("types").innerHTML = Object.entries(s.activationsByType).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([type, n]) => `<tr><td>${escape(type)}</td><td>${n.toLocaleString()}</td></tr>`).join("");
  $("runtime").innerHTML = [
    ["reminders in memory", s.remindersInMemory.toLocaleString()],
    ["reminders fired/s", s.remindersFiredPerSecond.toFixed(1)],
    ["reminder lateness p99", `${s.reminderLatenessP99Ms.toFixed(1)} ms`],
    ["storage batches/s", s.storageBatchesPerSecond.toFixed(1)],
    ["items per batch", s.storageItemsPerBatch.toFixed(0)],
    ["batch commit", `${s.storageBatchMs.toFixed(1)} ms`],
    ["storage errors", s.storageErrors],
    ["managed heap", mb(s.managedHeapBytes)],
  ].map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("");
  const max = Math.max(1, ...history.map(h => h.callsPerSecond));
  const line = history.map((h, i) => `${(800 * i) / 119},${150 - (140 * h.callsPerSecond) / max}`).join(" ");
  $("chart").innerHTML = `<polyline points="${line}" fill="none" stroke="#58a6ff" stroke-width="2"/><text x="4" y="14" fill="#8b98a5">${Math.round(max).toLocaleString()}/s</text>`;
}
