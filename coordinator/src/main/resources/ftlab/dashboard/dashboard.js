// The ftlab dashboard: one page per coordinator, fed by its server-sent events (/api/stream), a
// batch every 250 ms: the coordinator's view of the cluster, its events, its answers, and the
// seconds that closed (for the charts). Times on the charts are the coordinator's clock; the
// confirmation of a click uses the browser's clock only (see confirmClick()).
"use strict";

const STATES = ["ALIVE", "SUSPECT", "DEAD", "LEFT", "QUARANTINED"];
const ACTIONS = [
  ["slow", "slow: +500 ms on every task"],
  ["error", "error: half the tasks fail UNAVAILABLE"],
  ["lie", "lie: 30% of answers wrong"],
  ["freeze", "freeze: no answers, no heartbeats"],
  ["mute-heartbeats", "mute heartbeats: answers, but no heartbeats"],
  ["crash", "crash: the process halts"],
  ["heal", "heal: remove every fault"],
];
const MAX_ANSWERS = 40;
const MAX_EVENTS = 100;
const CHART_SECONDS = 300;
const CONFIRM_WITHIN_MS = 10000;
const COLORS = { ALIVE: "#2e9d4a", SUSPECT: "#e0a100", DEAD: "#d23b3b", LEFT: "#7a7f87", QUARANTINED: "#8a4fd0" };

let lastView = null;
let viewReceivedAt = 0;
let serverNow = 0; // the coordinator's clock at the last batch

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function num(x) { return Number(x || 0); }

function stateOf(n) { return STATES.includes(n.state) ? n.state : "UNKNOWN"; }

function faultWords(f) {
  if (!f) return "";
  const parts = [];
  if (f.slow) parts.push("slow " + num(f.slow.delayMs) + " ms");
  if (f.error) parts.push("error " + (f.error.code || "UNAVAILABLE"));
  if (f.lie) parts.push("lie");
  if (f.freeze) parts.push("freeze");
  if (f.muteHeartbeats) parts.push("mute-heartbeats");
  return parts.join(", ");
}

function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour12: false }) + "." + String(at % 1000).padStart(3, "0");
}

// ---- the cluster map ----

function renderView(view) {
  if (!lastView || modeWords(view.redundancy) !== modeWords(lastView.redundancy)) {
    // the form starts from the coordinator's own mode and replicas, and follows a switch
    const r = view.redundancy || {};
    if (r.mode) document.getElementById("mode").value = r.mode.toLowerCase();
    if (r.replicas) document.getElementById("replicas").value = r.replicas;
  }
  lastView = view;
  viewReceivedAt = performance.now();
  document.getElementById("coordinator").textContent =
    (view.coordinatorId || "?") + " · mode " + modeWords(view.redundancy);
  const d = view.detector || {};
  document.getElementById("suspect-words").textContent =
    "no heartbeat for " + num(d.suspectAfterMs) + " ms";
  document.getElementById("dead-words").textContent =
    "no heartbeat for " + num(d.deadAfterMs) + " ms";
  const nodes = document.getElementById("nodes");
  const seen = new Set();
  for (const n of view.nodes || []) {
    seen.add(n.nodeId);
    let tile = nodes.querySelector(`.node[data-node="${CSS.escape(n.nodeId)}"]`);
    if (!tile) {
      tile = newTile(n.nodeId);
      nodes.append(tile);
    }
    const state = stateOf(n);
    tile.dataset.state = state;
    tile.dataset.ageMs = num(n.lastHeartbeatAgeMs);
    tile.querySelector(".state").textContent = state;
    const load = n.load || {};
    tile.querySelector(".load").textContent =
      "load " + num(load.inFlight) + "/" + num(load.capacity) +
      " · " + num(n.answers) + " answers · " + num(n.failedAttempts) + " failed";
    tile.querySelector(".reason").textContent = n.lastTransitionReason || "";
    tile.querySelector(".reason").title = n.lastTransitionReason || "";
    tile.querySelector(".faults").textContent = faultWords(n.faults);
    tile.querySelector('[data-action="readmit"]').hidden = state !== "QUARANTINED";
  }
  for (const tile of nodes.querySelectorAll(".node")) {
    if (!seen.has(tile.dataset.node)) tile.remove();
  }
  tickAges();
  renderDefences(view);
  confirmClick();
}

// ---- the defence scoreboard ----

// which layer caught what (docs/security.md): the coordinator's counts since it started, and the
// nodes vote mode quarantined; a count that rises flashes
let defencesShown = false;

function renderDefences(view) {
  const sec = view.security || {};
  const tls = sec.tls === true;
  document.body.dataset.readOnly = String(tls);
  document.getElementById("read-only").hidden = !tls;
  document.getElementById("map-note").textContent = tls
    ? "as this coordinator sees it (read-only with mutual TLS)"
    : "as this coordinator sees it; buttons inject a fault into that node";
  const mode = document.getElementById("security-mode");
  mode.dataset.tls = String(tls);
  mode.textContent = tls
    ? sec.mode + " · " + num(sec.handshakes) + " TLS handshakes (one per new connection)"
    : "plaintext: anyone who reaches a port may call anything (--tls-dir turns on mutual TLS); the rate limits and the membership's guards still hold";
  mode.title = mode.textContent;
  const refused = sec.refused || {};
  const quarantined = (view.nodes || []).filter(n => stateOf(n) === "QUARANTINED").map(n => n.nodeId);
  for (const tile of document.querySelectorAll("#layers .layer")) {
    const layer = tile.dataset.layer;
    const count = layer === "vote" ? quarantined.length
      : layer === "membership" ? num(view.heartbeatsRefused) : num(refused[layer]);
    if (defencesShown && count > Number(tile.dataset.count)) { // not on the page's first view
      tile.classList.remove("hit");
      void tile.offsetWidth; // restart the animation
      tile.classList.add("hit");
    }
    tile.dataset.count = String(count);
    tile.querySelector("b").textContent = String(count);
    if (layer === "membership" && view.lastGuardEvent) tile.title = "latest: " + view.lastGuardEvent;
    if (layer === "vote") tile.title = quarantined.length ? "QUARANTINED now: " + quarantined.join(", ") : "no node QUARANTINED now";
  }
  const last = document.getElementById("last-refusal");
  last.textContent = sec.lastRefusal
    ? "latest, " + Math.round(num(sec.lastRefusalAgeMs) / 1000) + " s ago: " + sec.lastRefusal
    : "";
  last.title = last.textContent;
  defencesShown = true;
  const revoked = document.getElementById("revoked");
  revoked.textContent = (sec.revoked || []).length ? "revoked: " + sec.revoked.join(", ") : "";
  revoked.title = revoked.textContent;
}

function modeWords(r) {
  if (!r || !r.mode) return "?";
  const m = r.mode.toLowerCase();
  return (m === "parallel" || m === "vote") && r.replicas ? m + " x" + r.replicas : m;
}

function newTile(id) {
  const buttons = el("div", { class: "buttons" });
  for (const [action, title] of ACTIONS) {
    const b = el("button", { type: "button", "data-action": action, title }, action === "mute-heartbeats" ? "mute" : action);
    b.addEventListener("click", () => nodeControl(id, action));
    buttons.append(b);
  }
  const readmit = el("button", { type: "button", "data-action": "readmit", title: "take it back" }, "readmit");
  readmit.addEventListener("click", () => nodeControl(id, "readmit"));
  readmit.hidden = true;
  buttons.append(readmit);
  return el("div", { class: "node", "data-node": id, "data-state": "UNKNOWN" },
    el("div", { class: "top" }, el("span", { class: "id" }, id), el("span", { class: "state" }, "?")),
    el("div", { class: "facts" }, el("span", { class: "age" }, ""), el("br"), el("span", { class: "load" }, "")),
    el("div", { class: "faults" }, ""),
    el("div", { class: "reason" }, ""),
    buttons);
}

// the heartbeat age ticks between batches: the age reported, plus the time since it was reported
function tickAges() {
  const since = performance.now() - viewReceivedAt;
  for (const tile of document.querySelectorAll(".node")) {
    const age = Number(tile.dataset.ageMs) + since;
    tile.querySelector(".age").textContent =
      "last heartbeat " + (age < 10000 ? Math.round(age) + " ms" : (age / 1000).toFixed(1) + " s") + " ago";
  }
}
setInterval(tickAges, 100);

// ---- controls, and whether they took effect ----

function say(text, ok, confirmed) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = "status" + (ok ? "" : " error");
  s.dataset.confirmed = confirmed || "";
}

async function post(url) {
  const r = await fetch(url, { method: "POST", headers: { "X-Ftlab": "1" } });
  return r.json();
}

/**
 * What this coordinator's view must show for a click to count as seen, as `ftlab chaos` checks it:
 * a slow, failing or lying node reports its faults in its heartbeats; a frozen or muted one goes
 * silent and SUSPECT; a crashed one DEAD; a healed one beats again without faults.
 * shownFor: for how long, when the coordinator made the view, it had been showing it.
 */
function expectation(action, before) {
  const age = n => num(n.lastHeartbeatAgeMs);
  const since = n => num(n.sinceTransitionMs);
  const fault = { slow: "slow", error: "error", lie: "lie" }[action];
  if (fault) return { shows: n => !!(n.faults && n.faults[fault]), shownFor: age, what: `its heartbeats report ${action}` };
  if (action === "freeze" || action === "mute-heartbeats") {
    return { shows: n => n.state === "SUSPECT" || n.state === "DEAD", shownFor: since, what: "it is silent: SUSPECT" };
  }
  if (action === "crash") return { shows: n => n.state === "DEAD", shownFor: since, what: "it is DEAD" };
  if (action === "heal") {
    if (before && before.state !== "ALIVE") {
      return { shows: n => n.state === "ALIVE", shownFor: since, what: "it beats again: ALIVE" };
    }
    return { shows: n => !faultWords(n.faults), shownFor: age, what: "its heartbeats report no faults" };
  }
  if (action === "readmit") return { shows: n => n.state !== "QUARANTINED", shownFor: since, what: "it is out of quarantine" };
  return null;
}

let pending = null; // a click waiting to be seen in the coordinator's view

async function nodeControl(id, action) {
  const before = (lastView && (lastView.nodes || []).find(n => n.nodeId === id)) || null;
  const sentAt = performance.now();
  say(`${action} ${id}: sending…`, true);
  pending = null;
  try {
    const body = await post(`api/nodes/${encodeURIComponent(id)}/${action}`);
    if (!body.ok) { say(body.message, false, "no"); return; }
    const expect = expectation(action, before);
    pending = expect && { id, action, sentAt, expect, message: body.message };
    say(body.message + (expect ? ` · waiting for ${coordinatorName()} to see it (${expect.what})…` : ""), true);
    // the verdict comes with a view received after the click; if none comes (the stream is down),
    // this says so when the time is up
    if (pending) setTimeout(confirmClick, CONFIRM_WITHIN_MS + 100);
  } catch (e) {
    say("the coordinator did not answer: " + e.message, false, "no");
  }
}

function coordinatorName() { return (lastView && lastView.coordinatorId) || "the coordinator"; }

// Only the browser's clock is read: the view reports durations, so "when the view arrived, minus
// how long it had been showing the change" is when the coordinator came to show it, at the latest.
function confirmClick() {
  if (!pending || !lastView) return;
  const p = pending;
  const n = (lastView.nodes || []).find(x => x.nodeId === p.id);
  const fresh = viewReceivedAt > p.sentAt; // a view made before the click proves nothing
  if (fresh && n && p.expect.shows(n)) {
    const after = Math.round(viewReceivedAt - p.expect.shownFor(n) - p.sentAt);
    pending = null;
    if (after < 0) {
      say(`${p.message} · ${coordinatorName()} showed that already before the click: ${p.expect.what}`, true, "yes");
    } else {
      say(`${p.message} · ${coordinatorName()} sees it: ${p.expect.what}, ${after} ms after the click`, true, "yes");
    }
  } else if (performance.now() - p.sentAt > CONFIRM_WITHIN_MS) {
    pending = null;
    const now = n ? `${n.state}${faultWords(n.faults) ? ", " + faultWords(n.faults) : ", no faults"}` : "no such node any more";
    say(`${p.message} · ${coordinatorName()} does not see it after ${CONFIRM_WITHIN_MS / 1000} s: it has ${p.id} ${now}`, false, "no");
  }
}

document.getElementById("mode-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const mode = document.getElementById("mode").value;
  const replicas = document.getElementById("replicas").value;
  pending = null;
  try {
    const body = await post(`api/mode?mode=${encodeURIComponent(mode)}&replicas=${encodeURIComponent(replicas)}`);
    say(body.message, body.ok, body.ok ? "yes" : "no");
  } catch (e) {
    say("the coordinator did not answer: " + e.message, false, "no");
  }
});

// ---- every coordinator, one click away ----

let others = [];

async function loadCoordinators() {
  const nav = document.getElementById("coordinators");
  let list = [];
  try {
    list = await (await fetch("api/coordinators")).json();
  } catch (e) {
    setTimeout(loadCoordinators, 5000); // the coordinator is not answering yet
    return;
  }
  nav.replaceChildren();
  for (const c of list) {
    if (c.self) {
      nav.append(el("span", { class: "coord self", "data-coordinator": c.id, title: "this page's coordinator" }, c.id));
    } else {
      const a = el("a", { class: "coord", href: c.url, "data-coordinator": c.id, "data-reachable": "unknown" },
        c.id + " ", el("span", { class: "peer" }, "…"));
      nav.append(a);
      others.push({ id: c.id, url: c.url, link: a });
    }
  }
  if (others.length === 0) {
    nav.append(el("span", { class: "peer" }, "no other coordinator's dashboard known (FTLAB_DASHBOARDS)"));
  }
  pollOthers();
}

// What each other coordinator concluded, beside this one's view: a difference stands out (only
// while this page's own stream is live: a stale view proves no disagreement). One round at a
// time, every peer at once; the next round 2 s after this one ends.
async function pollOthers() {
  await Promise.all(others.map(pollOne));
  setTimeout(pollOthers, 2000);
}

async function pollOne(o) {
  const words = o.link.querySelector(".peer");
  try {
    const r = await fetch(o.url + "api/view", { cache: "no-store", signal: AbortSignal.timeout(1500) });
    const view = await r.json();
    const counts = {};
    const differ = [];
    const live = document.getElementById("connection").dataset.connected === "true";
    const here = new Map(((live && lastView && lastView.nodes) || []).map(n => [n.nodeId, stateOf(n)]));
    for (const n of view.nodes || []) {
      const s = stateOf(n);
      counts[s] = (counts[s] || 0) + 1;
      if (here.has(n.nodeId) && here.get(n.nodeId) !== s) differ.push(`${n.nodeId} ${s} (here ${here.get(n.nodeId)})`);
    }
    words.textContent = STATES.filter(s => counts[s]).map(s => counts[s] + " " + s).join(" · ") || "no nodes";
    if (differ.length) words.textContent += " · sees " + differ.join(", ");
    o.link.dataset.reachable = "true";
    o.link.dataset.differs = differ.length ? "true" : "false";
    o.link.title = `what ${o.id} concluded (open its dashboard): ` +
      (view.nodes || []).map(n => `${n.nodeId} ${stateOf(n)}`).join(", ");
  } catch (e) {
    words.textContent = "not answering";
    o.link.dataset.reachable = "false";
    o.link.title = `${o.id}'s dashboard did not answer within 1.5 s`;
  }
}

// ---- live answers, and one request attempt by attempt ----

let selected = null; // the answer held in the swimlanes; null: follow the latest interesting one

// An answer worth drawing: it failed, a replica was outvoted, an attempt failed, or it took more
// attempts than its mode sends at once (a retry, a hedge); a vote's 3 attempts are no news.
function interesting(a) {
  const attempts = a.attempts || [];
  const many = /^(?:vote|parallel) x(\d+)/.exec(a.mode || "");
  const atOnce = many ? Number(many[1]) : 1;
  return !a.ok || a.outvoted || attempts.length > atOnce ||
    attempts.some(t => t.outcome !== "OK" && t.outcome !== "CANCELLED");
}

function addAnswers(answers, notShown) {
  const body = document.getElementById("answers");
  let latestInteresting = null;
  for (const a of answers) {
    const attempts = a.attempts || [];
    const id = a.request || "";
    const row = el("tr", { class: a.ok ? (a.outvoted ? "outvoted" : (interesting(a) ? "extra" : "")) : "failed", "data-request": id },
      el("td", {}, id),
      el("td", {}, a.ok ? a.node : "FAILED " + (a.code || "")),
      el("td", {}, a.ok ? a.how : (a.mode || "")),
      el("td", { title: attempts.map(t => `${t.node} ${t.kind} ${t.outcome} at ${num(t.startMs).toFixed(1)} ms`).join("\n") },
        String(attempts.length)),
      el("td", {}, num(a.ms).toFixed(1)));
    if (!a.ok) row.title = a.why || "";
    row.addEventListener("click", () => hold(a));
    body.prepend(row);
    if (interesting(a)) latestInteresting = a;
  }
  while (body.rows.length > MAX_ANSWERS) {
    body.deleteRow(body.rows.length - 1);
  }
  document.getElementById("answers-note").textContent =
    notShown > 0 ? `(${notShown} more in the last 250 ms not listed)` : "latest first; click one to see its attempts";
  addToStrip(answers);
  if (!selected) {
    const a = latestInteresting || (!document.querySelector("#lanes svg") && answers[answers.length - 1]);
    if (a) drawLanes(a);
  }
}

function hold(a) {
  selected = a;
  document.getElementById("follow").hidden = false;
  document.getElementById("lanes-note").textContent = "held; the answers go on";
  for (const r of document.querySelectorAll("#answers tr.selected")) r.classList.remove("selected");
  const row = document.querySelector(`#answers tr[data-request="${CSS.escape(a.request || "")}"]`);
  if (row) row.classList.add("selected");
  drawLanes(a);
}

document.getElementById("follow").addEventListener("click", () => {
  selected = null;
  document.getElementById("follow").hidden = true;
  document.getElementById("lanes-note").textContent = "the latest that took extra attempts; click an answer to hold it";
  for (const r of document.querySelectorAll("#answers tr.selected")) r.classList.remove("selected");
});

function outcomeColor(t, a) {
  if ((a.outvotedNodes || []).includes(t.node) && t.outcome === "OK") return COLORS.QUARANTINED;
  if (t.outcome === "OK") return COLORS.ALIVE;
  if (t.outcome === "CANCELLED") return COLORS.LEFT;
  return COLORS.DEAD;
}

// A sequence diagram drawn from the answer's provenance: time runs to the right, the coordinator
// on the top lane, each node it asked below; an arrow down when an attempt was sent, a bar while it
// ran, an arrow up with its outcome (a cross: cancelled, the request no longer needed it).
function drawLanes(a) {
  const box = document.getElementById("lanes");
  const attempts = a.attempts || [];
  const nodes = [...new Set(attempts.map(t => t.node))];
  const W = Math.max(320, box.clientWidth || 480);
  const rowH = 34, top = 22, left = 96, right = 70;
  const H = top + rowH * (nodes.length + 1) + 18;
  const end = Math.max(num(a.ms), ...attempts.map(t => num(t.startMs) + num(t.ms)), 0.001);
  const x = ms => left + (W - left - right) * ms / end;
  const y = i => top + rowH * i + rowH / 2;
  const title = `${a.request}: ` + (a.ok ? `answered by ${a.node} (${a.how})` : `FAILED ${a.code || ""}`) +
    ` in ${num(a.ms).toFixed(1)} ms, ${a.mode || ""}`;
  const s = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, "data-request": a.request || "", role: "img", "aria-label": title });
  s.append(svg("text", { x: 4, y: 14, class: "lane-title" }, title));
  const lanes = ["coordinator", ...nodes];
  lanes.forEach((name, i) => {
    s.append(svg("line", { x1: left, x2: W - right, y1: y(i), y2: y(i), class: "lane" }));
    s.append(svg("text", { x: 4, y: y(i) + 4, class: "lane-name" }, i === 0 ? coordinatorName() : name));
  });
  attempts.forEach(t => {
    const r = nodes.indexOf(t.node) + 1;
    const color = outcomeColor(t, a);
    const x0 = x(num(t.startMs)), x1 = x(num(t.startMs) + num(t.ms));
    const outcome = (a.outvotedNodes || []).includes(t.node) && t.outcome === "OK" ? "outvoted" : t.outcome;
    const g = svg("g", { class: "attempt", "data-node": t.node, "data-kind": t.kind, "data-outcome": outcome },
      svg("title", {}, `${t.node}: ${t.kind}, sent at ${num(t.startMs).toFixed(1)} ms, ${outcome} after ${num(t.ms).toFixed(1)} ms` +
        (t.detail ? `\n${t.detail}` : "")),
      svg("line", { x1: x0, y1: y(0) + 3, x2: x0, y2: y(r) - 7, stroke: "#5d6675", "marker-end": "url(#arrow)" }),
      svg("rect", { x: x0, y: y(r) - 6, width: Math.max(2, x1 - x0), height: 12, rx: 3, fill: color }),
      svg("text", { x: x0 + 3, y: y(r) - 9, class: "attempt-words" }, `${t.kind} ${outcome} ${num(t.ms).toFixed(1)} ms`));
    if (t.outcome === "CANCELLED") {
      g.append(svg("text", { x: x1 + 2, y: y(r) + 4, class: "cancelled" }, "×"));
    } else {
      g.append(svg("line", { x1: x1, y1: y(r) - 7, x2: x1, y2: y(0) + 3, stroke: color, "marker-end": "url(#arrow)" }));
    }
    s.append(g);
  });
  const xa = x(num(a.ms));
  s.append(svg("line", { x1: xa, x2: xa, y1: top, y2: H - 14, class: a.ok ? "answer-line" : "answer-line failed" }));
  s.append(svg("text", { x: xa + 3, y: H - 4, class: "lane-axis" }, (a.ok ? "answer " : "failed ") + num(a.ms).toFixed(1) + " ms"));
  s.append(svg("text", { x: left, y: H - 4, class: "lane-axis" }, "0 ms"));
  s.prepend(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#5d6675" }))));
  box.replaceChildren(s);
}

// The rolling strip: the latest requests that took extra attempts (or failed, or had a replica
// outvoted), each drawn small, the newest first; a click holds one in the lanes above.
const STRIP = 6;
const strip = [];

function addToStrip(answers) {
  for (const a of answers) {
    if (interesting(a)) {
      strip.unshift(a);
    }
  }
  strip.splice(STRIP);
  const box = document.getElementById("strip");
  box.replaceChildren(...strip.map(miniLanes));
  box.hidden = strip.length === 0;
}

function miniLanes(a) {
  const attempts = a.attempts || [];
  const nodes = [...new Set(attempts.map(t => t.node))];
  const W = 120, rowH = 9, H = rowH * (nodes.length + 1) + 2;
  const end = Math.max(num(a.ms), ...attempts.map(t => num(t.startMs) + num(t.ms)), 0.001);
  const x = ms => 2 + (W - 4) * ms / end;
  const s = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  attempts.forEach(t => {
    const r = nodes.indexOf(t.node) + 1;
    s.append(svg("rect", { x: x(num(t.startMs)), y: rowH * r, width: Math.max(2, x(num(t.startMs) + num(t.ms)) - x(num(t.startMs))), height: rowH - 3, rx: 2, fill: outcomeColor(t, a) }));
  });
  s.append(svg("line", { x1: x(num(a.ms)), x2: x(num(a.ms)), y1: 0, y2: H, class: a.ok ? "answer-line" : "answer-line failed" }));
  const b = el("button", { type: "button", class: "mini", "data-request": a.request || "",
    title: `${a.request}: ${a.ok ? a.node + " (" + a.how + ")" : "FAILED " + (a.code || "")}, ${attempts.length} attempts, ${num(a.ms).toFixed(1)} ms` },
    s, el("span", {}, `${a.request} · ${a.ok ? a.how : "FAILED"} · ${num(a.ms).toFixed(0)} ms`));
  b.addEventListener("click", () => hold(a));
  return b;
}

// ---- events ----

const chartEvents = []; // transitions, faults, clicks, mode switches: marked on the charts

function addEvents(events) {
  const list = document.getElementById("events");
  for (const e of events) {
    const li = el("li", { "data-kind": e.kind || "", "data-to": e.to || "", "data-node": e.node || "", "data-at": String(e.at) },
      el("time", {}, clock(e.at)), e.text);
    // newest first, by the coordinator's time: a run of failovers is told when its second closes,
    // stamped with that second's start, so it may come after events that happened later
    let after = list.firstElementChild;
    while (after && Number(after.dataset.at) > e.at) after = after.nextElementSibling;
    list.insertBefore(li, after);
    if (["transition", "fault", "control", "mode", "forgotten"].includes(e.kind)) chartEvents.push(e);
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  const oldest = serverNow - CHART_SECONDS * 1000;
  while (chartEvents.length && chartEvents[0].at < oldest - 60000) chartEvents.shift();
}

// ---- charts ----

const seconds = { t: [], answered: [], failed: [], p50: [], p99: [] };
let chart = null;

function addSeconds(list) {
  for (const s of list) {
    const t = s.t / 1000;
    if (seconds.t.length && t <= seconds.t[seconds.t.length - 1]) continue; // had it already
    seconds.t.push(t);
    seconds.answered.push(num(s.answered));
    seconds.failed.push(num(s.failed));
    seconds.p50.push(s.p50 === undefined ? null : Math.max(0.01, s.p50));
    seconds.p99.push(s.p99 === undefined ? null : Math.max(0.01, s.p99));
  }
  for (const k of Object.keys(seconds)) {
    if (seconds[k].length > CHART_SECONDS) seconds[k].splice(0, seconds[k].length - CHART_SECONDS);
  }
  document.getElementById("chart").dataset.points = String(seconds.t.length);
  if (chart) chart.setData([seconds.t, seconds.answered, seconds.failed, seconds.p50, seconds.p99]);
}

// Windows to shade: from a fault reported to its clearing, from a node leaving ALIVE to its return.
// A node in such a state now whose start is older than the events the page has: from the left edge.
function faultWindows() {
  const open = new Map();
  const out = [];
  const start = (key, w) => { out.push(w); open.set(key, w); };
  const end = (key, at) => { if (open.has(key)) { open.get(key).to = at; open.delete(key); } };
  for (const e of chartEvents) {
    if (e.kind === "fault") {
      end("fault " + e.node, e.at);
      if (e.faults) start("fault " + e.node, { kind: "fault", node: e.node, label: e.faults, from: e.at, to: null });
    } else if (e.kind === "transition") {
      const key = "down " + e.node;
      if (e.to === "ALIVE") end(key, e.at);
      else if (open.has(key)) open.get(key).label = e.to;
      else start(key, { kind: "down", node: e.node, label: e.to, from: e.at, to: null });
    } else if (e.kind === "forgotten") {
      end("down " + e.node, e.at); // out of the table: its window ends here
    }
  }
  for (const n of (lastView && lastView.nodes) || []) {
    if (stateOf(n) !== "ALIVE" && !open.has("down " + n.nodeId)) out.push({ kind: "down", node: n.nodeId, label: stateOf(n), from: 0, to: null });
    if (faultWords(n.faults) && !open.has("fault " + n.nodeId)) out.push({ kind: "fault", node: n.nodeId, label: faultWords(n.faults), from: 0, to: null });
  }
  return out;
}

function shadeWindows(u) {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const xmin = u.scales.x.min, xmax = u.scales.x.max;
  if (xmin == null || xmax == null) return;
  ctx.save();
  ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
  const labelEnds = [0, 0, 0, 0]; // where each label row is free again
  for (const w of faultWindows()) {
    const a = Math.max(w.from / 1000, xmin);
    const b = Math.min((w.to == null ? serverNow : w.to) / 1000, xmax);
    if (b <= a) continue;
    const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
    ctx.fillStyle = w.kind === "fault" ? "rgba(224,161,0,0.20)" : "rgba(210,59,59,0.15)";
    ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    const label = `${w.node} ${w.label}`;
    const lx = Math.min(x0 + 3, left + width - ctx.measureText(label).width);
    const row = labelEnds.findIndex(end => end <= lx);
    if (row < 0) continue; // no room: the shading is there, and the events list has the words
    ctx.fillStyle = w.kind === "fault" ? "#8a6200" : "#a12a2a";
    ctx.fillText(label, lx, top + (11 + 12 * row) * devicePixelRatio);
    labelEnds[row] = lx + ctx.measureText(label).width + 6;
  }
  ctx.restore();
}

function markEvents(u) {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  const xmin = u.scales.x.min, xmax = u.scales.x.max;
  if (xmin == null || xmax == null) return;
  ctx.save();
  ctx.lineWidth = devicePixelRatio;
  for (const e of chartEvents) {
    // the shaded windows tell faults and returns to ALIVE; a join (from NONE) is no news
    if (e.kind === "fault" || (e.kind === "transition" && (e.to === "ALIVE" || e.from === "NONE"))) continue;
    const t = e.at / 1000;
    if (t < xmin || t > xmax) continue;
    const x = Math.round(u.valToPos(t, "x", true));
    ctx.strokeStyle = e.kind === "transition" ? (COLORS[e.to] || "#1d2430") : (e.kind === "mode" ? "#1d4f91" : "#1d2430");
    ctx.setLineDash(e.kind === "transition" ? [] : [4 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  ctx.restore();
}

function makeChart() {
  const box = document.getElementById("chart");
  if (typeof uPlot === "undefined") {
    box.textContent = "the charts' script (uplot.js) did not load";
    return;
  }
  const width = Math.max(300, box.clientWidth || 700);
  chart = new uPlot({
    width, height: 190,
    scales: {
      x: { time: true },
      rate: { range: (u, min, max) => [0, Math.max(5, (max || 0) * 1.15)] },
      ms: { distr: 3, log: 10 },
    },
    series: [
      { value: (u, v) => v == null ? "" : clock(v * 1000).slice(0, 8) },
      { label: "answered/s", scale: "rate", stroke: COLORS.ALIVE, width: 2, fill: "rgba(46,157,74,0.08)" },
      { label: "failed/s", scale: "rate", stroke: COLORS.DEAD, width: 2 },
      { label: "p50 ms", scale: "ms", stroke: "#1d4f91", width: 1.5, value: (u, v) => v == null ? "–" : v.toFixed(1) },
      { label: "p99 ms", scale: "ms", stroke: "#8a4fd0", width: 1.5, value: (u, v) => v == null ? "–" : v.toFixed(1) },
    ],
    axes: [
      { values: (u, splits) => splits.map(v => v == null ? "" : clock(v * 1000).slice(0, 8)), space: 70 },
      { scale: "rate", label: "requests/s", size: 50 },
      { scale: "ms", side: 1, label: "ms (log)", size: 55, grid: { show: false } },
    ],
    hooks: { drawClear: [shadeWindows], draw: [markEvents] },
  }, [seconds.t, seconds.answered, seconds.failed, seconds.p50, seconds.p99], box);
  new ResizeObserver(() => chart.setSize({ width: Math.max(300, box.clientWidth), height: 190 })).observe(box);
}

// ---- the stream ----

function connect() {
  const source = new EventSource("api/stream");
  const badge = document.getElementById("connection");
  source.onopen = () => { badge.dataset.connected = "true"; badge.textContent = "live"; };
  source.onerror = () => {
    badge.dataset.connected = "false";
    badge.textContent = "reconnecting…";
    if (source.readyState === EventSource.CLOSED) {
      // refused (too many dashboards open) or not a stream: the browser gives up, we do not
      badge.textContent = "refused: trying again in 5 s";
      setTimeout(connect, 5000);
    }
  };
  source.onmessage = (m) => {
    const batch = JSON.parse(m.data);
    serverNow = num(batch.at);
    if (batch.first) {
      document.getElementById("answers").replaceChildren();
      document.getElementById("events").replaceChildren();
      chartEvents.length = 0;
      for (const k of Object.keys(seconds)) seconds[k].length = 0;
      strip.length = 0;
    }
    addEvents(batch.events || []);
    renderView(batch.view);
    addAnswers(batch.answers || [], num(batch.answersNotShown));
    addSeconds(batch.seconds || []);
  };
}

makeChart();
loadCoordinators();
connect();
