import { api, hub, requireRole, showError, escape, slack } from "./session.js";

const Steps = [["Created", "Received"], ["Dispatched", "Crew assigned"], ["Accepted", "Crew accepted"], ["EnRoute", "On the way"], ["OnSite", "Crew on site"], ["CallbackPending", "Repaired"], ["Closed", "Closed"]];
const Rank = { Created: 0, Rejected: 0, Reopened: 0, Reserved: 0, Dispatched: 1, Accepted: 2, EnRoute: 3, OnSite: 4, Resolved: 5, CallbackPending: 5, Closed: 6 };
const $ = id => document.getElementById(id);
let followed = null;

requireRole(["customer"], async () => {
  const connection = hub("/hubs/customer");
  connection.on("orders", orders => { for (const o of orders) if (o.id === followed) show(o); });
  connection.onreconnecting(() => showError({ message: "Connection lost; reconnecting…" }));
  connection.onreconnected(() => showError(null));
  await connection.start();
  const follow = async id => {
    try { followed = id; show(await api("GET", `/api/work-orders/${encodeURIComponent(id)}`)); showError(null); history.replaceState(null, "", `?order=${encodeURIComponent(id)}`); }
    catch (error) { $("tracker").hidden = true; showError(error.status === 404 ? { message: `No order ${id} of yours was found.` } : error); }
  };
  $("find").onsubmit = event => { event.preventDefault(); follow(event.target.orderId.value.trim()); };
  const fromUrl = new URLSearchParams(location.search).get("order");
  if (fromUrl) { $("find").orderId.value = fromUrl; await follow(fromUrl); }
  setInterval(() => { if (followed && window.lastOrder) show(window.lastOrder); }, 30000);
});

function show(order) {
  window.lastOrder = order;
  $("tracker").hidden = false;
  $("title").textContent = `${order.id} · ${order.kind}`;
  const rank = Rank[order.state] ?? -1;
  $("steps").innerHTML = Steps.map(([state, label], i) => `<span class="${i < rank ? "done" : i === rank ? "now" : ""}" data-state="${state}">${escape(label)}</span>`).join("");
  const arrival = (order.slaClocks || []).find(c => c.name === "Arrival");
  const s = slack(order);
  $("eta").textContent =
    order.state === "Cancelled" ? "Cancelled" :
    order.state === "Merged" ? "Handled together with a related repair" :
    rank >= 5 ? "Power restored — thank you for your patience" :
    rank === 4 ? "The crew is working on it" :
    arrival ? `Crew expected by ${new Date(arrival.dueAt).toLocaleTimeString()}` :
    s ? `Promised by ${new Date(Date.now() + s.minutes * 60000).toLocaleString()}` : "";
  $("detail").textContent = `Current step: ${order.state}${order.crewId ? " · crew " + order.crewId : ""} · updated ${new Date(order.updatedAt).toLocaleTimeString()}`;
}
