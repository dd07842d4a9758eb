import { api, hub, requireRole, showError, escape, slack, countdown } from "./session.js";

// What the crew may do next in each state (the grain enforces the lifecycle; this only offers the sensible buttons).
const Next = {
  Dispatched: [["accept", "Accept"], ["reject", "Reject"]],
  Accepted: [["en-route", "En route"], ["reject", "Reject"]],
  EnRoute: [["arrive", "Arrived"]],
  OnSite: [["resolve", "Resolved"]],
};
const mine = new Map();
const $ = id => document.getElementById(id);

requireRole(["crew"], async user => {
  const crewId = user.crewId;
  const crew = await api("GET", `/api/crews/${encodeURIComponent(crewId)}`);
  showCrew(crew);
  for (const id of [...crew.currentOrders, ...crew.queuedOrders]) mine.set(id, await api("GET", `/api/work-orders/${encodeURIComponent(id)}`));
  draw(crewId);

  const connection = hub("/hubs/crew");
  connection.on("orders", updates => { for (const u of updates) mine.set(u.order.id, u.order); draw(crewId); });
  connection.on("crew", showCrew);
  connection.onreconnecting(() => showError({ message: "Connection lost; reconnecting…" }));
  connection.onreconnected(() => showError(null));
  await connection.start();

  $("orders").onclick = async event => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.dataset.order, card = button.closest(".card");
    button.disabled = true;
    try {
      const order = await api("POST", `/api/work-orders/${encodeURIComponent(id)}/transitions`, { action: button.dataset.action, note: card.querySelector("textarea").value || null });
      mine.set(id, order); showError(null); draw(crewId);
    } catch (error) { showError(error); button.disabled = false; }
  };
  $("location").onsubmit = async event => {
    event.preventDefault();
    try { showCrew(await api("POST", `/api/crews/${encodeURIComponent(crewId)}/location`, { latitude: Number(event.target.latitude.value), longitude: Number(event.target.longitude.value) })); showError(null); }
    catch (error) { showError(error); }
  };
  setInterval(() => draw(crewId), 1000);
});

function showCrew(crew) {
  $("crew-status").textContent = crew.status;
  $("crew-name").textContent = `${crew.id} · ${crew.profile.name} · ${crew.location.latitude.toFixed(4)}, ${crew.location.longitude.toFixed(4)}`;
}

function draw(crewId) {
  const active = [...mine.values()].filter(o => o.crewId === crewId && Next[o.state]);
  if (!active.length) { $("orders").innerHTML = `<p class="muted">No orders.</p>`; return; }
  // Keep what the crew is typing: redraw only cards whose order changed state.
  const html = active.map(o => `
    <div class="card" data-card="${escape(o.id)}" data-state="${escape(o.state)}">
      <div class="row"><strong>${escape(o.id)}</strong><span>${escape(o.kind)}</span><span class="muted">${escape(o.state)}</span><span>${escape(countdown(slack(o)))}</span></div>
      <div>${escape(o.description)}</div>
      <div class="muted">${o.location ? `${o.location.latitude.toFixed(5)}, ${o.location.longitude.toFixed(5)}` : ""} ${escape(o.customerId ?? "")}</div>
      <textarea rows="1" placeholder="note" aria-label="note for ${escape(o.id)}"></textarea>
      <div class="row">${Next[o.state].map(([action, label]) => `<button data-order="${escape(o.id)}" data-action="${action}">${label}</button>`).join("")}</div>
    </div>`);
  const current = [...document.querySelectorAll("#orders .card")].map(c => `${c.dataset.card}:${c.dataset.state}`).join("|");
  const next = active.map(o => `${o.id}:${o.state}`).join("|");
  if (current !== next) $("orders").innerHTML = html.join("");
}
