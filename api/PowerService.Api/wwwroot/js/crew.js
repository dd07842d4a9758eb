import { api, hub, requireRole, showError, showOffline, escape, slack, countdown, visitWindow, sendOnce, startFeed, rank, Band, degrees } from "./session.js";

// What the crew may do next in each state (the grain enforces the lifecycle; this only offers the sensible buttons).
// A reserved order is a booked visit: shown, but nothing to do until dispatch offers it.
const Next = {
  Reserved: [],
  Dispatched: [["accept", "Accept"], ["reject", "Reject"]],
  // Reject only before accepting (docs/workflow.md): an accepted order is handed back through dispatch.
  Accepted: [["en-route", "En route"]],
  EnRoute: [["arrive", "Arrived"]],
  OnSite: [["resolve", "Resolved"]],
};
// A PDA in the field loses coverage for minutes at a time: keep trying (1 s, 2 s, 4 s … then every 10 s), never give up.
// Orders by id: a list row (no description yet) or the full order; the higher version wins, whichever came first.
const mine = new Map();
// Why the server refused the crew's last action on an order, shown on its card until the next action succeeds.
const refusals = new Map();
// Orders with an action on its way (retried while the network is away): their buttons stay disabled, so a second
// tap is not a second action refused by the first.
const sendingNow = new Set();
// Offers this device handed back by going off shift: their notice says the crew's own tap did it, not dispatch.
const handedBack = new Set();
const $ = id => document.getElementById(id);
let crewId = null, crew = null;
// An input method is composing a word in a note: redraws wait for it (see `draw`).
let composing = false, drawAfterComposing = false, drawForced = false;

requireRole(["crew"], async user => {
  crewId = user.crewId;

  // The hub first, then the list: an order pushed while the list loads is not lost, and a list row older than
  // what the hub already gave is ignored (versions).
  const connection = hub("/hubs/crew");
  connection.on("orders", updates => { for (const u of updates) keep(u.order, u.events); draw(); });
  connection.on("crew", showCrew);
  connection.onreconnecting(() => showOffline("Working offline: the live feed dropped, reconnecting… An action is retried for up to about a minute, then the card says it was not sent."));
  // Changes made while the feed was down were never pushed: read the crew (a dispatcher may have put it off shift, its
  // other device gone en route) and the list again; what failed for want of a network is no longer the news.
  const readAgain = async () => { await loadCrew(); await loadOrders(); };
  // An action not sent for want of a network stays said on its card (it was forgotten here, the card back to normal with
  // the arrival never recorded); other refusals were about the order as it was, read again now.
  connection.onreconnected(async () => {
    showOffline(null); showError(null);
    for (const [id, text] of refusals) if (!text.startsWith(NotSent)) refusals.delete(id);
    await readAgain();
  });
  $("orders").onclick = async event => {
    const asked = event.target.closest("button[data-contact]");
    if (asked) { await readContact(asked.dataset.contact); return; }
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.dataset.order, note = button.closest(".card").querySelector("textarea").value || null;
    if (sendingNow.has(id)) return;
    // A rejected order goes back to dispatch and skips this crew from then on: a mis-tap cannot be undone.
    if (button.dataset.action === "reject" && !confirmed(`reject:${id}`)) { draw(); return; }
    const sentFrom = position;
    // The order as the crew tapped it: a live update while the tap is on its way replaces it without a word (this
    // device's own sends are no news to it), so why it went is worked out from this one.
    const tapped = mine.get(id);
    sendingNow.add(id);
    draw();
    try {
      // The device's position goes with the action, so the order's history says where the crew was when it acted.
      const order = await sendOnce("POST", `/api/work-orders/${encodeURIComponent(id)}/transitions`,
        { action: button.dataset.action, note, location: sentFrom },
        (attempt, of) => { refusals.set(id, `No answer yet: sending again (${attempt} of ${of})…`); draw(); });
      refusals.delete(id);
      // The note went with the action: empty the card's box as it is now (the redraws since made a new one), unless
      // the crew has begun another note meanwhile.
      const box = $("orders").querySelector(`.card[data-card="${CSS.escape(id)}"] textarea`);
      if (box && box.value === (note ?? "")) box.value = "";
      keep(order); showError(null); draw();
    } catch (error) {
      refusals.set(id, refusal(error, button.dataset.action, sentFrom));
      // The order moved on elsewhere (409) or left the crew (404): show it as it is now. The refresh tells why it went
      // if the card was still shown when its read came back; if a live update took the card first (during the tap or
      // during the read), it is told here, from the order as tapped and the update's copy.
      const pushed = mine.get(id) !== tapped ? mine.get(id) : null;
      const toldByRefresh = error.status === 409 || error.status === 404 ? await refresh(id).catch(() => false) : false;
      const now = mine.get(id), gone = !now || !shown(now);
      const untold = gone && !toldByRefresh && tapped && shown(tapped);
      // A note that went nowhere is given back in words when its card is gone with the order (a Resolved sent from the
      // crew's other phone first took this phone's note with the card); on a card still shown it stays in the box.
      let unsent = note && gone ? ` Your note was not saved: “${note}”` : "", why = null;
      if (error.status === 404) {
        showError(null); // the notice says why it went; "does not exist" says nothing to a crew
        // Given to another crew as the crew tapped Accept: the card vanished with no word (15 of 16 such races).
        if (untold && (why = leaving(tapped, now ?? pushed ?? null))) {
          refusals.delete(id);
          notice(`${id} ${why}: it is off your list.${unsent}`);
          unsent = "";
        }
      } else if (error.status === 409 && now && now.crewId === crewId && (Progress[now.state] ?? -1) >= (Leads[button.dataset.action] ?? Infinity)) {
        // Another device of this crew did it first: done, not refused.
        refusals.delete(id);
        showError(null);
        // On a card still shown the note stays in its box: the crew is told it goes with the next step (it went unsaid).
        const kept = note && !gone ? " Your note was not sent: it is still in its box and goes with your next step." : unsent;
        notice(`${id}: ${button.textContent.trim()} was already sent from another device of your crew.${kept}`);
        unsent = "";
      } else if (error.status === 409 && untold && (why = leaving(tapped, now ?? pushed ?? null))) {
        // Cancelled by the customer, merged, moved on while the tap was on its way: why, as a push would have said it.
        refusals.delete(id);
        showError(null);
        notice(`${id} ${why}: it is off your list.${unsent}`);
        unsent = "";
      } else showError(error);
      if (unsent) notice(`${id}:${unsent}`);
      draw(true);
    } finally {
      sendingNow.delete(id);
      draw();
    }
  };
  $("location").onsubmit = async event => {
    event.preventDefault();
    const { latitude, longitude } = event.target;
    // Number("") is 0: a blank field would report the crew in the Gulf of Guinea.
    if (!latitude.value.trim() || !longitude.value.trim()) { showError(new Error("Enter both latitude and longitude, or share the GPS position.")); return; }
    // A phone keyboard set to a decimal comma writes 20,0521: read as 20.0521, not refused as "latitude is required".
    const [lat, lon] = [latitude.value, longitude.value].map(degrees);
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) { showError(new Error("Latitude and longitude are numbers in degrees, such as 20.0521 and 110.3412.")); return; }
    await reportLocation({ latitude: lat, longitude: lon });
  };
  // The device's GPS, when it has one and the crew allows it: "Share my position" reports it now; after that every
  // change of more than ~100 m is reported, at most once a minute, so dispatch sees the crew move without a tap.
  $("gps").onclick = () => {
    if (!navigator.geolocation) { $("gps-state").textContent = "No GPS on this device: enter the position."; return; }
    // The watch's last fix is where the device is now (Chromium leaves a second request unanswered while a watch runs).
    if (watching !== null && position) { reportLocation(position); return; }
    $("gps-state").textContent = "Locating…";
    shareNext = true;
    watchPosition();
  };
  // Allowed before (a reload, the next morning): the watch starts now, not at the next "Share my position". Without
  // it an arrival at the site went without a position and was judged on the last report, the depot's.
  navigator.permissions?.query({ name: "geolocation" }).then(p => { if (p.state === "granted") watchPosition(); }, () => {});
  // A break or the end of the shift from the PDA: offers not yet accepted go back to dispatch; accepted work and booked
  // visits stay (dispatch is told of a booked visit left unanswered). With offers to hand back it asks a second tap.
  $("shift").onclick = async () => {
    const shift = $("shift"), to = shift.dataset.to, offers = unanswered();
    if (to === "OffShift" && offers.length && !confirmed("shift")) { drawShift(); return; }
    handedBack.clear();
    if (to === "OffShift") offers.forEach(o => handedBack.add(o.id));
    shift.disabled = true;
    try { showCrew(await api("POST", `/api/crews/${encodeURIComponent(crewId)}/status`, { status: to })); showError(null); }
    catch (error) { handedBack.clear(); showError(error); }
    finally { shift.disabled = false; }
  };
  setInterval(tick, 1000);
  // Every control works from the moment the page shows (a tap while it still loads is not lost); then the crew, the
  // live feed and the list.
  showCrew(await api("GET", `/api/crews/${encodeURIComponent(crewId)}`));
  // The first connection gets no automatic reconnect: retried every 5 s, the crew and the list read again once it is up.
  await startFeed(connection, readAgain, "Working offline: cannot reach the live feed, retrying… Orders below are as last loaded.");
  await loadOrders();
});

// The device's last known position (null until the watch has a fix), the watch that keeps it, when it was last sent,
// and whether the crew asked for the next fix to be reported.
let position = null, watching = null, reported = { at: 0, position: null }, shareNext = false;

/// Keeps `position` as the device moves; its first fix is reported at once, then moves as `moved` says.
function watchPosition() {
  if (watching !== null) return;
  watching = navigator.geolocation.watchPosition(moved, error => {
    if (shareNext) $("gps-state").textContent = `No position: ${error.message}`;
    // Refused: the next tap on "Share my position" asks again.
    if (error.code === error.PERMISSION_DENIED) { navigator.geolocation.clearWatch(watching); watching = null; shareNext = false; }
  }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 15000 });
}

async function loadCrew() {
  try { showCrew(await api("GET", `/api/crews/${encodeURIComponent(crewId)}`)); }
  catch (error) { showError(error); }
}

async function reportLocation(where) {
  try {
    showCrew(await api("POST", `/api/crews/${encodeURIComponent(crewId)}/location`, where));
    reported = { at: Date.now(), position: where };
    $("gps-state").textContent = `Reported ${where.latitude.toFixed(5)}, ${where.longitude.toFixed(5)} at ${new Date().toLocaleTimeString("en-GB")}`;
    showError(null);
  } catch (error) { showError(error); }
}

function moved(p) {
  position = { latitude: p.coords.latitude, longitude: p.coords.longitude };
  const last = reported.position;
  // ~100 m: 0.001° of latitude is 111 m.
  const far = !last || Math.hypot(position.latitude - last.latitude, position.longitude - last.longitude) > 0.001;
  if (shareNext || (far && Date.now() - reported.at > 60000)) {
    shareNext = false;
    reportLocation(position);
  }
}

/// Every order the crew holds now, in full, in one request (one per card hit the crew's rate limit on a reload).
async function loadOrders() {
  try {
    const listed = new Set();
    for (const order of await api("GET", `/api/crews/${encodeURIComponent(crewId)}/orders`)) { listed.add(order.id); keep(order); }
    draw();
    // Held before but no longer listed (finished or reassigned while offline): ask each order what became of it, a few
    // at a time and waiting out the crew's rate limit (two PDAs asking of 40 orders each at once spent it, and the cards
    // stayed), and tell them as one line per reason.
    const stale = [...mine.values()].filter(o => !listed.has(o.id) && shown(o)).map(o => o.id);
    if (stale.length) {
      const left = leftList = [];
      try {
        const queue = [...stale];
        await Promise.all(Array.from({ length: Math.min(StaleReads, queue.length) }, async () => {
          while (queue.length) { await refreshLeft(queue.shift()); draw(); }
        }));
      } finally { leftList = null; tellLeft(left); }
    }
    draw();
  } catch (error) { showError(error); }
}

// Orders read at once when a reconnect finds some gone from the crew's list.
const StaleReads = 4;

/// Reads again an order the crew's list no longer holds. The list is the proof it left: if the order cannot be read
/// (the rate limit after its Retry-After, no signal), it leaves the list all the same, saying only that.
async function refreshLeft(id) {
  for (let attempt = 1; ; attempt++) {
    try { await refresh(id); return; }
    catch (error) {
      if (error.status === 429 && attempt < 3) { await new Promise(r => setTimeout(r, Math.min(error.retryAfter ?? 5000, 30000))); continue; }
      if (mine.has(id) && shown(mine.get(id))) told(id, "is no longer assigned to your crew");
      mine.delete(id);
      return;
    }
  }
}

/// Reads an order again; true when it told the crew the order left its list (false when it was not shown by then).
async function refresh(id) {
  try { keep(await api("GET", `/api/work-orders/${encodeURIComponent(id)}`)); return false; }
  catch (error) {
    if (error.status !== 404) throw error;
    // Not visible to this crew any more: it was reassigned.
    const wasShown = mine.has(id) && shown(mine.get(id));
    if (wasShown) told(id, leaving(mine.get(id), null));
    mine.delete(id);
    return wasShown;
  }
}

// While a reconnect reads the orders gone from the list: why each left, told together afterwards.
let leftList = null;

/// Tells the crew an order left its list and why (`why` as `leaving` words it).
function told(id, why) {
  if (leftList) leftList.push({ id, why });
  else notice(`${id} ${why}: it is off your list.`);
}

/// Tells what a reconnect found gone: each on its own line when few, else one line per reason (40 notices filled the
/// phone's first screen, pushing the crew's status and orders below it).
function tellLeft(left) {
  if (left.length <= 3) { for (const { id, why } of left) notice(`${id} ${why}: it is off your list.`); return; }
  const byWhy = new Map();
  for (const { id, why } of left) byWhy.set(why, [...(byWhy.get(why) ?? []), id]);
  for (const [why, ids] of byWhy) {
    notice(ids.length === 1 ? `${ids[0]} ${why}: it is off your list.`
      : `${ids.length} orders are off your list (${why.replace(/^(was|is|went) /, "").replace(/: .*$/, "")}): ${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ` and ${ids.length - 3} more` : ""}.`);
  }
}

/// Keeps the newer of what is held and `order`; a full order is preferred to a list row of the same version. An order
/// taken off the crew's list by someone else says so, not only disappears (a crew driving to it must know).
function keep(order, events) {
  const held = mine.get(order.id);
  if (held && (held.version > order.version || (held.version === order.version && "description" in held && !("description" in order)))) return;
  // Not for an action this device is sending (a crew's own reject is no news to it).
  if (held && shown(held) && !shown(order) && !sendingNow.has(order.id)) {
    const why = leaving(held, order, events);
    if (why) told(order.id, why);
  }
  mine.set(order.id, order);
}

/// Why an order the crew held left its list (`order` as it is now, null when the crew may no longer read it; `events`
/// what the journal wrote, when pushed). Null when it is still the crew's.
function leaving(held, order, events) {
  if (order?.state === "Cancelled") return "was cancelled";
  if (order?.state === "Merged") return "was merged into another job";
  if ((events ?? []).includes("OfferWithdrawn")) return "was put on hold by the customer (not at home): the offer was taken back";
  if (handedBack.delete(held.id)) return "was handed back to dispatch when you went off shift";
  if (lapsed(held, events)) return "was not accepted in time: the offer lapsed and went back to dispatch";
  if (!order) return "is no longer assigned to your crew: dispatch gave it to another crew or withdrew it";
  if (order.crewId == null) return "went back to dispatch";
  if (order.crewId !== crewId && order.state === "Reserved") return "was moved to another crew's visit (the customer changed the booking)";
  if (order.crewId !== crewId) return "was given to another crew by dispatch";
  return null;
}

/// Whether the crew's offer lapsed unanswered. OfferExpired is journaled for a lapse and for a crew gone off shift alike:
/// the deadline tells them apart (a minute's allowance for the phone's clock); a list read again, without the journal's
/// events, has the deadline alone.
function lapsed(held, events) {
  if (held.state !== "Dispatched" || !held.offerExpiresAt) return false;
  const left = Date.parse(held.offerExpiresAt) - Date.now();
  return left <= 0 || (left < 60000 && (events ?? []).includes("OfferExpired"));
}

/// Offers the crew has not answered: going off shift hands them back (a booked visit stays, as its customer's appointment).
const unanswered = () => [...mine.values()].filter(o => shown(o) && o.state === "Dispatched" && !(o.visit && !o.visit.calledOff));

// A tap that cannot be undone (a Reject, going off shift with offers) asks for a second one within a few seconds.
const ConfirmWithin = 5000;
let armed = null;

/// True on the second tap of `what` within ConfirmWithin; the first arms it (the page shows "tap again") and returns false.
function confirmed(what) {
  if (armed?.what === what && Date.now() < armed.until) { armed = null; return true; }
  armed = { what, until: Date.now() + ConfirmWithin };
  setTimeout(() => {
    if (armed?.what !== what || Date.now() < armed.until) return;
    armed = null;
    draw();
    drawShift();
  }, ConfirmWithin + 50);
  return false;
}
const isArmed = what => armed?.what === what && Date.now() < armed.until;

/// How far along the crew's steps an order is, and how far each PDA action takes it: an order at or past an action's
/// step was moved there by another device of the crew (or further on).
const Progress = { Dispatched: 0, Accepted: 1, EnRoute: 2, OnSite: 3, Resolved: 4, CallbackPending: 4, Closed: 4 };
const Leads = { accept: 1, "en-route": 2, arrive: 3, resolve: 4 };

/// A line the crew dismisses; the newest first, at most five.
function notice(text) {
  const item = document.createElement("li");
  item.innerHTML = `<span></span><button type="button" aria-label="Dismiss">×</button>`;
  item.firstChild.textContent = text;
  item.lastChild.onclick = () => item.remove();
  $("notices").prepend(item);
  while ($("notices").children.length > 5) $("notices").lastChild.remove();
}

const shown = o => o.crewId === crewId && o.state in Next;

/// How a card starts saying that its action never reached the silo (no network): kept on the card across a reconnect.
const NotSent = "Not sent";

function refusal(error, action, sentFrom) {
  if (error.status === undefined) return error.message.startsWith(NotSent) ? error.message : `${NotSent}: ${error.message}`;
  // Sent without the device's position, an arrival is judged on the crew's last report ("the crew's position reported
  // 6 min ago is 3.4 km from the site", WorkOrderGrain): the crew at the site must send where it is now.
  if (error.status === 409 && action === "arrive" && !sentFrom && error.message.includes("position reported")) {
    return `Refused: ${error.message} This PDA has not sent where you are now: tap "Share my position", then Arrived again.`;
  }
  if (error.status === 409) return `Refused: ${error.message}`;
  if (error.status === 404) return "This order is no longer assigned to your crew.";
  if (error.status === 400) return `Not accepted: ${error.message}`;
  return `Failed: ${error.message}`;
}


function showCrew(now) {
  crew = now;
  $("crew-status").textContent = crew.status;
  $("crew-name").textContent = `${crew.id} · ${crew.profile.name} · ${crew.location.latitude.toFixed(4)}, ${crew.location.longitude.toFixed(4)}`;
  drawShift();
}

/// The shift button, and while it waits for its second tap what going off shift does to the crew's orders.
function drawShift() {
  if (!crew) return;
  const shift = $("shift"), note = $("shift-note"), off = crew.status === "OffShift", asking = !off && isArmed("shift");
  shift.hidden = false;
  shift.dataset.to = off ? "Available" : "OffShift";
  shift.textContent = off ? "Back on shift" : asking ? "Go off shift? Tap again" : "Go off shift";
  shift.classList.toggle("armed", asking);
  note.hidden = !asking;
  if (asking) {
    const offers = unanswered().length, kept = [...mine.values()].filter(shown).length - offers;
    note.textContent = `${offers === 1 ? "Your unanswered offer goes" : `Your ${offers} unanswered offers go`} back to dispatch. `
      + (kept ? `Orders you accepted, are driving to or working on stay yours (${kept} on your list), their clocks running.`
        : "Nothing else is on your list.");
  }
}

function tick() {
  for (const span of document.querySelectorAll("#orders .countdown")) {
    const order = mine.get(span.closest(".card").dataset.card);
    if (order) span.textContent = countdown(slack(order), order);
  }
  for (const span of document.querySelectorAll("#orders .answer-by")) {
    const order = mine.get(span.closest(".card").dataset.card);
    if (order?.offerExpiresAt) span.textContent = answerWithin(order.offerExpiresAt);
  }
}

/// How long the crew has to accept an offer before it lapses and goes back to dispatch.
function answerWithin(deadline, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((Date.parse(deadline) - now) / 1000));
  return seconds ? `answer within ${Math.floor(seconds / 60)}m ${seconds % 60}s` : "answer time is up";
}

/// Redraws only when the set of orders, their ranking, a state, a description, an offer's deadline, a Reject asking
/// again or a refusal changed, so what the crew is typing in a note survives the hub's updates; `force` redraws anyway.
function draw(force = false) {
  // A word being composed (pinyin → 变压器) is not redrawn under the input method: it would be committed twice. The
  // redraw waits for the composition to end.
  if (composing) { drawAfterComposing ||= true; drawForced ||= force; return; }
  if (isArmed("shift")) drawShift(); // what going off shift hands back, as the list is now
  // Most urgent first, as the console ranks them: the order nearest its promise is on top, not the lowest id.
  const active = byVisit(rank([...mine.values()].filter(shown))).map(r => r.o);
  // Refusals of orders no longer shown go with them (a card that comes back starts clean).
  for (const id of refusals.keys()) if (!active.some(o => o.id === id)) refusals.delete(id);
  $("order-count").textContent = active.length ? `(${active.length})` : "";
  const next = active.map(o => `${o.id}:${o.state}:${"description" in o}:${o.offerExpiresAt}:${sendingNow.has(o.id)}:${isArmed(`reject:${o.id}`)}:${refusals.get(o.id) ?? ""}:${contacts.has(o.id)}:${o.visit?.bookingId ?? ""}`).join("|");
  if (!force && $("orders").dataset.drawn === next) return;
  $("orders").dataset.drawn = next;
  if (!active.length) { $("orders").innerHTML = `<p class="muted">No orders.</p>`; return; }
  // Notes being typed survive the redraw (a refusal, another order's live update): only a sent action clears one.
  const notes = new Map([...$("orders").querySelectorAll(".card[data-card] textarea")].map(t => [t.closest(".card").dataset.card, t.value]));
  // So does the keyboard's place: the same button or note of the same card has the focus after the redraw.
  const focused = document.activeElement?.closest?.("#orders .card[data-card]") ? document.activeElement : null;
  const focus = focused && { card: focused.closest(".card").dataset.card, action: focused.dataset.action ?? null,
    selection: focused.tagName === "TEXTAREA" ? [focused.selectionStart, focused.selectionEnd, focused.selectionDirection] : null };
  $("orders").innerHTML = active.map(o => `
    <div class="card" data-card="${escape(o.id)}" data-state="${escape(o.state)}" tabindex="-1">
      <div class="row"><strong>${escape(o.id)}</strong><span>${escape(o.kind)}</span><span class="muted">${escape(o.state)}</span><span class="countdown">${escape(countdown(slack(o), o))}</span>${o.state === "Dispatched" && o.offerExpiresAt ? `<span class="answer-by warn">${escape(answerWithin(o.offerExpiresAt))}</span>` : ""}</div>
      <div>${"description" in o ? escape(o.description) : `<span class="muted">Loading details…</span>`}</div>
      <div class="muted">${o.location ? `${o.location.latitude.toFixed(5)}, ${o.location.longitude.toFixed(5)}` : ""} ${escape(o.customerId ?? "")}</div>
      ${contactLine(o)}
      ${o.visit && !o.visit.calledOff ? `<div class="visit">Visit booked for ${escape(visitWindow(o.visit))}</div>` : ""}
      ${Next[o.state].length ? `<textarea rows="1" maxlength="2000" placeholder="note" aria-label="note for ${escape(o.id)}"></textarea>` : `<div class="muted">Booked visit: dispatch offers it before the slot.</div>`}
      <div class="row">${Next[o.state].map(([action, label]) => button(o, action, label)).join("")}</div>
      ${refusals.has(o.id) ? `<div class="refusal" role="alert">${escape(refusals.get(o.id))}</div>` : ""}
    </div>`).join("");
  for (const card of $("orders").querySelectorAll(".card[data-card]")) {
    const note = notes.get(card.dataset.card), box = card.querySelector("textarea");
    if (note && box) box.value = note;
  }
  if (focus) {
    const card = [...$("orders").querySelectorAll(".card[data-card]")].find(c => c.dataset.card === focus.card);
    // The button tapped may have gone with the state it was for: then the card's next action, or the card itself while
    // its buttons wait for the answer — never its note box, which opened a phone's keyboard over the buttons after
    // every tap.
    const target = focus.selection ? card?.querySelector("textarea")
      : (focus.action && card?.querySelector(`button[data-action="${focus.action}"]:not([disabled])`)) ?? card?.querySelector("button:not([disabled])") ?? card;
    target?.focus();
    // And the cursor's place in the note: a live update while the crew typed mid-note put the rest at its end.
    if (focus.selection && target?.tagName === "TEXTAREA") target.setSelectionRange(...focus.selection);
  }
}

document.addEventListener("compositionstart", () => { composing = true; });
document.addEventListener("compositionend", () => {
  composing = false;
  if (!drawAfterComposing) return;
  const force = drawForced;
  drawAfterComposing = drawForced = false;
  draw(force);
});

// The customers' contacts read on this page, by order (read when asked: a phone number is shown to the crew working the
// order, not pushed to every PDA).
const contacts = new Map();
const Contactable = new Set(["Reserved", "Dispatched", "Accepted", "EnRoute", "OnSite"]);

/// The customer to call (nobody home, the gate locked): a button until read, then the name and a tap-to-call number.
function contactLine(o) {
  if (!o.customerId || !Contactable.has(o.state)) return "";
  const c = contacts.get(o.id);
  if (!c) return `<div><button type="button" data-contact="${escape(o.id)}">Customer's phone</button></div>`;
  if (c.error) return `<div class="refusal">${escape(c.error)}</div><div><button type="button" data-contact="${escape(o.id)}">Customer's phone</button></div>`;
  return `<div class="contact">${escape(c.name)}${c.phone ? ` <a class="call" href="tel:${escape(c.phone)}">Call ${escape(c.phone)}</a>` : " · no phone on file"}</div>`;
}

async function readContact(id) {
  try { contacts.set(id, await api("GET", `/api/work-orders/${encodeURIComponent(id)}/contact`)); }
  catch (error) { contacts.set(id, { error: `Customer's contact: ${error.message}` }); }
  draw(true);
}

/// A booked visit is due at its slot, not at its order's days-long handling promise: ranked by the slot's start (due soon
/// within half an hour), a visit due now was listed below tomorrow's.
function byVisit(ranked, now = Date.now()) {
  return ranked.map(r => {
    if (!r.o.visit || r.o.visit.calledOff) return r;
    const minutes = (Date.parse(r.o.visit.start) - now) / 60000;
    return { ...r, band: Math.min(r.band, minutes <= 30 ? Band.warn : Band.ok), key: minutes };
  }).sort((a, b) => a.band - b.band || a.key - b.key || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0));
}

/// An action's button; Reject looks apart from Accept and, tapped once, asks to be tapped again.
function button(o, action, label) {
  const reject = action === "reject", asking = reject && isArmed(`reject:${o.id}`);
  return `<button data-order="${escape(o.id)}" data-action="${action}"${reject ? ` class="danger${asking ? " armed" : ""}"` : ""}${sendingNow.has(o.id) ? " disabled" : ""}>${asking ? "Reject? Tap again" : label}</button>`;
}
