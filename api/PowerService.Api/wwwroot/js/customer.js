import { api, hub, requireRole, showError, showOffline, escape, slack, when, until, visitWindow, sendOnce, sending, startFeed, isRunning } from "./session.js";

const Steps = [["Created", "Received"], ["Dispatched", "Crew assigned"], ["Accepted", "Crew accepted"], ["EnRoute", "On the way"], ["OnSite", "Crew on site"], ["CallbackPending", "Repaired"], ["Closed", "Closed"]];
// A visit that repairs nothing (a meter check, a connection) ends "Done"; a question or a complaint is answered by the
// service, not by a crew on the way ("Received, a crew is being found" told a complainant a crew would come).
const StepsOf = kind =>
  kind === "Complaint" || kind === "Consultation" ? [["Created", "Received"], ["Dispatched", "Being handled"], ["CallbackPending", "Answered"], ["Closed", "Closed"]]
  : kind === "FaultRepair" ? Steps : Steps.map(([state, label]) => [state, state === "CallbackPending" ? "Done" : label]);
const Handled = new Set(["Complaint", "Consultation"]);
const HandledSays = {
  Created: "Received, being looked into", Rejected: "Received, being looked into", Reopened: "Reopened, being looked into",
  Dispatched: "Being handled", Accepted: "Being handled", EnRoute: "Being handled", OnSite: "Being handled",
  Resolved: "Answered", CallbackPending: "Answered; we will call you to check",
};
/// A state in the customer's words for this kind of request.
const sayState = o => (Handled.has(o.kind) && HandledSays[o.state]) || Says[o.state] || o.state;
const Rank = { Created: 0, Rejected: 0, Reopened: 0, Reserved: 0, Dispatched: 1, Accepted: 2, EnRoute: 3, OnSite: 4, Resolved: 5, CallbackPending: 5, Closed: 6 };
const $ = id => document.getElementById(id);
let followed = null;
// Outages cutting this customer's supply, by id: loaded on open, then kept from the hub's "outage" notices (a notice
// replaces the one held only when it is as new or newer).
const outages = new Map();
// Planned work that cuts this customer's supply, by id (GET /api/planned-outages, then the hub's "plannedOutage"
// notices, the newer version winning). A completed plan leaves the list (the outage notice told its end); one called
// off stays, so the customer sees that it will not happen.
const plans = new Map();
const PlanSays = { Scheduled: "Planned", InProgress: "Under way", Cancelled: "Called off" };
const OutageSays = { Suspected: "Power outage detected — a repair crew is being sent", Confirmed: "Power outage confirmed", CrewAssigned: "A repair crew is working on the outage" };

// What a customer is told of each state, in their words rather than the order's.
const Says = {
  Created: "Received, a crew is being found", Reserved: "Visit booked", Dispatched: "A crew has been assigned",
  Accepted: "The crew accepted", EnRoute: "The crew is on the way", OnSite: "The crew is on site", Rejected: "Received, a crew is being found",
  Reopened: "Reopened, a crew is being found", Resolved: "Done", CallbackPending: "Done; we will call you to check",
  Closed: "Closed", Cancelled: "Cancelled", Merged: "Handled with another request",
};
// A visit its booked crew turned down: the slot is free again, and the customer is asked for a new time.
const CalledOff = "Visit called off — it needs a new time";
const Waiting = new Set(["Created", "Rejected", "Reopened"]);
const Kinds = { FaultRepair: "Fault repair", NewConnection: "New connection", MeterInstallation: "Meter installation", MeterVerification: "Meter check", OnSiteSurvey: "Site survey", Complaint: "Complaint", Consultation: "Question", Reconnection: "Reconnection" };
// The customer's own requests by id (from GET /api/work-orders, then the hub's pushes).
const mine = new Map();
const Final = new Set(["Closed", "Cancelled", "Merged"]);
// Work a crew comes to do at a time the customer books; a fault is sent at once, a question or complaint answered by phone.
const Visited = new Set(["NewConnection", "MeterInstallation", "MeterVerification", "OnSiteSurvey", "Reconnection"]);
const bookable = o => Visited.has(o.kind) && (Waiting.has(o.state) || o.state === "Reserved");

requireRole(["customer"], async () => {
  const connection = hub("/hubs/customer");
  connection.on("orders", orders => {
    for (const o of orders) {
      keepMine(o);
      if (o.id === followed) show(o);
    }
    drawMine();
  });
  connection.on("outage", notice => { keepNewer(outages, notice); showOutage(); });
  connection.on("plannedOutage", notice => { keepNewer(plans, notice); showPlans(); });
  connection.onreconnecting(() => showOffline("Connection lost; reconnecting…"));
  // What changed while the feed was down was never pushed: read it again (an outage that ended meanwhile too).
  connection.onreconnected(async () => {
    showOffline(null);
    try {
      await Promise.all([loadOutages(true), loadPlans(), loadMine()]);
      if (followed) show(await api("GET", `/api/work-orders/${encodeURIComponent(followed)}`));
      showError(null);
    } catch (error) { showError(error); }
  });
  const follow = async id => {
    try { followed = id; show(await api("GET", `/api/work-orders/${encodeURIComponent(id)}`)); showError(null); history.replaceState(null, "", `?order=${encodeURIComponent(id)}`); }
    catch (error) { $("tracker").hidden = true; showError(error.status === 404 ? { message: `No order ${id} of yours was found.` } : error); }
  };
  $("find").onsubmit = event => { event.preventDefault(); follow(event.target.orderId.value.trim()); };
  // The id is a link (to copy or open in a new tab); a plain click follows the order in place.
  $("mine").onclick = event => {
    const row = event.target.closest("tr[data-order]");
    if (!row) return;
    event.preventDefault();
    follow(row.dataset.order);
  };
  $("report").onsubmit = async event => {
    event.preventDefault();
    const form = event.target;
    await sending(form, async () => { try {
      const report = { kind: form.kind.value, description: form.description.value.trim() };
      if (report.kind === "NewConnection") report.connectionCategory = form.connectionCategory.value;
      const created = await sendOnce("POST", "/api/work-orders", report,
        (attempt, of) => { $("reported").textContent = `No answer yet: sending your report again (${attempt} of ${of})…`; });
      form.description.value = "";
      keepMine(created);
      drawMine();
      // A repeat call about a fault already being repaired joins that repair: follow the one the crew works on.
      const target = created.state === "Merged" && created.mergedInto && mine.has(created.mergedInto) ? created.mergedInto : created.id;
      $("reported").textContent = target === created.id
        ? `Thank you — your request ${created.id} is received.`
        : `You already have an open repair (${target}); we added your call to it.`;
      showError(null);
      await follow(target);
    } catch (error) { $("reported").textContent = ""; showError(error); } });
  };
  // Booking a visit (预约): the free times of the crews able to do the work, then the one picked held and confirmed. The
  // tracker asked for a new time after a crew called a visit off, and the page had no way to give one.
  $("visit-times").onclick = async () => {
    const id = followed;
    $("visit-state").textContent = "Looking for free times…";
    $("visit-list").innerHTML = "";
    try {
      const times = await api("GET", `/api/bookings/times?orderId=${encodeURIComponent(id)}`);
      if (id !== followed) return;
      $("visit-state").textContent = times.length ? "Pick a time: the crew comes within it." : "No free visit time in the next two weeks: call 95598 and we will find one.";
      $("visit-list").innerHTML = times.map(t => `<button type="button" data-crew="${escape(t.crewId)}" data-start="${escape(t.start)}">${escape(visitWindow(t))}</button>`).join("");
      showError(null);
    } catch (error) { $("visit-state").textContent = ""; showError(error); }
  };
  $("visit-list").onclick = async event => {
    const picked = event.target.closest("button[data-start]");
    if (!picked) return;
    const id = followed, buttons = [...$("visit-list").querySelectorAll("button")];
    buttons.forEach(b => { b.disabled = true; });
    let hold = null;
    try {
      hold = await api("POST", "/api/bookings", { orderId: id, crewId: picked.dataset.crew, slotStart: picked.dataset.start });
      const booked = await api("POST", `/api/bookings/${encodeURIComponent(hold.id)}/confirm`);
      $("visit-list").innerHTML = "";
      $("visit-state").textContent = `Your visit is booked for ${visitWindow(booked.order.visit)}.`;
      showError(null);
      show(booked.order);
    } catch (error) {
      // Taken by someone else meanwhile, or the order moved on: the hold, if any, is let go; the error says why.
      if (hold) await api("DELETE", `/api/bookings/${encodeURIComponent(hold.id)}`).catch(() => {});
      showError(error);
      buttons.forEach(b => { b.disabled = false; });
    }
  };
  $("report").kind.onchange = event => { $("report").connectionCategory.hidden = event.target.value !== "NewConnection"; };
  // The controls above work from the moment the page shows; then the live feed, and the lists after it (a push while
  // they load is kept; versions decide).
  // A feed that cannot start (another tab holds the account's last live place) says so and retries; the lists load
  // anyway, and again once the feed is up.
  const loadAll = async () => {
    try { await loadOutages(); } catch (error) { showError(error); }
    try { await loadPlans(); } catch (error) { showError(error); }
    try { await loadMine(); } catch (error) { showError(error); }
  };
  await startFeed(connection, async () => { await loadAll(); if (followed) await follow(followed); });
  await loadAll();
  const fromUrl = new URLSearchParams(location.search).get("order");
  // The open request changed last (the list comes ranked by urgency: the page opened on an older request while the one
  // the customer had just put on hold ranked last).
  const open = [...mine.values()].filter(o => !Final.has(o.state)).sort((a, b) => Date.parse(b.updatedAt ?? 0) - Date.parse(a.updatedAt ?? 0))[0];
  if (fromUrl) { $("find").orderId.value = fromUrl; await follow(fromUrl); }
  else if (open) await follow(open.id);
  setInterval(() => { if (followed && window.lastOrder) show(window.lastOrder); showOutage(); }, 30000);
});

async function loadMine() {
  let token = null;
  do {
    const page = await api("GET", `/api/work-orders?limit=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ""}`);
    for (const o of page.items) keepMine(o);
    token = page.continuationToken;
  } while (token);
  // A request finished lately (done, withdrawn, or folded into an outage or another report) is still the customer's:
  // those of the last three days are listed with the open ones, also after a storm's thousands of other calls.
  const finished = await Promise.all(["Closed", "Cancelled", "Merged"].map(state => api("GET", `/api/work-orders?state=${state}&limit=100`)));
  for (const page of finished) for (const o of page.items) if (Date.now() - Date.parse(o.updatedAt) < FinishedShownFor) keepMine(o);
  drawMine();
}

const FinishedShownFor = 3 * 24 * 3600 * 1000;

function keepMine(o) {
  const held = mine.get(o.id);
  if (!held || (o.version ?? 0) >= (held.version ?? 0)) mine.set(o.id, { ...held, ...o });
}

function drawMine() {
  const rows = [...mine.values()].sort((a, b) => Date.parse(b.updatedAt ?? 0) - Date.parse(a.updatedAt ?? 0));
  $("mine").innerHTML = rows.length
    ? rows.map(o => `<tr data-order="${escape(o.id)}" class="${o.id === followed ? "followed" : ""}"><td><a href="?order=${encodeURIComponent(o.id)}">${escape(o.id)}</a></td><td>${escape(Kinds[o.kind] ?? o.kind)}</td><td>${escape(says(o))}</td></tr>`).join("")
    : `<tr><td class="muted">No requests yet.</td></tr>`;
}

/// What a request's state means to the customer, with the time of a booked visit.
function says(o) {
  if (calledOff(o)) return CalledOff;
  return o.state === "Reserved" && o.visit ? `Visit booked for ${visitWindow(o.visit)}` : sayState(o);
}

/// The order waits for a crew because its booked crew turned the visit down.
function calledOff(o) { return o.visit?.calledOff === true && Waiting.has(o.state); }

function show(order) {
  window.lastOrder = order;
  $("tracker").hidden = false;
  keepMine(order);
  drawMine();
  $("title").textContent = `${order.id} · ${Kinds[order.kind] ?? order.kind}`;
  const rank = Rank[order.state] ?? -1;
  const steps = StepsOf(order.kind), at = Math.max(-1, ...steps.map(([state], i) => (Rank[state] <= rank ? i : -1)));
  $("steps").innerHTML = steps.map(([state, label], i) => `<span class="${i < at ? "done" : i === at ? "now" : ""}" data-state="${state}">${escape(label)}</span>`).join("");
  // The arrival promise still open: after a reopen the first visit's (met) promise is history, not the new one.
  const arrival = (order.slaClocks || []).find(c => c.name === "Arrival" && isRunning(c));
  // A complaint's first promise is that someone contacts the customer (1 working day), not its answer (7): it read
  // "Promised by" the contact time, then jumped a week when the complaint was taken, and stayed a past time when late.
  const contact = (order.slaClocks || []).find(c => c.name === "Contact" && isRunning(c));
  const s = slack(order);
  $("eta").textContent =
    order.state === "Cancelled" ? "Cancelled" :
    order.state === "Merged" && order.outageId && order.mergedInto === order.outageId
      ? "Part of the power outage on your supply: its repair brings your power back (see the notice)" :
    order.state === "Merged" ? "Handled together with a related repair" :
    rank >= 5 ? (order.kind === "FaultRepair" ? "Power restored — thank you for your patience" : "Done — thank you for your patience") :
    rank === 4 ? "The crew is working on it" :
    order.suspendedAt ? `On hold as you asked, since ${when(order.suspendedAt)}: the promised times wait with it` :
    calledOff(order) ? `The crew cannot keep your visit booked for ${visitWindow(order.visit)}: please book a new time. Until then the next free crew will be sent.` :
    // Until the crew is on site the booked slot is the time the customer plans around (not a handling deadline).
    order.visit && !order.visit.calledOff ? `Visit booked for ${visitWindow(order.visit)}` :
    arrival && Date.parse(arrival.dueAt) < Date.now() ? `Running late: the crew was expected by ${when(arrival.dueAt)}; it is on its way as soon as it can be` :
    arrival ? `Crew expected by ${when(arrival.dueAt)}` :
    contact && Date.parse(contact.dueAt) < Date.now() ? `Running late: we should have contacted you by ${when(contact.dueAt)}; we will as soon as we can` :
    contact ? `We will contact you by ${when(contact.dueAt)}` :
    s && s.minutes < 0 ? `Running late: promised by ${when(Date.now() + s.minutes * 60000)}; it is being worked on` :
    s ? `Promised by ${when(Date.now() + s.minutes * 60000)}` : "";
  // A crew named on a withdrawn or merged order was let go of it.
  const crew = order.crewId && !Final.has(order.state) ? " · crew " + order.crewId : "";
  $("detail").textContent = `${calledOff(order) ? CalledOff : sayState(order)}${crew} · updated ${new Date(order.updatedAt).toLocaleTimeString("en-GB")}`;
  drawVisit(order);
}

/// The booking controls, for work a crew visits for while it waits for a crew or its visit is still ahead.
function drawVisit(order) {
  const can = bookable(order), shownFor = $("visit").dataset.order;
  $("visit").hidden = !can;
  // Times listed for another order, or for this one before it was booked, are not offered any more.
  if (!can || shownFor !== `${order.id}:${order.state}`) { $("visit-list").innerHTML = ""; if (shownFor && !shownFor.startsWith(`${order.id}:`)) $("visit-state").textContent = ""; }
  $("visit").dataset.order = `${order.id}:${order.state}`;
  $("visit-times").textContent = order.state === "Reserved" ? "Change the visit time" : "Choose a visit time";
}

async function loadOutages(again = false) {
  // A customer's list holds the notices of the outages on their supply (as the hub sends them).
  const page = await api("GET", "/api/outages?active=true");
  for (const o of page.items) keepNewer(outages, o);
  // What a reload needs to say "power is back in your area, not yet at your address": the area outage a nested one
  // continues, or, with none active, the one restored lately (a reload while the nested outage was still to open
  // showed nothing at all to a customer still in the dark).
  const parents = page.items.map(o => o.parentOutageId).filter(id => id && !outages.has(id));
  for (const o of await Promise.all(parents.map(id => api("GET", `/api/outages/${encodeURIComponent(id)}`).catch(() => null)))) {
    if (o) keepNewer(outages, o);
  }
  if (!page.items.length) {
    const ended = await api("GET", "/api/outages?active=false&take=3").catch(() => ({ items: [] }));
    for (const o of ended.items) if (o.restoredAt && Date.now() - Date.parse(o.restoredAt) < RestoredShownFor) keepNewer(outages, o);
  }
  if (again) {
    // Held as active but no longer listed: it ended while the page was not told; its notice says when.
    const listed = new Set(page.items.map(o => o.id));
    const ended = [...outages.values()].filter(o => o.state !== "Restored" && !listed.has(o.id));
    for (const o of await Promise.all(ended.map(o => api("GET", `/api/outages/${encodeURIComponent(o.id)}`).catch(() => null)))) {
      if (o) keepNewer(outages, o);
    }
  }
  showOutage();
}

// Restored outages asked whether this customer's own meter came back with its area (true: still dark), by id. The hub's
// notice goes to the whole area: "Power restored" was shown to customers whose supply was still off.
const ownSupplyOff = new Map();

async function askOwnSupply(outage) {
  ownSupplyOff.set(outage.id, false); // asked once; "restored" meanwhile, as before
  try {
    const read = await api("GET", `/api/outages/${encodeURIComponent(outage.id)}`);
    ownSupplyOff.set(outage.id, read.supplyStillOff === true);
    if (!read.supplyStillOff) return;
    showOutage();
    // Nothing is pushed when the meter alone comes back before a nested outage opens for it: asked again meanwhile.
    setTimeout(() => { if (ownSupplyOff.get(outage.id)) { ownSupplyOff.delete(outage.id); showOutage(); } }, OwnSupplyAskedAgain);
  } catch { /* the notice as pushed stands */ }
}
const OwnSupplyAskedAgain = 30000;

// How long after an outage ended a page opened or reloaded still says so (and whether this customer's supply is back).
const RestoredShownFor = 3600 * 1000;

/// Keeps an outage or plan notice unless a newer version of it is held.
function keepNewer(held, item) {
  const old = held.get(item.id);
  if (!old || item.version >= old.version) held.set(item.id, item);
}

/// One notice for the supply: an outage inside a larger active one (an area of a feeder outage) is told by the larger.
function showOutage() {
  const active = [...outages.values()].filter(o => o.state !== "Restored");
  const shown = active.filter(o => !(o.parentOutageId && active.some(p => p.id === o.parentOutageId)));
  const restored = [...outages.values()].filter(o => o.state === "Restored").sort((a, b) => Date.parse(b.restoredAt) - Date.parse(a.restoredAt));
  const section = $("outage");
  section.hidden = !shown.length && !restored.length;
  section.classList.toggle("restored", !shown.length);
  if (!shown.length) {
    if (restored.length) {
      const last = restored[0], stillOff = ownSupplyOff.get(last.id);
      if (stillOff === undefined) askOwnSupply(last);
      if (stillOff) {
        $("outage-state").textContent = "Power is back in your area, not yet at your address";
        $("outage-detail").innerHTML = `<p>Your area's supply came back at ${escape(when(last.restoredAt))}, but your meter still reports no power. We know and are looking into it: you will be told here and by message.</p>`;
      } else {
        $("outage-state").textContent = "Power restored";
        $("outage-detail").innerHTML = `<p>Your supply came back at ${escape(when(last.restoredAt))}. Thank you for your patience.</p>`;
      }
    }
    return;
  }
  // Meters still dark after their area came back (a nested outage): the customer's outage goes on, the area's ended.
  const parent = shown[0].parentOutageId ? outages.get(shown[0].parentOutageId) : null;
  $("outage-state").textContent = parent?.state === "Restored" ? "Power is back in your area, not yet at your address" : OutageSays[shown[0].state] ?? "Power outage";
  $("outage-detail").innerHTML = shown.map(o => `
    <p data-outage="${escape(o.id)}">${o.kind === "Planned" ? "Planned work · " : ""}Since ${escape(when(o.startedAt))} ·
      Cause: ${escape(o.cause ?? "being investigated")}<br>
      <strong>Estimated restoration: ${o.estimatedRestorationAt ? `${escape(when(o.estimatedRestorationAt))} (${escape(until(o.estimatedRestorationAt))})` : "being assessed"}</strong></p>`).join("");
}

async function loadPlans() {
  const page = await api("GET", "/api/planned-outages");
  for (const p of page.items) keepNewer(plans, p);
  showPlans();
}


function showPlans() {
  const shown = [...plans.values()].filter(p => p.status !== "Completed").sort((a, b) => Date.parse(a.plannedStart) - Date.parse(b.plannedStart));
  $("planned-work").hidden = !shown.length;
  $("planned").innerHTML = shown.map(p => `
    <li data-plan="${escape(p.id)}" class="${p.status === "Cancelled" ? "muted" : ""}"><strong>${escape(PlanSays[p.status] ?? p.status)}</strong> ·
      ${p.status === "Cancelled" ? "<s>" : ""}${escape(when(p.plannedStart))} – ${escape(when(p.plannedEnd))}${p.status === "Cancelled" ? "</s> — your supply stays on" : ""}
      · ${p.status === "Cancelled" && p.cancelReason ? `called off: ${escape(p.cancelReason)} (the work was: ${escape(p.reason)})` : escape(p.reason)}${p.kind === "Temporary" ? " (temporary outage)" : ""}${p.status === "InProgress" && p.actualStart ? ` · since ${escape(when(p.actualStart))}` : ""}</li>`).join("");
}
