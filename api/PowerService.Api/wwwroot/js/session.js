// Shared by every page: the bearer token, JSON calls that surface problem details, hub connections and errors.
const TOKEN = "powerservice.token";
const REFRESH = "powerservice.refresh";
const EXPIRES = "powerservice.expires";
const SIGNED_OUT = "powerservice.signedOut";

export function token() { return sessionStorage.getItem(TOKEN); }

export async function login(username, password) {
  const response = await fetch("/api/auth/token", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw await problem(response);
  keepTokens(await response.json());
  return me();
}

function keepTokens(answer) {
  sessionStorage.setItem(TOKEN, answer.accessToken);
  sessionStorage.setItem(REFRESH, answer.refreshToken);
  sessionStorage.setItem(EXPIRES, String(Date.now() + answer.expiresIn * 1000));
}

function forgetTokens() { for (const key of [TOKEN, REFRESH, EXPIRES]) sessionStorage.removeItem(key); }

// Tabs of one sign-in (a duplicated tab copies this one's tokens) hand each other their renewed tokens: a refresh token
// is good once, and the tab renewing second with the token it had copied ended the sign-in of both. A tab still holding
// the token another renewed takes the new ones.
const tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("powerservice.session") : null;
tabs?.addEventListener("message", event => {
  const { previous, answer } = event.data ?? {};
  if (previous && answer && previous === sessionStorage.getItem(REFRESH)) keepTokens(answer);
});

// Set once the page is going back to the sign-in form: what it was still doing must not take the reason shown there.
let leaving = false;

/// Back to the sign-in form; `reason` is shown on it (a session that ended is said, not a bare form).
export function logout(reason) {
  leaving = true;
  forgetTokens();
  if (typeof reason === "string") sessionStorage.setItem(SIGNED_OUT, reason);
  location.reload();
}

/// A new token for the refresh token, once per run of concurrent callers; false when the session cannot go on (the
/// refresh token expired, or the user's account changed).
let refreshing = null;
async function refresh() {
  const refreshToken = sessionStorage.getItem(REFRESH);
  if (!refreshToken) return false;
  refreshing ??= fetch("/api/auth/refresh", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }),
  }).then(async response => {
    if (!response.ok) return response.status === 401 ? false : Promise.reject(await problem(response));
    const answer = await response.json();
    keepTokens(answer);
    tabs?.postMessage({ previous: refreshToken, answer });
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/// The token to call with: renewed first when it ends within a minute (a PDA through a long shift).
async function currentToken() {
  if (token() && Date.now() > Number(sessionStorage.getItem(EXPIRES) ?? 0) - 60000) {
    await refresh().catch(() => {}); // offline: the old token, and the server's answer decides
  }
  return token();
}

const SessionEnded = "Your session ended: sign in again.";

export async function me() { return token() ? api("GET", "/api/auth/me").catch(() => null) : null; }

/// How long a request may go without an answer's first bytes: on a network that swallows packets (a basement, a
/// tunnel) a request stalled with no error for two minutes, the PDA's buttons greyed out and nothing said, while the
/// offer ran out. Past it the request counts as unanswered: `sendOnce` sends it again under the same request id.
const AnswerWithin = 10000;

export async function api(method, path, body) {
  const call = async () => {
    const stalled = new AbortController();
    const timer = setTimeout(() => stalled.abort(), AnswerWithin);
    try {
      return await fetch(path, {
        method,
        headers: { authorization: `Bearer ${await currentToken()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: stalled.signal,
      });
    } catch {
      throw new Error(stalled.signal.aborted
        ? `No answer from the service within ${AnswerWithin / 1000} s (weak signal?).`
        : "No connection to the service (no signal?): nothing was sent.");
    } finally {
      clearTimeout(timer); // the answer has begun: its body may take as long as the network needs
    }
  };
  let response = await call();
  // The token was refused (expired, the account changed, the silo's keys changed): renew it once with the refresh
  // token, else back to the sign-in form saying why, not an "Unauthorized" on every button.
  if (response.status === 401 && token()) {
    if (await refresh().catch(() => false)) response = await call();
    if (response.status === 401) logout(SessionEnded);
  }
  if (!response.ok) throw await problem(response);
  return response.status === 204 ? null : response.json();
}

const SendAttempts = 6;

// A busy silo's Retry-After is waited for up to this long: past it, a crew would think the PDA hung.
const RetryAfterCap = 30000;

/// Sends what must happen once (a report, a crew's action) until it gets an answer. No answer (the network dropped)
/// or a busy silo (429, 502–504) is retried after 1, 2, 4, 8 and 8 s, or after the answer's Retry-After (at most 30 s:
/// sent sooner, the retries spent the crew's rate budget again), with the same request id, which the server
/// recognises: a request whose answer was lost is not carried out twice. `retrying(attempt, of)` is told before each.
export async function sendOnce(method, path, body, retrying = () => {}) {
  const requestId = newRequestId();
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(method, path, { ...body, requestId });
    } catch (error) {
      const transient = error.status === undefined || [429, 502, 503, 504].includes(error.status);
      if (!transient) throw error;
      if (attempt === SendAttempts) {
        throw error.status === undefined ? new Error(`Not sent: no answer after ${SendAttempts} tries (no signal?). Try again when you have a connection.`) : error;
      }
      retrying(attempt + 1, SendAttempts);
      const wait = error.retryAfter ?? Math.min(1000 * 2 ** (attempt - 1), 8000);
      await new Promise(resolve => setTimeout(resolve, Math.min(wait, RetryAfterCap)));
    }
  }
}

/// Runs `work` with the form's buttons disabled, so a double click sends one request, not two (each send is its own
/// request id: two clicks would be two orders, two planned outages).
export async function sending(form, work) {
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach(b => { b.disabled = true; });
  try { return await work(); }
  finally { buttons.forEach(b => { b.disabled = false; }); }
}

/// crypto.randomUUID exists only on secure pages; a PDA may reach the silo over plain HTTP inside the utility's network.
function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map(b => b.toString(16).padStart(2, "0")).join("");
}

async function problem(response) {
  let text = `${response.status} ${response.statusText}`, details;
  try {
    const body = await response.json();
    text = body.detail || body.title || text;
    if (body.field) text = `${body.field}: ${text}`;
    details = body;
  } catch { /* not JSON */ }
  const error = new Error(text);
  error.status = response.status;
  error.body = details;
  error.retryAfter = retryAfter(response.headers.get("retry-after"));
  return error;
}

/// Retry-After in milliseconds (seconds or an HTTP date), or null when absent or unreadable.
function retryAfter(value) {
  if (!value) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/// Reconnects for as long as the page is open, at most 10 s apart: the client's default gives up after four tries
/// (0, 2, 10, 30 s), and a console left open through a silo restart of a minute stayed "reconnecting…" for good. From
/// the second try on, each retry also asks who the token belongs to: a browser does not tell a WebSocket refused 401
/// from a dropped network, and a page whose session ended said "reconnecting…" for ever. `api` renews the token or
/// signs out saying why; offline, the question just fails.
const RetryForever = {
  nextRetryDelayInMilliseconds: context => {
    if (context.previousRetryCount >= 1 && token()) api("GET", "/api/auth/me").catch(() => {});
    return Math.min(1000 * 2 ** context.previousRetryCount, 10000);
  },
};

export function hub(path) {
  // The browser client from npm (@microsoft/signalr), served from /lib by the silo.
  return new signalR.HubConnectionBuilder()
    .withUrl(path, { accessTokenFactory: currentToken, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
    .withAutomaticReconnect(RetryForever)
    // Its Information lines print the socket's URL with the access token in it to the browser's console.
    .configureLogging(signalR.LogLevel.Warning)
    .build();
}

/// Starts a page's live feed. When it cannot (no network, the silo away, or the account already holding as many live
/// connections as it may: the browser is not told which), the page says so and tries again every 5 s; once the feed is
/// up after such a failure, `again` reads again what the page shows. Resolves after the first attempt, up or not.
export async function startFeed(connection, again = async () => {}, offline = "Cannot reach the live feed (no network, or this account has as many live pages open as it may: close another tab or device); retrying every 5 s…", retrying = false) {
  try {
    await connection.start();
    showOffline(null);
    if (retrying) await again();
  } catch {
    showOffline(offline);
    setTimeout(() => startFeed(connection, again, offline, true), 5000);
  }
}

/// The live feed's state, apart from the error banner: a call that succeeds clears its error, not "reconnecting…".
export function showOffline(text) {
  const banner = document.getElementById("offline");
  banner.textContent = text ?? "";
  banner.hidden = !text;
}

export function showError(error) {
  const banner = document.getElementById("error");
  banner.textContent = error ? (error.message || String(error)) : "";
  banner.classList.toggle("shown", !!error);
}

/// Shows the login form until a user of one of `roles` is signed in, then calls start(user).
export async function requireRole(roles, start) {
  const user = await me();
  if (leaving) return; // the session ended as the page loaded: the reload shows the form with the reason
  const form = document.getElementById("login");
  if (user && roles.includes(user.role)) {
    form.hidden = true;
    document.getElementById("who").textContent = `${user.name} (${user.role})`;
    // Another person on the same device (a shared PDA, the next shift at a console) signs in after this.
    const signOut = document.getElementById("sign-out");
    signOut.hidden = false;
    // What the page kept in the tab (the console's region and filters) was the last person's, as the tokens were.
    signOut.onclick = async () => {
      // Ended on the silo too, so a refresh token copied from this device renews no more; offline, still forgotten here.
      const refreshToken = sessionStorage.getItem(REFRESH);
      if (refreshToken) {
        await fetch("/api/auth/sign-out", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }) }).catch(() => {});
      }
      sessionStorage.clear();
      logout();
    };
    document.getElementById("app").hidden = false;
    await start(user);
    return;
  }
  form.hidden = false;
  const why = sessionStorage.getItem(SIGNED_OUT);
  if (why) { sessionStorage.removeItem(SIGNED_OUT); showError({ message: why }); }
  form.addEventListener("submit", async event => {
    event.preventDefault();
    try {
      const signedIn = await login(form.username.value, form.password.value);
      if (!roles.includes(signedIn.role)) {
        // Not kept: the next pages opened in this tab would be signed in as someone this page refused.
        forgetTokens();
        throw new Error(`This page is for ${roles.join(" / ")}; ${signedIn.name} is ${signedIn.role}.`);
      }
      showError(null);
      location.reload();
    } catch (error) { showError(error); }
  });
}

export const escape = value => String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/// An SLA clock still counting (a paused or stopped one promises nothing now).
export const isRunning = clock => clock.state === "Running" || clock.state === "Warned" || clock.state === "Breached";

/// The order's most urgent running SLA clock as a list row carries it ({ clock, startedAt, dueAt, warnAt }), or null.
export function nextDue(slaClocks) {
  const running = (slaClocks || []).filter(isRunning);
  if (!running.length) return null;
  const clock = running.reduce((a, b) => (Date.parse(a.dueAt) < Date.parse(b.dueAt) ? a : b));
  return { clock: clock.name, startedAt: clock.startedAt, dueAt: clock.dueAt, warnAt: clock.warnAt };
}

// A clock's moments, read once per clock object: the console ranks 10,000 rows on every live update.
const clockTimes = new WeakMap();

function timesOf(clock) {
  let times = clockTimes.get(clock);
  if (!times) {
    times = { due: Date.parse(clock.dueAt), started: Date.parse(clock.startedAt), warn: clock.warnAt ? Date.parse(clock.warnAt) : null };
    clockTimes.set(clock, times);
  }
  return times;
}

/// Minutes left on the order's most urgent running SLA clock, and its share of the limit left. Takes a full order
/// or a list row (which carries that clock as `due`).
export function slack(order, now = Date.now()) {
  const clock = "due" in order ? order.due : nextDue(order.slaClocks);
  if (!clock) return null;
  const { due, started, warn } = timesOf(clock);
  // Amber from the moment the silo warns (its working-time 80 %); the wall-clock share only for rows without it.
  const warned = warn !== null ? now >= warn : (due - now) / Math.max(1, due - started) < 0.2;
  return { clock: clock.clock, minutes: (due - now) / 60000, warned };
}

/// The row's colour. An order whose callback could not reach the customer runs no clock until it is called again: due
/// now it is amber (it was grey, ranked below orders due in seven weeks, and off screen in a busy region), not yet due
/// it is in time.
export function slackClass(s, order = null, now = Date.now()) {
  if (!s && order?.callbackRetryAt) return Date.parse(order.callbackRetryAt) <= now ? "warn" : "ok";
  return !s ? "muted" : s.minutes < 0 ? "late" : s.warned ? "warn" : "ok";
}

// Most urgent first by the row's colour — late, then due soon, then in time, then orders no clock runs for (on hold, or
// nothing promised) — and within a colour by priority-weighted time: minutes late × weight, minutes left ÷ weight,
// with dispatch's lateness weights (docs/workflow.md). An Emergency with 44 min left ranks as 11 min, above a Low with
// 43 min left (86 min): ranked by time alone, urgent and trivial work interleaved. The console and the PDA rank alike.
const Weight = { Low: 0.5, Normal: 1, High: 2, Emergency: 4 };
export const Band = { late: 0, warn: 1, ok: 2, muted: 3 };

/// `orders` (rows or full orders) as `[{ o, s, band, key }]`, most urgent first; `s` is the order's slack.
export function rank(orders, now = Date.now()) {
  return orders.map(o => {
    const s = slack(o, now), w = Weight[o.priority] ?? 1;
    // A callback to make again ranks by the time to call, the longest overdue first among those due.
    const retry = !s && o.callbackRetryAt ? (Date.parse(o.callbackRetryAt) - now) / 60000 : null;
    const key = retry !== null ? (retry <= 0 ? retry * w : retry / w) : !s ? -w : s.minutes < 0 ? s.minutes * w : s.minutes / w;
    return { o, s, band: Band[slackClass(s, o, now)], key };
  }).sort((a, b) => a.band - b.band || a.key - b.key || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0));
}

/// The most urgent clock's time left (`s` from slack); for an order on a customer-caused hold, since when it is held.
export function countdown(s, order) {
  if (order?.suspendedAt) return `on hold since ${when(order.suspendedAt)}`;
  // A customer the callback could not reach is called again later: no promise runs meanwhile, the time to call does.
  if (!s && order?.callbackRetryAt) {
    return Date.parse(order.callbackRetryAt) <= Date.now() ? `call again now (since ${when(order.callbackRetryAt)})` : `call again ${when(order.callbackRetryAt)}`;
  }
  if (!s) return "—";
  // Days past two (a working-day promise read "Handling 167h 59m"), hours past one, else minutes and seconds.
  const m = Math.abs(s.minutes), text = m >= 2880 ? `${Math.floor(m / 1440)}d ${Math.floor((m % 1440) / 60)}h`
    : m >= 60 ? `${Math.floor(m / 60)}h ${Math.floor(m % 60)}m` : `${Math.floor(m)}m ${Math.floor((m * 60) % 60)}s`;
  return s.minutes < 0 ? `${s.clock} late ${text}` : `${s.clock} ${text}`;
}

const pad = n => String(n).padStart(2, "0");

/// A moment as the utility writes it, in the browser's time zone: 2025-07-14 18:30.
export function when(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/// A booked visit's slot as the pages write times: 2026-12-07 11:00–12:00 (the end's date only when it is another day).
export function visitWindow(visit) {
  const start = when(visit.start);
  if (!visit.end) return start;
  const end = when(visit.end);
  return `${start}–${end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end}`;
}

/// A coordinate as typed, in degrees: NaN when blank (Number("") is 0, a place 11,000 km away) or not a number; a
/// phone keyboard's decimal comma (20,0521) reads as 20.0521.
export function degrees(typed) {
  const text = typed.trim();
  return text === "" ? NaN : Number(text.replace(/^(-?\d+),(\d+)$/, "$1.$2"));
}

/// How long until `iso` ("in 2h 59m"), or how long past it ("overdue 5m").
export function until(iso, now = Date.now()) {
  const minutes = (Date.parse(iso) - now) / 60000, m = Math.abs(minutes);
  const text = m >= 60 ? `${Math.floor(m / 60)}h ${Math.floor(m % 60)}m` : m >= 1 ? `${Math.floor(m)}m` : "under a minute";
  return minutes < 0 ? `overdue ${text}` : `in ${text}`;
}
