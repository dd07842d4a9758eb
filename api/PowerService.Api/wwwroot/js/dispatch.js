import { api, hub, requireRole, showError, showOffline, escape, slack, slackClass, countdown, nextDue, token, when, until, sendOnce, sending, rank, Band, degrees } from "./session.js";

// The console loads a region's open orders as compact list rows (GET /api/work-orders, page by page), then keeps them
// live from the hub; a row is replaced only by a newer version of its order, so a page that arrives after a live
// update cannot roll it back. A storm's 10,000 open orders stay usable because only the most urgent rows are drawn,
// only what a message changed is drawn again (orders, crews or outages), and drawing is paced by its own cost.
const MaxRows = 300;
const MaxMapOrders = 2000;
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
// SLA alerts, newest first: the hub's, and those the loaded rows already show (see seedAlerts).
const alerts = [];
const MaxAlerts = 20;
// Alerts kept beyond those shown, to say how many more there are (113 orders warned in one second showed 20, no count).
const AlertsKept = 2000;
let watched = null;
let importing = null;
// What this tab watches survives a reload, as its sign-in does (tab storage): a reload showed every region and no rows.
const Kept = { region: "powerservice.console.region", state: "powerservice.console.state", kind: "powerservice.console.kind", search: "powerservice.console.search" };

const $ = id => document.getElementById(id);

requireRole(["dispatcher"], async user => {
  for (const s of ["Created", "Reserved", "Dispatched", "Accepted", "EnRoute", "OnSite", "CallbackPending", "Rejected", "Reopened"]) $("state-filter").add(new Option(s, s));
  for (const k of ["FaultRepair", "NewConnection", "MeterInstallation", "MeterVerification", "OnSiteSurvey", "Complaint", "Consultation", "Reconnection"]) $("kind-filter").add(new Option(k, k));
  $("region").value = sessionStorage.getItem(Kept.region) ?? "*";
  for (const [select, key] of [[$("state-filter"), Kept.state], [$("kind-filter"), Kept.kind]]) {
    const value = sessionStorage.getItem(key);
    if ([...select.options].some(o => o.value === value)) select.value = value;
  }
  $("search").value = sessionStorage.getItem(Kept.search) ?? "";
  $("state-filter").onchange = $("kind-filter").onchange = $("search").oninput = () => {
    sessionStorage.setItem(Kept.state, $("state-filter").value);
    sessionStorage.setItem(Kept.kind, $("kind-filter").value);
    sessionStorage.setItem(Kept.search, $("search").value);
    drawNow("orders");
  };

  const connection = hub("/hubs/dispatch");
  // The hub sends list rows (as GET /api/work-orders does); answers to this page's own calls are full orders (toRow).
  connection.on("orders", updates => { for (const u of updates) keep(u.order); queueDraw("orders"); });
  connection.on("crews", updates => {
    for (const c of updates) {
      // A crew moved to another region is told to the region it left too: this console lets it go (it went on offering
      // it as one of its own, with its old load, until reloaded).
      if (watched && watched !== "*" && c.profile.region !== watched) {
        crews.delete(c.id);
        $("picker-crews").querySelector(`tr[data-crew="${CSS.escape(c.id)}"]`)?.remove();
      } else keepCrew(c);
    }
    queueDraw("crews");
  });
  connection.on("outages", views => { for (const v of views) outages.set(v.id, toOutageRow(v)); queueDraw("outages"); });
  connection.on("plannedOutages", rows => {
    for (const p of rows) keepPlan(p);
    if (planView === "finished" && rows.some(isFinished)) loadPlanned().catch(showError);
    else drawPlanned();
  });
  connection.on("sla", news => addAlerts(news));
  connection.on("importProgress", p => {
    const step = p.stage === "uploading" ? `${(p.bytes / 1048576).toLocaleString(undefined, { maximumFractionDigits: 1 })} MB received` : `${p.rows.toLocaleString()} rows read`;
    if (importing) { if (!p.completed) $("import-status").textContent = `${p.stage === "uploading" ? "Uploading" : "Importing"} ${p.kind}: ${step}…`; }
    else if (p.by !== user.name) $("import-status").textContent = p.completed ? "" : `${p.by} is ${p.stage === "uploading" ? "uploading" : "importing"} ${p.kind}: ${step}…`;
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
      crewsLoaded.clear();
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
  // The hub is asked first, and the region remembered only once it took it: a region it refuses (65 characters, an
  // emoji's U+FE0F) was remembered before, then unwatched before every later Watch and refused again, and a reload
  // brought it back. Refused, the watch stays as it was.
  const watchRegion = async () => {
    const region = $("region").value.trim();
    await connection.invoke("Watch", region);
    if (watched !== null && watched !== region) {
      await connection.invoke("Unwatch", watched);
      orders.clear();
      crews.clear();
      crewsLoaded.clear();
      outages.clear();
      if (region !== "*") forgetAlertsOutside(region);
    }
    watched = region;
    sessionStorage.setItem(Kept.region, region);
    await loadOutages(region);
    if (region === "*") {
      $("loaded").textContent = "Watching every region: orders appear as they change. Enter a region to load all its open orders.";
      drawNow("orders", "crews");
      return;
    }
    for (const crew of await api("GET", `/api/crews?region=${encodeURIComponent(region)}`)) keepCrew(crew);
    await loadOrders(region);
    seedAlerts();
  };
  // Enter in the region box watches it, as the button does (the box said one region while the console showed another).
  $("region").onkeydown = event => { if (event.key === "Enter") { event.preventDefault(); $("watch").click(); } };
  $("watch").onclick = async () => {
    try { await watch(); showError(null); } catch (error) { showError(error); }
  };

  // Why a new order was refused, under the form, with the field it names marked and focused (location.latitude marks
  // the latitude box).
  const createRefused = (f, error) => {
    const said = $("create-status");
    said.textContent = error ? `Not created: ${error.message}` : "";
    said.hidden = !error;
    for (const input of f.elements) input.removeAttribute("aria-invalid");
    const field = error?.body?.field;
    const input = field && (f.elements[field] ?? f.elements[field.split(".").pop()] ?? f.elements[field.split(".")[0]]);
    if (input instanceof HTMLElement) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    if (error) said.scrollIntoView({ block: "nearest" }); // the form may end at the window's bottom edge
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
    if (f.latitude.value.trim() || f.longitude.value.trim()) {
      // Number("") is 0: a blank longitude put the order at longitude 0, 11,000 km away, and every console's map of
      // the region shrank to fit it. Both or neither.
      const [latitude, longitude] = [f.latitude.value, f.longitude.value].map(degrees);
      if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
        const error = new Error(`location: give both latitude and longitude in degrees (such as 20.05 and 110.33), or neither when the customer id gives the place.`);
        error.body = { field: Number.isFinite(latitude) ? "longitude" : "latitude" };
        showError(error);
        createRefused(f, error);
        return;
      }
      body.location = { latitude, longitude };
    }
    await sending(f, async () => {
      try {
        const order = await sendOnce("POST", "/api/work-orders", body, (attempt, of) => showError(new Error(`No answer yet: sending the new order again (${attempt} of ${of})…`)));
        keep(toRow(order)); drawNow("orders"); showError(null); createRefused(f, null); f.description.value = "";
      }
      catch (error) { showError(error); createRefused(f, error); }
    });
  };

  $("orders").onclick = event => {
    const button = event.target.closest("button[data-assign]");
    if (button) openPicker(button.dataset.assign);
  };
  $("picker-crews").onclick = event => {
    const button = event.target.closest("button[data-crew]");
    if (button) pickCrew(picking, button.dataset.crew);
  };
  $("picker-filter").oninput = filterPicker;
  $("picker-history-box").ontoggle = showHistory;
  $("picker-cancel").onsubmit = event => { event.preventDefault(); cancelOrder(picking, $("cancel-reason").value.trim()); };
  $("picker-merge").onsubmit = event => { event.preventDefault(); mergeOrder(picking, $("merge-into").value.trim()); };
  $("picker-callback").onclick = event => {
    const button = event.target.closest("button");
    if (!button) return;
    const note = $("callback-note").value.trim() || undefined;
    // With the version it was opened on: another agent's callback recorded meanwhile is a 409, not a second attempt.
    const version = decidedOn(picking);
    if (button.dataset.outcome) fromPicker(picking, "callback", { outcome: button.dataset.outcome, note, version }, "the callback", picking, false);
    else fromPicker(picking, "transitions", { action: "close", note: note ?? "closed without a callback", version }, "the close", picking);
  };
  $("picker-close").onclick = () => $("picker").close();
  $("picker").onclose = () => {
    // A refusal in the dialog is about the order it was open for: not left at the top of the page once it is closed
    // (it stayed there through later live updates, after the order had moved on).
    if (picking !== null && $("picker-error").textContent) showError(null);
    picking = null;
    (returnTo === null ? $("region") : orderRows.get(returnTo)?.querySelector("button"))?.focus();
  };
  // An alert finds its order in the list, wherever it ranks.
  $("alerts").onclick = event => {
    const item = event.target.closest("li[data-order]");
    if (!item) return;
    $("search").value = item.dataset.order;
    $("search").oninput();
  };

  $("outages").onclick = async event => {
    const restore = event.target.closest("button[data-restore]");
    if (restore) { restoreOutage(restore); return; }
    const button = event.target.closest("button[data-etr]");
    if (!button) return;
    const id = button.dataset.etr, input = button.previousElementSibling;
    if (!input.value) { showError({ message: `Choose the estimated restoration of ${id} first.` }); return; }
    button.disabled = true;
    try {
      const view = await api("POST", `/api/outages/${encodeURIComponent(id)}/etr`, { estimatedRestorationAt: localIso(input.value) });
      outages.set(view.id, toOutageRow(view));
      input.value = "";
      showError(null);
    } catch (error) { showError(error); }
    finally { button.disabled = false; drawNow("outages"); }
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
  await Promise.all([watch().catch(showError), loadPlanned().catch(showError)]);
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
  } else {
    // Blank is now, sent on this browser's clock: the silo's own "now" was quoted back in UTC.
    body = { at: localIso($("planned-at").value || new Date()) };
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
    plannedStart: localIso(form.start.value), plannedEnd: localIso(form.end.value), reason: form.reason.value, dryRun,
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

/// A datetime-local input's value as an ISO time on the browser's clock ("2026-12-08T09:00:00+08:00"). The silo
/// quotes times back on the clock they were sent on; toISOString() sent UTC, and a dispatcher in China read refusals
/// about "01:00 +00:00" for the 09:00 they had typed.
function localIso(value) {
  const at = new Date(value), offset = -at.getTimezoneOffset(), pad = n => String(n).padStart(2, "0");
  const zone = `${offset >= 0 ? "+" : "-"}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}${zone}`;
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
    location: o.location, due: nextDue(o.slaClocks), escalated: o.escalated, suspendedAt: o.suspendedAt, updatedAt: o.updatedAt, version: o.version,
    channel: o.channel, visit: o.visit ?? null,
    // As WorkOrderSummary has it: a row from an answer replaced the pushed one of the same version, and lost it.
    callbackRetryAt: o.state === "CallbackPending" ? o.callback?.nextAttemptAt ?? null : null };
}

function keep(row) {
  const held = orders.get(row.id);
  if (!held || row.version >= held.version) orders.set(row.id, row);
}

/// A full outage (hub, answers) or a list summary (GET /api/outages) as the row the console keeps.
function toOutageRow(o) {
  return { id: o.id, kind: o.kind, scope: o.scope, state: o.state, region: o.region, feederId: o.feederId, areas: o.transformerAreaIds, meters: o.meterIds,
    customers: o.affectedCustomers, important: typeof o.importantCustomers === "number" ? o.importantCustomers : o.importantCustomers.length,
    location: o.location, startedAt: o.startedAt, etr: o.estimatedRestorationAt, mergedCalls: o.mergedCalls, parent: o.parentOutageId,
    repair: o.repairOrderId ?? null, crewId: o.crewId ?? null };
}

async function loadOutages(region) {
  // Keyset pages: an outage restored while the board loads does not make the next page skip one still out.
  let token = null;
  do {
    const page = await api("GET", `/api/outages?active=true&take=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ""}${region === "*" ? "" : `&region=${encodeURIComponent(region)}`}`);
    for (const o of page.items) if (!outages.has(o.id)) outages.set(o.id, toOutageRow(o));
    token = page.continuationToken;
  } while (token);
  drawNow("outages");
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
  draw(true);
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
      $("import-status").textContent = `Imported ${file.name} (${kind}): ${body.rows.toLocaleString()} rows — ${body.inserted.toLocaleString()} new, ${body.updated.toLocaleString()} updated, ${body.unchanged.toLocaleString()} unchanged.`
        + (body.notes || []).map(note => ` ${note}.`).join("");
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

// Countdowns move every second without redrawing rows; a row turning amber or red is ranked again.
function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("#outages td.etr")) {
    const outage = outages.get(cell.parentElement.dataset.outage);
    if (outage) setText(cell, etrText(outage, now));
  }
  let moved = false;
  for (const cell of document.querySelectorAll("#orders td.sla")) {
    const order = orders.get(cell.parentElement.dataset.order);
    if (!order) continue;
    const s = slack(order, now), className = `sla ${slackClass(s, order, now)}`;
    setText(cell, countdown(s, order));
    if (cell.className !== className) { cell.className = className; moved = true; }
  }
  if (moved) queueDraw("orders");
  // A shift starting or ending reports nothing: the crews' shift column is read again every minute.
  if (now - crewsDrawnAt > 60000) queueDraw("crews");
}

// What changed since the last draw: "orders", "crews", "outages". A hub message draws again only what it changed, at
// most once per animation frame, and the next draw waits three times as long as this one took, so a busy feed keeps
// the tab at most a quarter busy drawing. Rows, crews and map points are kept and changed in place, not drawn anew:
// with 10,000 orders and 200 crews, laying out a page drawn anew (10,000 layout objects) was most of each update.
const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
const changed = new Set();
let scheduled = false;
let settling = false;
let nextDrawAt = 0;
let paced = null;

function queueDraw(...what) {
  for (const w of what) changed.add(w);
  if (!scheduled && !settling) schedule(nextDrawAt - performance.now());
}

/// What the dispatcher did (a filter, a search, an assignment) is drawn in the next frame, not at the feed's pace.
function drawNow(...what) {
  for (const w of what) changed.add(w);
  if (paced !== null) { clearTimeout(paced); frame(); }
  else if (!scheduled) schedule(0);
}

function schedule(wait) {
  scheduled = true;
  if (wait > 0) paced = setTimeout(frame, wait); else frame();
}

function frame() {
  paced = null;
  requestAnimationFrame(() => { scheduled = false; draw(); });
}

function draw(all = false) {
  const started = performance.now();
  // The frame's style, layout and paint follow this in the same task, and cost more than the script: the pace counts
  // them, measured when the task is over.
  settling = true;
  setTimeout(() => {
    settling = false;
    const ended = performance.now();
    nextDrawAt = ended + 3 * (ended - started);
    if (changed.size && !scheduled) schedule(nextDrawAt - performance.now());
  });
  const what = all ? new Set(["orders", "crews", "outages"]) : new Set(changed);
  changed.clear();
  if (what.has("orders")) drawOrders();
  if (what.has("crews")) drawCrews();
  if (what.has("outages")) drawOutages();
  drawMap(what);
  if (picking !== null && (what.has("crews") || what.has("orders"))) refreshPicker();
}

// The drawn rows by order id.
const orderRows = new Map();

/// The order's row, made once and changed when the order (a newer row) or its countdown changed.
function orderRow(o, s) {
  let tr = orderRows.get(o.id);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.order = o.id;
    tr.innerHTML = `<td>${escape(o.id)}</td><td></td><td><span></span> <small class="escalated"></small> <small class="visit"></small></td><td></td><td></td><td></td><td class="muted"></td>
      <td><button data-assign="${escape(o.id)}" aria-label="assign ${escape(o.id)}">Assign…</button></td>`;
    orderRows.set(o.id, tr);
  }
  const cells = tr.children, changed = tr.row !== o;
  if (changed) {
    tr.row = o;
    setText(cells[1], o.kind);
    setText(cells[2].firstElementChild, o.state);
    // Escalated on a breach, and staying so: once the crew arrived its row showed the next clock in green, and a
    // supervisor could not tell it from any other order without opening each.
    setText(cells[2].children[1], o.escalated ? "escalated" : "");
    const visit = cells[2].lastElementChild;
    setText(visit, o.visit ? `visit ${visitText(o.visit)}${o.visit.calledOff ? " called off" : o.visit.unansweredSince ? " not accepted" : ""}` : "");
    visit.classList.toggle("late", !!o.visit?.calledOff || !!o.visit?.unansweredSince);
    setText(cells[3], o.priority);
    cells[3].className = `priority-${o.priority}`;
  }
  // The crew's shift changes without the order: looked at on every draw.
  const heldOff = !!o.crewId && HeldStates.has(o.state) && offCrews.has(o.crewId);
  if (changed || tr.heldOff !== heldOff) {
    tr.heldOff = heldOff;
    setText(cells[5], o.crewId ? `${o.crewId}${heldOff ? " · off shift" : ""}` : "—");
    cells[5].className = heldOff ? "late" : "";
  }
  if (changed) {
    setText(cells[6], o.customerId ?? "—");
    // A repaired order's dialog records its callback: the button says so ("Assign…" offered what could only fail).
    setText(cells[7].firstElementChild, o.state === "CallbackPending" ? "Callback…" : "Assign…");
  }
  const className = `sla ${slackClass(s, o)}`;
  if (cells[4].className !== className) cells[4].className = className;
  setText(cells[4], countdown(s, o));
  return tr;
}

/// A booked visit's slot on the browser's clock, compact: 12-08 10:00–11:00 (the end's date only when it is another day).
function visitText(v) {
  const start = when(v.start).slice(5);
  if (!v.end) return start;
  const end = when(v.end).slice(5);
  return `${start}–${end.slice(0, 5) === start.slice(0, 5) ? end.slice(6) : end}`;
}

/// Whether the order's id, customer or crew contains the text looked for (lower case).
const matches = (o, text) => o.id.toLowerCase().includes(text) || (o.customerId ?? "").toLowerCase().includes(text) || (o.crewId ?? "").toLowerCase().includes(text);

// The open orders the filters keep, ranked (the map draws them too).
let ranked = [];

function drawOrders() {
  const state = $("state-filter").value, kind = $("kind-filter").value, text = $("search").value.trim(), now = Date.now();
  const open = [];
  for (const o of orders.values()) if (!Terminal.has(o.state) && (!state || o.state === state) && (!kind || o.kind === kind)) open.push(o);
  ranked = rank(open, now);
  // Looked for among every loaded row, not only the drawn ones.
  const needle = text.toLowerCase(), shown = text ? ranked.filter(r => matches(r.o, needle)) : ranked;
  // The keyboard's place survives a row's move: the same order's Assign button.
  const focused = document.activeElement?.closest?.("#orders tr[data-order]")?.dataset.order;
  const body = $("orders"), rows = shown.slice(0, MaxRows).map(({ o, s }) => orderRow(o, s)), drawn = new Set(rows);
  for (const tr of [...body.children]) if (!drawn.has(tr)) { tr.remove(); orderRows.delete(tr.dataset.order); }
  rows.forEach((tr, i) => { if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null); });
  if (focused !== undefined && document.activeElement === document.body) orderRows.get(focused)?.querySelector("button")?.focus();
  const label = state || "open";
  $("more").textContent = text
    ? (shown.length
      ? `${shown.length.toLocaleString()} of ${ranked.length.toLocaleString()} ${label} orders match “${text}”${shown.length > MaxRows ? `; the ${MaxRows} most urgent shown` : ""}.`
      : `No ${label} order${kind ? ` of kind ${kind}` : ""} matches “${text}”.`)
    : ranked.length > MaxRows ? `Showing the ${MaxRows} most urgent of ${ranked.length.toLocaleString()} ${label} orders.` : "";
  counted = `${ranked.length.toLocaleString()} ${label} · ${ranked.filter(r => r.band === Band.late).length} late`;
  drawCounts();
}

let counted = "";
const drawCounts = () => { $("counts").textContent = `${counted} · ${crews.size.toLocaleString()} crews`; };

/// What a crew holds for work: an offer, or work accepted and not yet resolved.
const HeldStates = new Set(["Dispatched", "Accepted", "EnRoute", "OnSite"]);

/// The crews off shift now: declared so, or their shift over by the clock.
function offShiftCrews(now) {
  const off = new Set();
  for (const c of crews.values()) if (c.status === "OffShift" || !shiftOf(c, now).on) off.add(c.id);
  return off;
}

/// Crews off shift as of the last draw of the crews (on their changes, and every minute for shifts ending by the
/// clock): a row of work they hold says so.
let offCrews = new Set();

/// Keeps a crew with its shifts read once (a crew may publish up to 1,000; the picker and the table ask every draw).
function keepCrew(c) {
  c.shiftTimes = (c.profile.shifts ?? []).map(s => [Date.parse(s.start), Date.parse(s.end)]);
  crews.set(c.id, c);
}

/// The crew's shift now: { on, until } on a shift, else { on: false, next } (the next one's start, or null).
function shiftOf(c, now) {
  let next = null;
  for (const [start, end] of c.shiftTimes) {
    if (start <= now && now < end) return { on: true, until: end };
    if (start > now && (next === null || start < next)) next = start;
  }
  return { on: false, next };
}

const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();
/// 18:00 today, 12-08 06:00 another day (a shift lasts at most 31 days).
const clockText = (ms, now) => sameDay(ms, now) ? when(ms).slice(11) : when(ms).slice(5);

function shiftText(c, now) {
  const shift = shiftOf(c, now);
  if (shift.on) return `on until ${clockText(shift.until, now)}`;
  return shift.next === null ? "no shift ahead" : `off until ${clockText(shift.next, now)}`;
}

/// A crew's load as dispatch counts it (docs/workflow.md): what it works and is offered, not its visits booked for later
/// (Reserved until they are dispatched ahead of their slot). Counted in, a crew with visits booked for the week showed
/// "3/2" in red and "full" in the picker while dispatch rightly gave it work.
const load = c => c.currentOrders.length + c.queuedOrders.filter(id => orders.get(id)?.state !== "Reserved").length;

let crewsDrawnAt = 0;

function drawCrews() {
  const now = Date.now(), body = $("crews"), rows = new Map([...body.children].map(tr => [tr.dataset.crew, tr]));
  crewsDrawnAt = now;
  // A crew gone off shift (declared, or its shift over: the crews are drawn again every minute): the rows of the work
  // it holds say so, and the alerts list that work.
  const off = offShiftCrews(now), newlyOff = [...off].filter(id => !offCrews.has(id));
  const offChanged = newlyOff.length > 0 || off.size !== offCrews.size;
  offCrews = off;
  if (offChanged) {
    queueDraw("orders");
    if (newlyOff.length) alertHeldOffShift(new Set(newlyOff));
  }
  for (const [id, tr] of rows) if (!crews.has(id)) tr.remove();
  for (const c of crews.values()) {
    let tr = rows.get(c.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.crew = c.id;
      tr.innerHTML = `<td>${escape(c.id)}</td><td></td><td></td><td></td><td class="muted"></td>`;
      body.append(tr);
    }
    const cells = tr.children, full = load(c) >= c.profile.capacity, on = shiftOf(c, now).on;
    setText(cells[1], c.status);
    setText(cells[2], `${load(c)}/${c.profile.capacity}`);
    if (cells[2].classList.contains("late") !== full) cells[2].classList.toggle("late", full);
    setText(cells[3], shiftText(c, now));
    if (cells[3].classList.contains("muted") === on) cells[3].classList.toggle("muted", !on);
    setText(cells[4], `${c.location.latitude.toFixed(3)}, ${c.location.longitude.toFixed(3)}`);
  }
  drawCounts();
}

// ---- the crew picker ----

// One picker for every row: a row's Assign… opens it for that order, and it is filled then, for that order alone. A
// list of every crew in each of the 300 rows was 60,000 options rebuilt on every live update (202 crews: 385,000
// nodes, 6 s frozen at 2 new orders a second).
let picking = null;
let assigning = false;
// The order's version when the picker opened: what the dispatcher decided on. The picker is kept live, so the row's
// version at the click was already another dispatcher's newer one, and their assignment was silently overridden.
let seenVersion = null;
// The crew whose assignment would release the order's booked visit, asked once: its second click assigns.
let releasing = null;
// Where the keyboard goes when the picker closes: the order's row, or after a cancellation the next row's (null: the
// region field). The cancelled row is gone by then, and focus fell to the page's body.
let returnTo = null;

// The skill each kind of work needs, as dispatch reads it (DispatchScoring.SkillForKind, docs/workflow.md).
const SkillFor = {
  FaultRepair: "LowVoltageRepair", NewConnection: "Connection", MeterInstallation: "Metering", MeterVerification: "Metering",
  Reconnection: "Metering", OnSiteSurvey: "Survey", Complaint: "CustomerService", Consultation: "CustomerService",
};

/// What dispatch would hold against giving the crew this order (the dispatcher may still: an override is theirs).
function objections(c, order, now) {
  const found = [];
  if (c.status === "OffShift") found.push("declared off shift");
  else if (!shiftOf(c, now).on) found.push("outside its shifts");
  const skill = SkillFor[order?.kind];
  if (skill && !c.profile.skills.includes(skill)) found.push(`no ${skill}`);
  if (load(c) >= c.profile.capacity) found.push(`full ${load(c)}/${c.profile.capacity}`);
  if (order?.region && c.profile.region !== order.region) found.push(`works in ${c.profile.region}`);
  return found;
}

/// Straight-line km from the crew's last known place to the order's (what dispatch's travel time is made of).
function distanceKm(c, order) {
  if (!order?.location || !c.location) return null;
  const rad = Math.PI / 180, a = order.location, b = c.location;
  const h = Math.sin((b.latitude - a.latitude) * rad / 2) ** 2
    + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin((b.longitude - a.longitude) * rad / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

// Regions whose crews the every-region view ("*") has loaded for the picker: it watches every region's orders but loads
// no region's crews, so the picker offered "No crews known in this region yet." for every order and nothing could be
// assigned from the view the console opens in.
const crewsLoaded = new Set();

/// In the every-region view, the crews of the order's region are read once, when an order of it is first picked.
async function loadCrewsOf(orderId) {
  const region = orders.get(orderId)?.region;
  if (watched !== "*" || !region || crewsLoaded.has(region)) return;
  $("picker-count").textContent = `Loading the crews of ${region}…`;
  try {
    for (const crew of await api("GET", `/api/crews?region=${encodeURIComponent(region)}`)) keepCrew(crew);
    crewsLoaded.add(region);
  } catch (error) {
    if (picking === orderId) $("picker-error").textContent = `The crews of ${region} could not be read: ${error.message || error}`;
    return;
  }
  if (watched === "*" && picking === orderId && $("picker").open) {
    drawPickerRows(orderId);
    refreshPicker();
  }
  queueDraw("crews");
}

function openPicker(orderId) {
  picking = orderId;
  returnTo = orderId;
  releasing = null;
  seenVersion = orders.get(orderId)?.version ?? null;
  $("picker-filter").value = "";
  $("picker-error").textContent = "";
  $("cancel-reason").value = "";
  $("merge-into").value = "";
  $("callback-note").value = "";
  drawPickerRows(orderId);
  $("picker-history-box").open = false;
  $("picker-history").replaceChildren();
  showAbout(orderId);
  refreshPicker();
  if (!$("picker").open) $("picker").showModal();
  // Nearest first is only seen from the top: the list kept the last picker's scroll, the nearest crews hidden above.
  document.querySelector("#picker .picker-list").scrollTop = 0;
  loadCrewsOf(orderId);
}

/// Crews dispatch would send first (nothing held against them), nearest first; the rest after, nearest first. The
/// order is set here only: live updates change a row's cells, never its place, so a click never lands on another crew.
function drawPickerRows(orderId) {
  const order = orders.get(orderId), now = Date.now();
  const choices = [...crews.values()].map(c => ({ c, against: objections(c, order, now).length, km: distanceKm(c, order) }))
    .sort((a, b) => (a.against > 0) - (b.against > 0) || (a.km ?? Infinity) - (b.km ?? Infinity) || (a.c.id < b.c.id ? -1 : 1));
  $("picker-crews").replaceChildren(...choices.map(({ c }) => pickerRow(c)));
}

/// What the row does not say: the order's description (a dispatcher deciding whether a call is a duplicate to cancel
/// must read it), how it came in, its customer and area, whether it is escalated, and when an open offer lapses.
async function showAbout(orderId) {
  const about = $("picker-about");
  about.textContent = "Loading the order…";
  try {
    const o = await api("GET", `/api/work-orders/${encodeURIComponent(orderId)}`);
    if (picking !== orderId) return; // the picker moved on to another order meanwhile
    const facts = [
      `reported ${when(o.createdAt)} via ${o.channel}`,
      o.customerId ? `customer ${o.customerId}` : null,
      o.transformerAreaId ? `area ${o.transformerAreaId}` : null,
      o.escalated ? "escalated" : null,
      o.offerExpiresAt ? `offer lapses ${when(o.offerExpiresAt)} unless accepted` : null,
    ].filter(Boolean);
    about.innerHTML = `<span class="description">${escape(o.description)}</span><br><span class="muted">${escape(facts.join(" · "))}</span>`;
  } catch (error) {
    if (picking === orderId) about.textContent = `The order could not be read: ${error.message || error}`;
  }
}

/// The order's journal, read when the dispatcher opens it: each step, when, by whom, and its note.
async function showHistory() {
  const orderId = picking, list = $("picker-history");
  if (!$("picker-history-box").open || !orderId) return;
  list.innerHTML = `<li class="muted">Loading…</li>`;
  try {
    const events = await api("GET", `/api/work-orders/${encodeURIComponent(orderId)}/history`);
    if (picking !== orderId) return;
    list.innerHTML = events.map(e => {
      let note = null, crew = null;
      try { ({ note = null, crewId: crew = null } = JSON.parse(e.payloadJson) ?? {}); } catch { /* a payload without a note */ }
      // Which crew it was offered to or taken from: "OfferExpired · system" did not say who let it lapse.
      return `<li><span class="muted">${escape(when(e.at))}</span> ${escape(e.type)}${crew ? ` ${escape(crew)}` : ""}${e.actor ? ` · ${escape(e.actor)}` : ""}${note ? ` — ${escape(note)}` : ""}</li>`;
    }).join("") || `<li class="muted">Nothing journaled.</li>`;
  } catch (error) {
    if (picking === orderId) list.innerHTML = `<li class="refusal">${escape(error.message || String(error))}</li>`;
  }
}

function pickerRow(c) {
  const tr = document.createElement("tr");
  tr.dataset.crew = c.id;
  tr.innerHTML = `<td></td><td></td><td></td><td></td><td></td><td></td><td><button type="button" data-crew="${escape(c.id)}"></button></td>`;
  return tr;
}

/// The picker's rows as the crews and the order are now; crews new since it opened are added at the end.
function refreshPicker() {
  const order = orders.get(picking), now = Date.now(), body = $("picker-crews");
  const listed = new Set([...body.children].map(tr => tr.dataset.crew));
  for (const c of crews.values()) if (!listed.has(c.id)) body.append(pickerRow(c));
  const s = order && slack(order, now);
  $("picker-order").textContent = order
    ? `${order.kind} · ${order.priority} · ${order.state}${order.crewId ? ` with ${order.crewId}` : ""} · ${countdown(s, order)} · needs ${SkillFor[order.kind] ?? "—"}`
      + (order.visit ? ` · booked visit ${visitText(order.visit)} with ${order.visit.crewId}${order.visit.calledOff ? " called off" : ""}` : "")
      + (seenVersion !== null && order.version !== seenVersion ? " · changed since you opened it" : "")
    : "";
  for (const tr of body.children) {
    const c = crews.get(tr.dataset.crew);
    if (!c) continue;
    const against = objections(c, order, now), km = distanceKm(c, order), has = order?.crewId === c.id, cells = tr.children;
    cells[0].textContent = c.profile.name && c.profile.name !== c.id ? `${c.id} · ${c.profile.name}` : c.id;
    cells[1].textContent = c.status;
    cells[2].textContent = `${load(c)}/${c.profile.capacity}`;
    cells[3].textContent = shiftText(c, now);
    cells[4].textContent = km === null ? "—" : `${km.toFixed(1)} km`;
    cells[5].textContent = has ? "has it" : against.length ? against.join(" · ") : "✓";
    cells[5].className = against.length && !has ? "warn" : "ok";
    const button = cells[6].firstElementChild;
    button.textContent = has ? "Assigned" : releasing === c.id ? "Release visit and assign" : against.length ? "Assign anyway" : "Assign";
    button.disabled = has || assigning;
    button.className = against.length ? "anyway" : "";
  }
  // What can be done with the order as it is now: a repaired one waits for its callback (no crew, no cancel); an
  // open one is assigned, merged into the order it repeats or cancelled; one finished elsewhere (another console
  // cancelled or merged it) nothing — it offered "Assign anyway" for every crew, each a 409.
  const waitsForCallback = order?.state === "CallbackPending", over = !order || Terminal.has(order.state);
  if (over) $("picker-order").textContent = `${picking} is ${order ? order.state : "no longer open"} (changed elsewhere): nothing is left to do here.`;
  for (const button of body.querySelectorAll("button")) button.disabled ||= over;
  $("picker-title").textContent = waitsForCallback ? `Callback of ${picking}` : `Assign ${picking}`;
  $("picker-callback").hidden = !waitsForCallback;
  for (const id of ["picker-merge", "picker-cancel"]) $(id).hidden = waitsForCallback || over;
  document.querySelector("#picker .picker-list").hidden = waitsForCallback;
  $("picker-filter").hidden = $("picker-count").hidden = waitsForCallback;
  for (const button of document.querySelectorAll("#picker-callback button, #picker-merge button, #picker-cancel button")) button.disabled = assigning;
  filterPicker();
}

function filterPicker() {
  const text = $("picker-filter").value.trim().toLowerCase();
  let shown = 0;
  for (const tr of $("picker-crews").children) {
    const c = crews.get(tr.dataset.crew);
    tr.hidden = !!text && !(tr.dataset.crew.toLowerCase().includes(text) || (c?.profile.name ?? "").toLowerCase().includes(text));
    if (!tr.hidden) shown++;
  }
  $("picker-count").textContent = crews.size ? `${shown} of ${crews.size} crews` : "No crews known in this region yet.";
}

/// The dispatcher's override; what dispatch would have held against the crew goes into the order's journal with it.
/// It names the order's version as drawn (another dispatcher's assignment since is a 409 saying so, not overwritten),
/// and "Assign anyway" forces what the silo refuses otherwise (a crew off shift or without the skill: called in).
async function assign(orderId, crewId) {
  const order = orders.get(orderId), crew = crews.get(crewId), against = crew ? objections(crew, order, Date.now()) : [];
  await fromPicker(orderId, "assign",
    { crewId, note: against.length ? `dispatcher override (${against.join(", ")})` : "dispatcher override", version: seenVersion ?? order?.version, force: against.length > 0 },
    "the assignment", crewId);
}

/// A crew picked for the order. Another crew than the one of the customer's booked visit releases the visit
/// (docs/workflow.md), which the console did without a word: that is said first, and the second click assigns.
function pickCrew(orderId, crewId) {
  const visit = orders.get(orderId)?.visit;
  if (visit && !visit.calledOff && visit.crewId !== crewId && releasing !== crewId) {
    releasing = crewId;
    $("picker-error").textContent = `${crewId}: ${orderId} has the customer's booked visit ${visitText(visit)} with ${visit.crewId}; `
      + `assigning ${crewId} releases it. Click “Release visit and assign” to go ahead.`;
    refreshPicker();
    return;
  }
  releasing = null;
  return assign(orderId, crewId);
}

/// Sends one of the picker's decisions on the order (its buttons disabled meanwhile); the answer's order replaces the
/// row and closes the picker, a refusal stays in it, prefixed with `who` it was about.
async function fromPicker(orderId, path, body, what, who, resend = true) {
  // Read before sending: the hub's news of a cancellation may remove the row before the answer comes.
  const next = rowAfter(orderId);
  assigning = true;
  refreshPicker();
  try {
    // A callback takes no request id, so it is not sent again by itself: a second attempt would be recorded twice.
    const order = resend
      ? await sendOnce("POST", `/api/work-orders/${encodeURIComponent(orderId)}/${path}`, body,
        (attempt, of) => showError(new Error(`No answer yet: sending ${what} of ${orderId} again (${attempt} of ${of})…`)))
      : await api("POST", `/api/work-orders/${encodeURIComponent(orderId)}/${path}`, body);
    keep(toRow(order));
    showError(null);
    if (picking === orderId) {
      if (Terminal.has(order.state)) returnTo = next;
      $("picker").close();
    }
  } catch (error) {
    $("picker-error").textContent = `${who}: ${error.message}`;
    showError(error);
    // Changed since the picker opened (another dispatcher): the order as it is now is shown, and what the dispatcher
    // decides next is decided on it.
    if (error.status === 409 && picking === orderId) await seeAgain(orderId);
  } finally {
    assigning = false;
    if (picking !== null) refreshPicker();
    drawNow("orders");
  }
}

/// The order as it is now, read again; the picker then stands on its version.
async function seeAgain(orderId) {
  try {
    keep(toRow(await api("GET", `/api/work-orders/${encodeURIComponent(orderId)}`)));
    if (picking === orderId) { seenVersion = orders.get(orderId).version; showAbout(orderId); } // its offer's deadline too
  } catch { /* the hub brings it; the refusal is what the dispatcher reads */ }
}

/// The order drawn after this one (or before it, when it is the last), or null when it is the only one.
function rowAfter(orderId) {
  const tr = orderRows.get(orderId);
  return (tr?.nextElementSibling ?? tr?.previousElementSibling)?.dataset.order ?? null;
}

/// A duplicate report, a customer who withdrew, work no longer needed: the order ends Cancelled, the reason in its
/// journal, its crew and booked visit released. Asked with a reason, as the journal is what a later reader has.
/// A duplicate call folded into the order it repeats: the customer's tracker says "Handled together with a related
/// repair" and links it, where a cancel said "Cancelled".
async function mergeOrder(orderId, into) {
  if (!into) {
    $("picker-error").textContent = `Name the order ${orderId} repeats (its id, WO-…).`;
    $("merge-into").focus();
    return;
  }
  await fromPicker(orderId, "transitions", { action: "merge", targetId: into, note: `duplicate of ${into}`, version: decidedOn(orderId) }, "the merge", orderId);
}

async function cancelOrder(orderId, reason) {
  if (!reason) {
    $("picker-error").textContent = `Say why ${orderId} is cancelled: the reason goes into its journal.`;
    $("cancel-reason").focus();
    return;
  }
  await fromPicker(orderId, "transitions", { action: "cancel", note: reason, version: decidedOn(orderId) }, "the cancellation", orderId);
}

/// The order's version the dispatcher decided on (the picker's when it is open for it): another dispatcher's change
/// since makes the action a 409, not a silent undoing of it (a cancel replaced an assignment made a moment before).
function decidedOn(orderId) {
  return (picking === orderId ? seenVersion : null) ?? orders.get(orderId)?.version;
}

// ---- outages, alerts, map ----

/// Supply is back and the dispatcher knows it before the meters say so (a crew on the radio): the first click arms the
/// button for five seconds, the second restores (customers still dark are not told, see docs/outages.md).
async function restoreOutage(button) {
  const id = button.dataset.restore;
  if (!button.dataset.armed) {
    button.dataset.armed = "1";
    button.textContent = "Confirm restore";
    button.classList.add("anyway");
    setTimeout(() => { delete button.dataset.armed; button.textContent = "Restore…"; button.classList.remove("anyway"); }, 5000);
    return;
  }
  button.disabled = true;
  try {
    const view = await sendOnce("POST", `/api/outages/${encodeURIComponent(id)}/restore`, {},
      (attempt, of) => showError(new Error(`No answer yet: sending the restoration of ${id} again (${attempt} of ${of})…`)));
    outages.set(view.id, toOutageRow(view));
    showError(null);
  } catch (error) { showError(error); }
  finally { button.disabled = false; drawNow("outages"); }
}

function etrText(o, now = Date.now()) { return o.etr ? `${when(o.etr)} (${until(o.etr, now)})` : "—"; }

function supplyText(o) {
  return o.scope === "Feeder" ? `${o.feederId} (${o.areas.length} areas)` : o.scope === "Meters" ? `${o.areas[0]} · ${o.meters.length} meters` : o.areas.join(", ");
}

// The active outages as drawn: each area outage of a feeder outage right under it (the map draws them too).
let activeOutages = [];

/// Rows are kept and updated in place, so a dispatcher typing an ETR is not interrupted by live updates. A feeder
/// outage counts the calls merged into its areas' outages, and an area outage under it shows the feeder's crew: one
/// fault, one repair.
function drawOutages() {
  const active = [...outages.values()].filter(o => o.state !== "Restored").sort((a, b) => b.customers - a.customers);
  const ids = new Set(active.map(o => o.id)), children = new Map();
  for (const o of active) if (o.parent && ids.has(o.parent)) children.set(o.parent, [...children.get(o.parent) ?? [], o]);
  const roots = active.filter(o => !o.parent || !ids.has(o.parent));
  activeOutages = roots.flatMap(o => [o, ...children.get(o.id) ?? []]);
  const body = $("outages"), shown = activeOutages.slice(0, MaxOutageRows), keep = new Set(shown.map(o => o.id));
  for (const tr of [...body.children]) if (!keep.has(tr.dataset.outage)) tr.remove();
  const rows = new Map([...body.children].map(tr => [tr.dataset.outage, tr]));
  shown.forEach((o, i) => {
    let tr = rows.get(o.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.outage = o.id;
      tr.innerHTML = `<td></td><td></td><td></td><td></td><td></td><td class="etr"></td><td></td><td></td>
        <td><div class="row"><input type="datetime-local" aria-label="ETR for ${escape(o.id)}"><button data-etr="${escape(o.id)}">Set ETR</button>
          ${o.kind === "Planned"
            // A planned outage ends with its plan's close-out (the actual end the customers' minutes count).
            ? `<span class="muted">restored by completing its plan</span>`
            : `<button data-restore="${escape(o.id)}" aria-label="restore ${escape(o.id)}">Restore…</button>`}</div></td>`;
    }
    const parent = ids.has(o.parent) ? outages.get(o.parent) : null, areas = children.get(o.id) ?? [];
    const calls = o.mergedCalls + areas.reduce((sum, a) => sum + a.mergedCalls, 0);
    const crewId = o.crewId ?? (parent && parent.repair === o.repair ? parent.crewId : null);
    const cells = tr.children, out = customersOut(o, areas);
    tr.classList.toggle("child", !!parent);
    cells[0].textContent = parent ? `↳ ${supplyText(o)}` : supplyText(o) + (o.parent ? " · part of " + o.parent : "");
    cells[0].title = parent ? `${o.id}, part of ${o.parent}` : o.id;
    cells[1].textContent = o.state;
    cells[1].className = `state-${o.state}`;
    // A feeder outage's count is every customer it cut; those still out are its area outages still listed.
    cells[2].textContent = out.customers === o.customers ? o.customers.toLocaleString() : `${out.customers.toLocaleString()} of ${o.customers.toLocaleString()}`;
    cells[2].title = areas.length ? "customers still out, of those the feeder outage cut" : "";
    cells[3].textContent = out.important === o.important ? (o.important ? o.important.toLocaleString() : "—") : `${out.important.toLocaleString()} of ${o.important.toLocaleString()}`;
    cells[4].textContent = when(o.startedAt);
    cells[5].textContent = etrText(o);
    cells[6].textContent = calls.toLocaleString();
    cells[6].title = areas.length ? `${o.mergedCalls} on the feeder outage, ${calls - o.mergedCalls} on its areas` : "";
    cells[7].textContent = o.repair ? `${o.repair}${crewId ? " · " + crewId : ""}` : "—";
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
  });
  // Meters of a nested or partial outage whose whole area is out again are counted with that area, not twice (an area
  // of 50 counted 63 out).
  const areasOut = new Set(active.filter(o => o.scope === "TransformerArea").flatMap(o => o.areas));
  const customers = roots.reduce((sum, o) => sum + (o.scope === "Meters" && o.areas.every(a => areasOut.has(a)) ? 0 : customersOut(o, children.get(o.id) ?? []).customers), 0),
    inside = active.length - roots.length;
  $("outage-counts").textContent = active.length
    ? `${roots.length.toLocaleString()} active outage${roots.length === 1 ? "" : "s"}${inside ? ` (${inside} area outage${inside === 1 ? "" : "s"} within them)` : ""} · ${customers.toLocaleString()} customers out${activeOutages.length > MaxOutageRows ? ` · showing the ${MaxOutageRows} largest` : ""}`
    : "No active outages.";
}

/// Customers (and important ones) still out: a feeder outage's are those of its area outages still active (its own
/// count is every customer it cut, and stayed so while its areas came back one by one); any other outage's, its own.
function customersOut(o, areas) {
  if (o.scope !== "Feeder" || !areas.length) return { customers: o.customers, important: o.important };
  return { customers: areas.reduce((sum, a) => sum + a.customers, 0), important: areas.reduce((sum, a) => sum + a.important, 0) };
}

/// SLA alerts, newest first, one per order, clock and kind (a reload or reconnection seeds what the hub already sent).
function addAlerts(news) {
  for (const a of news) {
    const same = alerts.findIndex(b => b.orderId === a.orderId && b.clock === a.clock && b.alert === a.alert);
    if (same >= 0) alerts.splice(same, 1);
    alerts.push(a);
  }
  alerts.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  alerts.length = Math.min(alerts.length, AlertsKept);
  drawAlerts();
}

/// The hub tells a warning or a breach once, when it happens: a console opened (or reloaded, or reconnected) later
/// lists those of the loaded rows whose promise is already broken or about to be, as the hub would have.
function seedAlerts() {
  const now = Date.now(), seeds = [];
  for (const o of orders.values()) {
    if (Terminal.has(o.state)) continue;
    // A booked visit its crew has not accepted, and work held by a crew that has gone off shift (declared, or its shift
    // over): the next shift's console listed neither, and the rows looked like any other work.
    if (o.visit?.unansweredSince && !o.visit.calledOff) {
      seeds.push({ orderId: o.id, region: o.region, alert: "VisitUnanswered", dueAt: o.visit.start, crewId: o.visit.crewId, at: o.visit.unansweredSince });
    }
    if (!o.due || o.suspendedAt) continue;
    const s = slack(o, now), due = Date.parse(o.due.dueAt);
    const base = { orderId: o.id, region: o.region, clock: o.due.clock, dueAt: o.due.dueAt, crewId: o.crewId };
    if (s.minutes < 0) seeds.push({ ...base, alert: "SlaBreached", at: o.due.dueAt });
    else if (s.warned) {
      const started = Date.parse(o.due.startedAt);
      seeds.push({ ...base, alert: "SlaWarned", at: o.due.warnAt ?? new Date(due - 0.2 * (due - started)).toISOString() });
    }
  }
  addAlerts(seeds);
  alertHeldOffShift();
}

/// Lists the work held by crews off shift now (of `crewIds` only, when given: the crews a live update changed), once
/// per order and crew: the next shift's console showed it as any other work until the SLA warned.
function alertHeldOffShift(crewIds = null) {
  const now = Date.now(), off = offShiftCrews(now), news = [];
  for (const o of orders.values()) {
    if (!o.crewId || !off.has(o.crewId) || !HeldStates.has(o.state) || (crewIds && !crewIds.has(o.crewId))) continue;
    if (alerts.some(a => a.alert === "HeldOffShift" && a.orderId === o.id && a.crewId === o.crewId)) continue;
    news.push({ orderId: o.id, region: o.region, alert: "HeldOffShift", crewId: o.crewId, state: o.state, at: new Date(now).toISOString() });
  }
  if (news.length) addAlerts(news);
}

function forgetAlertsOutside(region) {
  const kept = alerts.filter(a => a.region === region);
  alerts.splice(0, alerts.length, ...kept);
  drawAlerts();
}

// A booked visit is the customer's appointment: its crew not answering, or turning it down, is for a dispatcher to act on.
const VisitAlerts = {
  HeldOffShift: a => `${a.crewId} is off shift and holds it (${a.state}) — call the crew or reassign`,
  VisitUnanswered: a => `booked visit of ${when(a.dueAt)} not accepted by ${a.crewId ?? "its crew"} — call the crew or reassign`,
  VisitCalledOff: a => `booked visit of ${when(a.dueAt)} rejected by ${a.crewId ?? "its crew"} — the customer needs a new time`,
  // A clock still running at 150 % of its limit: the breach went to the grid manager, this goes to the supervisor.
  Escalated: a => `${a.clock ?? "SLA"} still open at 150 % of its limit — escalated to the region supervisor`,
};

function drawAlerts() {
  const more = alerts.length - MaxAlerts;
  $("alerts").innerHTML = alerts.length
    ? alerts.slice(0, MaxAlerts).map(a => `<li class="${a.alert === "SlaBreached" || a.alert === "VisitCalledOff" || a.alert === "Escalated" ? "late" : "warn"}" data-order="${escape(a.orderId)}" title="find ${escape(a.orderId)}">${escape(when(a.at))} ${escape(a.orderId)}: ${
      VisitAlerts[a.alert] ? escape(VisitAlerts[a.alert](a))
        : `${escape(a.clock ?? "SLA")} ${a.alert === "SlaBreached" ? "breached" : "due soon"}${a.dueAt ? ` (due ${escape(when(a.dueAt))})` : ""}`}</li>`).join("")
      + (more > 0 ? `<li class="muted">…and ${more.toLocaleString()} more: the order list ranks them at the top.</li>` : "")
    : `<li class="muted">None.</li>`;
}

const MapWidth = 420, MaxMapLabels = 60, LabelCharWidth = 6.3;

/// Which outages get a label on the map, and where: the biggest first, beside its circle (to its left where it would run
/// off the map), and only where it overlaps no label already placed. A feeder outage's 40 area outages wrote their
/// labels over each other into an unreadable blob that ran off the map's edge; every circle keeps its tooltip.
function mapLabels(outages, x, y, radius) {
  // Labels may cross other outages' circles (a feeder's areas in a row leave no room between them), never each other.
  const placed = [], labels = new Map();
  const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  for (const o of [...outages].sort((a, b) => b.customers - a.customers || (a.id < b.id ? -1 : 1))) {
    if (placed.length >= MaxMapLabels) break;
    const text = `${o.scope === "Feeder" ? o.feederId : o.areas[0]} · ${o.customers}`, width = text.length * LabelCharWidth;
    const cx = x(o.location.longitude), cy = y(o.location.latitude), r = radius(o);
    for (const right of [true, false]) {
      const left = right ? cx + r + 2 : cx - r - 2 - width, box = [left, cy - 8, left + width, cy + 5];
      if (left < 0 || left + width > MapWidth || placed.some(b => overlaps(b, box))) continue;
      placed.push(box);
      labels.set(o.id, { text, x: right ? left : left + width, anchor: right ? "start" : "end" });
      break;
    }
  }
  return labels;
}

// The map's scale; its layers (outages, orders, crews) are drawn again when their data changed or the scale moved.
let mapScale = "";

function drawMap(what) {
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  const include = p => {
    if (!p) return;
    if (p.latitude < minLat) minLat = p.latitude;
    if (p.latitude > maxLat) maxLat = p.latitude;
    if (p.longitude < minLon) minLon = p.longitude;
    if (p.longitude > maxLon) maxLon = p.longitude;
  };
  for (const o of activeOutages) include(o.location);
  for (const r of ranked) include(r.o.location);
  for (const c of crews.values()) include(c.location);
  const scale = `${minLat} ${maxLat} ${minLon} ${maxLon}`, rescaled = scale !== mapScale;
  mapScale = scale;
  if (minLat === Infinity) {
    for (const layer of ["map-outages", "map-orders", "map-crews"]) $(layer).innerHTML = "";
    return;
  }
  // A margin for the outage circles; a single point (or a column of them) sits in the middle.
  const x = lon => maxLon - minLon < 1e-9 ? 210 : 30 + (360 * (lon - minLon)) / (maxLon - minLon);
  const y = lat => maxLat - minLat < 1e-9 ? 160 : 290 - (260 * (lat - minLat)) / (maxLat - minLat);
  const colour = { ok: "#2ea043", warn: "#d29922", late: "#f85149", muted: "#8b98a5" };
  // Outages under the orders: one circle per outage at its area, sized by the customers it cuts.
  const radius = o => Math.min(30, 6 + 2 * Math.sqrt(o.customers));
  if (rescaled || what.has("outages")) {
    const drawn = activeOutages.slice(0, 2000), labels = mapLabels(drawn, x, y, radius);
    $("map-outages").innerHTML = drawn.map(o => `<g class="outage" data-outage="${escape(o.id)}"><circle cx="${x(o.location.longitude)}" cy="${y(o.location.latitude)}" r="${radius(o)}" fill="${OutageStates[o.state] ?? "#8b98a5"}" fill-opacity="${o.scope === "Feeder" ? 0.12 : 0.35}" stroke="${OutageStates[o.state] ?? "#8b98a5"}"><title>${escape(supplyText(o))} · ${escape(o.state)} · ${o.customers} customers</title></circle>` +
      (labels.has(o.id) ? `<text x="${labels.get(o.id).x}" y="${y(o.location.latitude) + 4}" text-anchor="${labels.get(o.id).anchor}" fill="#e6edf3" font-size="11">${escape(labels.get(o.id).text)}</text>` : "") + `</g>`).join("");
  }
  if (rescaled || what.has("orders")) {
    place($("map-orders"), ranked.slice(0, MaxMapOrders).map(({ o, s }) => [o.id, "circle", { cx: x(o.location.longitude), cy: y(o.location.latitude), r: 4, fill: colour[slackClass(s, o)] }]));
  }
  if (rescaled || what.has("crews")) {
    place($("map-crews"), [...crews.values()].map(c => [c.id, "rect", { x: x(c.location.longitude) - 4, y: y(c.location.latitude) - 4, width: 8, height: 8, fill: "#58a6ff" }]));
  }
}

/// The layer's shapes, one per [id, tag, attributes], each kept by id and changed only where it differs.
function place(layer, shapes) {
  const held = new Map([...layer.children].map(shape => [shape.dataset.id, shape])), wanted = new Set();
  for (const [id, tag, attributes] of shapes) {
    wanted.add(id);
    let shape = held.get(id);
    if (!shape) {
      shape = document.createElementNS("http://www.w3.org/2000/svg", tag);
      shape.dataset.id = id;
      shape.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "title")).textContent = id;
      layer.append(shape);
    }
    for (const name in attributes) {
      const value = String(attributes[name]);
      if (shape.getAttribute(name) !== value) shape.setAttribute(name, value);
    }
  }
  for (const [id, shape] of held) if (!wanted.has(id)) shape.remove();
}
