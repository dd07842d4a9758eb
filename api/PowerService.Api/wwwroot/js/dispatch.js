import { api, hub, requireRole, showError, showOffline, escape, slack, slackClass, countdown, nextDue, token, when, until, sendOnce, sending } from "./session.js";

// The console loads a region's open orders as compact list rows (GET /api/work-orders, page by page), then keeps them
// live from the hub; a row is replaced only by a newer version of its order, so a page that arrives after a live
// update cannot roll it back. A storm's 10,000 open orders stay usable because only the most urgent rows are drawn,
// at most once per animation frame.
const MaxRows = 300;
const PageSize = 1000;
const Terminal = new Set(["Closed", "Cancelled", "Merged"]);
const orders = new Map();
const crews = new Map();
// Outages by id, as list rows. The hub's views replace a row; a page of GET /api/outages only fills ids not yet held,
// because the hub's view is never older than the list's (the board is told of a change after it is journaled).
const outages = new Map();
const OutageStates = { Suspected: "#d29922", Confirmed: "#f85149", CrewAssigned: "#db61a2" };
const MaxOutageRows = 200;
// The planned-outage calendar's upcoming plans by id. A row is replaced only by a newer version of its plan, and a plan
// that finished stays gone (its id and version are remembered), so a calendar page read before a live change cannot
// bring back an older row.
const plans = new Map();
const endedPlans = new Map();
const MaxPlanRows = 50;
let plansTotal = 0;
// "upcoming" (scheduled or under way, kept live) or "finished" (completed or cancelled, latest first, read again when
// a plan finishes).
let planView = "upcoming";
let finishedPlans = { total: 0, items: [] };
const alerts = [];
let drawQueued = false;
let watched = null;
let importing = null;

const $ = id => document.getElementById(id);

requireRole(["dispatcher"], async user => {
  for (const s of ["Created", "Reserved", "Dispatched", "Accepted", "EnRoute", "OnSite", "CallbackPending", "Rejected", "Reopened"]) $("state-filter").add(new Option(s, s));
  for (const k of ["FaultRepair", "NewConnection", "MeterInstallation", "MeterVerification", "OnSiteSurvey", "Complaint", "Consultation", "Reconnection"]) $("kind-filter").add(new Option(k, k));
  $("state-filter").onchange = $("kind-filter").onchange = queueDraw;

  const connection = hub("/hubs/dispatch");
  // The hub sends list rows (as GET /api/work-orders does); answers to this page's own calls are full orders (toRow).
  connection.on("orders", updates => { for (const u of updates) keep(u.order); queueDraw(); });
  connection.on("crews", updates => { for (const c of updates) crews.set(c.id, c); queueDraw(); });
  connection.on("outages", views => { for (const v of views) outages.set(v.id, toOutageRow(v)); queueDraw(); });
  connection.on("plannedOutages", rows => {
    for (const p of rows) keepPlan(p);
    if (planView === "finished" && rows.some(isFinished)) loadPlanned().catch(showError);
    else drawPlanned();
  });
  connection.on("sla", news => { alerts.unshift(...news.reverse()); alerts.length = Math.min(alerts.length, 20); drawAlerts(); });
  connection.on("importProgress", p => {
    if (importing) { if (!p.completed) $("import-status").textContent = `Importing ${p.kind}: ${p.rows.toLocaleString()} rows read…`; }
    else if (p.by !== user.name) $("import-status").textContent = p.completed ? "" : `${p.by} is importing ${p.kind}: ${p.rows.toLocaleString()} rows read…`;
  });
  connection.onreconnecting(() => showOffline("Live feed lost; reconnecting…"));
  // Changes made while the feed was down were never pushed: read the watched region again as at Watch (rows of orders
  // that finished meanwhile would otherwise stay, and new ones never come), and the calendar.
  connection.onreconnected(async () => {
    showOffline("Reconnected; reloading what changed meanwhile…");
    try {
      const region = watched;
      watched = null;
      orders.clear();
      crews.clear();
      outages.clear();
      if (region !== null) { $("region").value = region; await watch(); }
      await loadPlanned();
      // Read again in full: what failed while the feed was down (a watch cut off by the drop) is no longer the news.
      showOffline(null);
      showError(null);
    } catch (error) { showOffline(null); showError(error); }
  });
  // Watching is serialized behind the hub's start: a click on Watch while the page is still connecting (or while an
  // earlier watch is loading) runs once the one before it is done, with the region as it is then.
  let watching = connection.start();
  const watch = () => (watching = watching.catch(() => {}).then(watchRegion));
  const watchRegion = async () => {
    const region = $("region").value.trim();
    if (watched !== null && watched !== region) {
      await connection.invoke("Unwatch", watched);
      orders.clear();
      crews.clear();
      outages.clear();
    }
    watched = region;
    await connection.invoke("Watch", region);
    await loadOutages(region);
    if (region === "*") {
      $("loaded").textContent = "Watching every region: orders appear as they change. Enter a region to load all its open orders.";
      queueDraw();
      return;
    }
    for (const crew of await api("GET", `/api/crews?region=${encodeURIComponent(region)}`)) crews.set(crew.id, crew);
    await loadOrders(region);
  };
  $("watch").onclick = async () => {
    try { await watch(); showError(null); } catch (error) { showError(error); }
  };

  // A new connection's promised time depends on its category: asked for that kind only.
  $("create").kind.onchange = event => { $("create").connectionCategory.hidden = event.target.value !== "NewConnection"; };
  $("create").onsubmit = async event => {
    event.preventDefault();
    const f = event.target;
    const body = { kind: f.kind.value, description: f.description.value };
    if (f.kind.value === "NewConnection" && f.connectionCategory.value) body.connectionCategory = f.connectionCategory.value;
    if (f.customerId.value) body.customerId = f.customerId.value;
    if (f.region.value) body.region = f.region.value;
    if (f.latitude.value || f.longitude.value) body.location = { latitude: Number(f.latitude.value), longitude: Number(f.longitude.value) };
    await sending(f, async () => {
      try {
        const order = await sendOnce("POST", "/api/work-orders", body, (attempt, of) => showError(new Error(`No answer yet: sending the new order again (${attempt} of ${of})…`)));
        keep(toRow(order)); queueDraw(); showError(null); f.description.value = "";
      }
      catch (error) { showError(error); }
    });
  };

  $("orders").onclick = async event => {
    const button = event.target.closest("button[data-assign]");
    if (!button) return;
    const id = button.dataset.assign, crewId = button.previousElementSibling.value;
    button.disabled = true;
    try {
      const order = await sendOnce("POST", `/api/work-orders/${encodeURIComponent(id)}/assign`, { crewId, note: "dispatcher override" },
        (attempt, of) => showError(new Error(`No answer yet: sending the assignment of ${id} again (${attempt} of ${of})…`)));
      keep(toRow(order)); showError(null);
    }
    catch (error) { showError(error); }
    finally { button.disabled = false; queueDraw(); }
  };

  $("outages").onclick = async event => {
    const button = event.target.closest("button[data-etr]");
    if (!button) return;
    const id = button.dataset.etr, input = button.previousElementSibling;
    if (!input.value) { showError({ message: `Choose the estimated restoration of ${id} first.` }); return; }
    button.disabled = true;
    try {
      const view = await api("POST", `/api/outages/${encodeURIComponent(id)}/etr`, { estimatedRestorationAt: new Date(input.value).toISOString() });
      outages.set(view.id, toOutageRow(view));
      input.value = "";
      showError(null);
    } catch (error) { showError(error); }
    finally { button.disabled = false; queueDraw(); }
  };

  $("import").onsubmit = event => { event.preventDefault(); upload(event.target); };

  // 先算后停: "Check impact" asks for a dry run; "Schedule" plans it, and a plan the policy refuses says why.
  $("plan-check").onclick = () => sending($("plan"), () => plan($("plan"), true));
  $("plan").onsubmit = event => { event.preventDefault(); sending(event.target, () => plan(event.target, false)); };

  $("planned-view").onchange = event => { planView = event.target.value; loadPlanned().catch(showError); };
  // A plan is started, completed or cancelled from its row, at the actual time given (blank: now).
  $("planned").onclick = event => {
    const button = event.target.closest("button[data-act]");
    if (button) act(button);
  };

  setInterval(tick, 1000);
  // The calendar is read on opening (and on reconnecting); the hub keeps it live from then on.
  await Promise.all([watch(), loadPlanned().catch(showError)]);
});

/// Starts, completes or cancels the plan of a calendar row's button, and says what was recorded.
async function act(button) {
  const { act, plan } = button.dataset;
  const said = $("planned-status");
  let body = {};
  if (act === "cancel") {
    const reason = $("planned-reason").value.trim();
    if (!reason) {
      showError({ message: `Give the reason to cancel ${plan} first: the customers who were told are told again.` });
      $("planned-reason").focus();
      return;
    }
    body = { reason };
  } else if ($("planned-at").value) {
    body = { at: new Date($("planned-at").value).toISOString() };
  }
  button.disabled = true;
  try {
    const view = await api("POST", `/api/planned-outages/${encodeURIComponent(plan)}/${act}`, body);
    keepPlan(planRow(view));
    said.textContent = recorded(view);
    said.className = "";
    if (act === "cancel") $("planned-reason").value = "";
    $("planned-at").value = "";
    showError(null);
  } catch (error) {
    said.textContent = `${plan}: ${error.message}`;
    said.className = "problems";
    showError(error);
  } finally {
    button.disabled = false;
    drawPlanned();
  }
}

/// A deviation from the plan in minutes, in words: positive is late.
const late = minutes => Math.round(minutes) === 0 ? "on time" : `${Math.abs(Math.round(minutes))} min ${minutes > 0 ? "late" : "early"}`;
const minutesBetween = (from, to) => (Date.parse(to) - Date.parse(from)) / 60000;

/// What a start, completion or cancellation recorded, against the plan.
function recorded(view) {
  switch (view.status) {
    case "InProgress":
      return `${view.id} started ${when(view.actualStart)}, ${late(minutesBetween(view.plannedStart, view.actualStart))}; outage ${view.outageId} is on the map.`;
    case "Completed": {
      const c = view.closeOut;
      return `${view.id} completed: ${Math.round(c.actualMinutes)} min out against ${Math.round(c.plannedMinutes)} planned; `
        + `started ${late(c.startDeviationMinutes)}, ended ${late(c.endDeviationMinutes)}${c.overran ? " — overran the plan" : ""}.`;
    }
    case "Cancelled":
      return `${view.id} cancelled (${view.cancelReason}); the customers who were told are told again.`;
    default:
      return `${view.id}: ${view.status}.`;
  }
}

/// Plans an outage (or, as a dry run, only computes its impact) and says what the policy found.
async function plan(form, dryRun) {
  if (!form.reportValidity()) return;
  const ids = form.supply.value.split(",").map(s => s.trim()).filter(Boolean);
  const body = {
    kind: form.kind.value, ...(form.scope.value === "feeder" ? { feederId: ids[0] } : { transformerAreaIds: ids }),
    plannedStart: new Date(form.start.value).toISOString(), plannedEnd: new Date(form.end.value).toISOString(), reason: form.reason.value, dryRun,
  };
  // The dispatcher's journaled decision to go ahead although the repeated-outage or important-customer rule refuses
  // (the notice lead time cannot be overridden).
  if (form.overrideReason.value.trim()) body.overrideReason = form.overrideReason.value.trim();
  const said = $("plan-impact");
  try {
    const answer = dryRun ? await api("POST", "/api/planned-outages", body)
      : await sendOnce("POST", "/api/planned-outages", body, (attempt, of) => showError(new Error(`No answer yet: sending the plan again (${attempt} of ${of})…`)));
    const verdict = dryRun ? (answer.acceptable ? "Acceptable" : `Would be refused: ${answer.refusals.map(r => r.message).join(" ")}`) : `Scheduled ${answer.outage.id}`;
    said.textContent = `${verdict} — ${impactText(answer.impact)}${answer.warnings.length ? ` Warnings: ${answer.warnings.map(w => w.message).join(" ")}` : ""}`;
    said.className = answer.acceptable ? "" : "problems";
    showError(null);
    if (!dryRun) { keepPlan(planRow(answer.outage)); drawPlanned(); }
  } catch (error) {
    said.textContent = error.body?.impact ? `Refused: ${error.body.detail} — ${impactText(error.body.impact)}` : `Refused: ${error.message}`;
    said.className = "problems";
    showError(error);
  }
}

function impactText(impact) {
  return `${impact.affectedCustomers.toLocaleString()} customer(s) in ${impact.transformerAreaIds.length} area(s), `
    + `${impact.importantCustomers.length} important (${impact.criticalCustomers} critical), `
    + `${impact.repeatedOutageCustomerCount} already cut ${impact.repeatedOutageThreshold}+ times; customers told by ${when(impact.noticeDeadline)}.`;
}

/// The planned-outage calendar (GET /api/planned-outages): what is scheduled or under way, soonest first.
async function loadPlanned() {
  if (planView === "finished") {
    finishedPlans = await api("GET", `/api/planned-outages?status=finished&take=${MaxPlanRows}`);
    drawPlanned();
    return;
  }
  const page = await api("GET", `/api/planned-outages?take=${MaxPlanRows}`);
  const held = [...plans.values()];
  plans.clear();
  for (const p of [...page.items, ...held]) keepPlan(p);
  plansTotal = page.total;
  drawPlanned();
}

/// Keeps a calendar row unless an equal or newer version is held; a finished plan leaves the calendar.
function keepPlan(row) {
  if ((endedPlans.get(row.id) ?? -1) >= row.version) return;
  const held = plans.get(row.id);
  if (held && held.version > row.version) return;
  if (isFinished(row)) {
    endedPlans.set(row.id, row.version);
    if (held) { plans.delete(row.id); plansTotal--; }
    return;
  }
  if (!held) plansTotal++;
  plans.set(row.id, row);
}

const isFinished = p => p.status === "Completed" || p.status === "Cancelled";

function drawPlanned() {
  if (planView === "finished") {
    drawFinished();
    return;
  }
  const rows = [...plans.values()].sort((a, b) => Date.parse(a.plannedStart) - Date.parse(b.plannedStart) || a.id.localeCompare(b.id)).slice(0, MaxPlanRows);
  const action = p => p.status === "Scheduled"
    ? `<button data-act="start" data-plan="${escape(p.id)}">Start</button> <button data-act="cancel" data-plan="${escape(p.id)}">Cancel</button>`
    : p.status === "InProgress" ? `<button data-act="complete" data-plan="${escape(p.id)}">Complete</button>` : "";
  $("planned").innerHTML = rows.length
    ? rows.map(p => planCells(p, `${p.status}${p.actualStart ? ` since ${when(p.actualStart)}` : ""}`, `<td>${action(p)}</td>`)).join("")
    : `<tr><td colspan="8" class="muted">Nothing planned.</td></tr>`;
  const total = Math.max(plansTotal, plans.size);
  $("planned-count").textContent = total > rows.length ? `${total.toLocaleString()} planned; the ${rows.length} soonest shown.` : "";
}

/// Completed and cancelled plans, latest first, each with what actually happened against the plan.
function drawFinished() {
  const { items, total } = finishedPlans;
  const actual = p => p.status === "Cancelled" ? "called off"
    : `out ${when(p.actualStart)} – ${when(p.actualEnd)}: ${Math.round(minutesBetween(p.actualStart, p.actualEnd))} min against `
      + `${Math.round(minutesBetween(p.plannedStart, p.plannedEnd))} planned; started ${late(minutesBetween(p.plannedStart, p.actualStart))}, `
      + `ended ${late(minutesBetween(p.plannedEnd, p.actualEnd))}`;
  $("planned").innerHTML = items.length
    ? items.map(p => planCells(p, p.status, `<td class="wrap">${escape(actual(p))}</td>`)).join("")
    : `<tr><td colspan="8" class="muted">Nothing finished yet.</td></tr>`;
  $("planned-count").textContent = total > items.length ? `${total.toLocaleString()} finished; the ${items.length} latest shown.` : "";
}

/// One calendar row: the plan's cells with the status as given, then the last cell (its buttons, or what happened).
function planCells(p, status, last) {
  return `<tr data-planned="${escape(p.id)}"><td>${escape(p.id)}</td><td>${escape(p.feederId ?? p.transformerAreaIds.join(", "))}</td>`
    + `<td>${escape(p.kind)}</td><td>${escape(status)}</td><td>${escape(when(p.plannedStart))} – ${escape(when(p.plannedEnd))}</td>`
    + `<td>${p.affectedCustomers.toLocaleString()}</td><td>${p.importantCustomers}</td>${last}</tr>`;
}

/// A planned outage's view (an answer of this page's own calls) as its calendar row.
function planRow(v) {
  return { id: v.id, kind: v.kind, status: v.status, feederId: v.feederId, transformerAreaIds: v.transformerAreaIds, plannedStart: v.plannedStart,
    plannedEnd: v.plannedEnd, reason: v.reason, affectedCustomers: v.impact.affectedCustomers, importantCustomers: v.impact.importantCustomers.length,
    actualStart: v.actualStart, actualEnd: v.actualEnd, version: v.version };
}

/// A full order (from the hub or an answer) as the list row the index serves.
function toRow(o) {
  return { id: o.id, region: o.region, kind: o.kind, state: o.state, priority: o.priority, crewId: o.crewId, customerId: o.customerId,
    location: o.location, due: nextDue(o.slaClocks), escalated: o.escalated, suspendedAt: o.suspendedAt, updatedAt: o.updatedAt, version: o.version };
}

function keep(row) {
  const held = orders.get(row.id);
  if (!held || row.version >= held.version) orders.set(row.id, row);
}

/// A full outage (hub, answers) or a list summary (GET /api/outages) as the row the console keeps.
function toOutageRow(o) {
  return { id: o.id, scope: o.scope, state: o.state, region: o.region, feederId: o.feederId, areas: o.transformerAreaIds, meters: o.meterIds,
    customers: o.affectedCustomers, important: typeof o.importantCustomers === "number" ? o.importantCustomers : o.importantCustomers.length,
    location: o.location, startedAt: o.startedAt, etr: o.estimatedRestorationAt, mergedCalls: o.mergedCalls, parent: o.parentOutageId,
    repair: o.repairOrderId ?? null, crewId: o.crewId ?? null };
}

async function loadOutages(region) {
  let skip = 0;
  do {
    const page = await api("GET", `/api/outages?active=true&take=1000&skip=${skip}${region === "*" ? "" : `&region=${encodeURIComponent(region)}`}`);
    for (const o of page.items) if (!outages.has(o.id)) outages.set(o.id, toOutageRow(o));
    skip = page.nextSkip;
  } while (skip !== null && skip !== undefined);
  queueDraw();
}

/// Loads the region's open orders page by page and says how long loading and drawing took (docs/benchmarks.md).
async function loadOrders(region) {
  const started = performance.now();
  let next = null, loaded = 0;
  do {
    const page = await api("GET", `/api/work-orders?region=${encodeURIComponent(region)}&limit=${PageSize}${next ? `&continuationToken=${encodeURIComponent(next)}` : ""}`);
    for (const row of page.items) keep(row);
    loaded += page.items.length;
    next = page.continuationToken;
    $("loaded").textContent = `Loading open orders… ${loaded.toLocaleString()}`;
  } while (next);
  const fetched = performance.now();
  draw();
  const drawn = performance.now();
  const [loadMs, drawMs] = [Math.round(fetched - started), Math.round(drawn - fetched)];
  Object.assign($("loaded").dataset, { orders: loaded, loadMs, drawMs });
  $("loaded").textContent = `${loaded.toLocaleString()} open orders of ${region} loaded in ${loadMs} ms, drawn in ${drawMs} ms.`;
}

/// Uploads one CSV file; progress comes from the hub's importProgress, problems are listed by line and column.
async function upload(form) {
  const kind = form.kind.value, file = form.file.files[0], button = form.querySelector("button");
  if (!file) return;
  $("import-errors").innerHTML = "";
  $("import-status").textContent = `Uploading ${file.name}…`;
  button.disabled = true;
  importing = kind;
  try {
    const response = await fetch(`/api/import/${encodeURIComponent(kind)}`, {
      method: "POST", headers: { authorization: `Bearer ${token()}`, "content-type": "text/csv" }, body: file,
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      $("import-status").textContent = `Imported ${file.name} (${kind}): ${body.rows.toLocaleString()} rows — ${body.inserted.toLocaleString()} new, ${body.updated.toLocaleString()} updated, ${body.unchanged.toLocaleString()} unchanged.`;
      return;
    }
    $("import-status").textContent = `${file.name} was not imported: ${body.detail || body.title || response.statusText}`;
    const errors = body.errors || [];
    $("import-errors").innerHTML = errors.map(e => `<li>line ${e.line}${e.column ? `, column ${escape(e.column)}` : ""}: ${escape(e.message)}</li>`).join("")
      + (body.errorCount > errors.length ? `<li>…and ${(body.errorCount - errors.length).toLocaleString()} more</li>` : "");
  } catch (error) {
    $("import-status").textContent = `${file.name} was not imported: ${error.message}`;
  } finally {
    importing = null;
    button.disabled = false;
  }
}

// Countdowns move every second without redrawing rows, so a dispatcher's half-made choice is never reset.
function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("#outages td.etr")) {
    const outage = outages.get(cell.parentElement.dataset.outage);
    if (outage) cell.textContent = etrText(outage, now);
  }
  for (const cell of document.querySelectorAll("#orders td.sla")) {
    const order = orders.get(cell.parentElement.dataset.order);
    if (!order) continue;
    const s = slack(order, now);
    cell.textContent = countdown(s, order);
    cell.className = `sla ${slackClass(s)}`;
  }
}

function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

// A dispatcher choosing a crew in a row: the table holds still while the row's list is open (a redraw would close it),
// at most HoldStill, then it catches up.
const HoldStill = 15000;
let choosingSince = 0;
document.addEventListener("focusin", event => { if (event.target.matches?.("#orders select")) choosingSince = Date.now(); });

function draw() {
  const state = $("state-filter").value, kind = $("kind-filter").value, now = Date.now();
  const choosing = document.activeElement?.matches?.("#orders select") && now - choosingSince < HoldStill;
  const open = [...orders.values()].filter(o => !Terminal.has(o.state) && (!state || o.state === state) && (!kind || o.kind === kind));
  const ranked = open.map(o => ({ o, s: slack(o, now) })).sort((a, b) => (a.s?.minutes ?? 1e9) - (b.s?.minutes ?? 1e9));
  const crewOptions = [...crews.values()].map(c => `<option value="${escape(c.id)}">${escape(c.id)} · ${escape(c.status)}</option>`).join("");
  const chosen = new Map([...document.querySelectorAll("#orders tr")].map(tr => [tr.dataset.order, tr.querySelector("select")?.value]));
  // The keyboard's place survives the redraw: the same control of the same order's row.
  const focused = document.activeElement?.closest?.("#orders tr[data-order]") ? document.activeElement : null;
  const focus = focused && { order: focused.closest("tr").dataset.order, tag: focused.tagName };
  if (choosing) setTimeout(queueDraw, 1000);
  else $("orders").innerHTML = ranked.slice(0, MaxRows).map(({ o, s }) => `
    <tr data-order="${escape(o.id)}">
      <td>${escape(o.id)}</td><td>${escape(o.kind)}</td><td>${escape(o.state)}</td><td>${escape(o.priority)}</td>
      <td class="sla ${slackClass(s)}">${escape(countdown(s, o))}</td><td>${escape(o.crewId ?? "—")}</td>
      <td><select aria-label="crew for ${escape(o.id)}">${crewOptions}</select><button data-assign="${escape(o.id)}" ${crews.size ? "" : "disabled"}>Assign</button></td>
    </tr>`).join("");
  for (const tr of document.querySelectorAll("#orders tr")) {
    const value = chosen.get(tr.dataset.order);
    if (value) tr.querySelector("select").value = value;
    if (focus && !choosing && tr.dataset.order === focus.order) tr.querySelector(focus.tag === "SELECT" ? "select" : "button")?.focus();
  }
  $("more").textContent = ranked.length > MaxRows ? `Showing the ${MaxRows} most urgent of ${ranked.length.toLocaleString()} open orders.` : "";
  $("counts").textContent = `${open.length.toLocaleString()} open · ${ranked.filter(r => r.s && r.s.minutes < 0).length} late · ${crews.size} crews`;
  $("crews").innerHTML = [...crews.values()].map(c => `
    <tr><td>${escape(c.id)}</td><td>${escape(c.status)}</td><td>${c.currentOrders.length + c.queuedOrders.length}/${c.profile.capacity}</td>
    <td class="muted">${c.location.latitude.toFixed(4)}, ${c.location.longitude.toFixed(4)}</td></tr>`).join("");
  const active = [...outages.values()].filter(o => o.state !== "Restored").sort((a, b) => b.customers - a.customers);
  drawOutages(active);
  drawMap(ranked, active);
}

function etrText(o, now = Date.now()) { return o.etr ? `${when(o.etr)} (${until(o.etr, now)})` : "—"; }

function supplyText(o) {
  return o.scope === "Feeder" ? `${o.feederId} (${o.areas.length} areas)` : o.scope === "Meters" ? `${o.areas[0]} · ${o.meters.length} meters` : o.areas.join(", ");
}

/// Rows are kept and updated in place, so a dispatcher typing an ETR is not interrupted by live updates.
function drawOutages(active) {
  const body = $("outages"), shown = active.slice(0, MaxOutageRows), keep = new Set(shown.map(o => o.id));
  for (const tr of [...body.children]) if (!keep.has(tr.dataset.outage)) tr.remove();
  const rows = new Map([...body.children].map(tr => [tr.dataset.outage, tr]));
  shown.forEach((o, i) => {
    let tr = rows.get(o.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.outage = o.id;
      tr.innerHTML = `<td></td><td></td><td></td><td></td><td></td><td class="etr"></td><td></td><td></td>
        <td><input type="datetime-local" aria-label="ETR for ${escape(o.id)}"><button data-etr="${escape(o.id)}">Set ETR</button></td>`;
    }
    const cells = tr.children;
    cells[0].textContent = supplyText(o) + (o.parent ? " · part of " + o.parent : "");
    cells[0].title = o.id;
    cells[1].textContent = o.state;
    cells[1].className = `state-${o.state}`;
    cells[2].textContent = o.customers.toLocaleString();
    cells[3].textContent = o.important ? o.important.toLocaleString() : "—";
    cells[4].textContent = when(o.startedAt);
    cells[5].textContent = etrText(o);
    cells[6].textContent = o.mergedCalls.toLocaleString();
    cells[7].textContent = o.repair ? `${o.repair}${o.crewId ? " · " + o.crewId : ""}` : "—";
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
  });
  const customers = active.reduce((sum, o) => sum + (o.parent ? 0 : o.customers), 0);
  $("outage-counts").textContent = active.length
    ? `${active.length.toLocaleString()} active outage${active.length === 1 ? "" : "s"} · ${customers.toLocaleString()} customers out${active.length > MaxOutageRows ? ` · showing the ${MaxOutageRows} largest` : ""}`
    : "No active outages.";
}

// A booked visit is the customer's appointment: its crew not answering, or turning it down, is for a dispatcher to act on.
const VisitAlerts = {
  VisitUnanswered: a => `booked visit of ${when(a.dueAt)} not accepted by ${a.crewId ?? "its crew"} — call the crew or reassign`,
  VisitCalledOff: a => `booked visit of ${when(a.dueAt)} rejected by ${a.crewId ?? "its crew"} — the customer needs a new time`,
};

function drawAlerts() {
  $("alerts").innerHTML = alerts.map(a => `<li class="${a.alert === "SlaBreached" || a.alert === "VisitCalledOff" ? "late" : "warn"}">${escape(when(a.at))} ${escape(a.orderId)}: ${
    VisitAlerts[a.alert] ? escape(VisitAlerts[a.alert](a))
      : `${escape(a.clock ?? "SLA")} ${a.alert === "SlaBreached" ? "breached" : "due soon"}${a.dueAt ? ` (due ${escape(when(a.dueAt))})` : ""}`}</li>`).join("");
}

function drawMap(ranked, active) {
  const points = [...active.map(o => o.location), ...ranked.map(r => r.o.location), ...[...crews.values()].map(c => c.location)].filter(Boolean);
  if (!points.length) { $("map").innerHTML = ""; return; }
  const lats = points.map(p => p.latitude), lons = points.map(p => p.longitude);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  // A margin for the outage circles; a single point (or a column of them) sits in the middle.
  const x = lon => maxLon - minLon < 1e-9 ? 210 : 30 + (360 * (lon - minLon)) / (maxLon - minLon);
  const y = lat => maxLat - minLat < 1e-9 ? 160 : 290 - (260 * (lat - minLat)) / (maxLat - minLat);
  const colour = { ok: "#2ea043", warn: "#d29922", late: "#f85149", muted: "#8b98a5" };
  // Outages first, under the orders: one circle per outage at its area, sized by the customers it cuts.
  const radius = o => Math.min(30, 6 + 2 * Math.sqrt(o.customers));
  $("map").innerHTML =
    active.slice(0, 2000).map(o => `<g class="outage" data-outage="${escape(o.id)}"><circle cx="${x(o.location.longitude)}" cy="${y(o.location.latitude)}" r="${radius(o)}" fill="${OutageStates[o.state] ?? "#8b98a5"}" fill-opacity="${o.scope === "Feeder" ? 0.12 : 0.35}" stroke="${OutageStates[o.state] ?? "#8b98a5"}"><title>${escape(supplyText(o))} · ${escape(o.state)} · ${o.customers} customers</title></circle>` +
      `<text x="${x(o.location.longitude) + radius(o) + 2}" y="${y(o.location.latitude) + 4}" fill="#e6edf3" font-size="11">${escape(o.scope === "Feeder" ? o.feederId : o.areas[0])} · ${o.customers}</text></g>`).join("") +
    ranked.slice(0, 2000).map(({ o, s }) => `<circle cx="${x(o.location.longitude)}" cy="${y(o.location.latitude)}" r="4" fill="${colour[slackClass(s)]}"><title>${escape(o.id)}</title></circle>`).join("") +
    [...crews.values()].map(c => `<rect x="${x(c.location.longitude) - 4}" y="${y(c.location.latitude) - 4}" width="8" height="8" fill="#58a6ff"><title>${escape(c.id)}</title></rect>`).join("");
}
