// The ftlab dashboard: one page per coordinator, fed by its server-sent events (/api/stream), a
// batch every 250 ms: the coordinator's view of the cluster, its membership events and its answers.
"use strict";

const STATES = ["ALIVE", "SUSPECT", "DEAD", "LEFT", "QUARANTINED"];
const ACTIONS = [
  ["slow", "slow: +500 ms on every task"],
  ["error", "error: half the tasks fail UNAVAILABLE"],
  ["lie", "lie: 30% of answers wrong"],
  ["freeze", "freeze: no answers, no heartbeats"],
  ["mute-heartbeats", "mute: answers, but no heartbeats"],
  ["crash", "crash: the process halts"],
  ["heal", "heal: remove every fault"],
];
const MAX_ANSWERS = 40;
const MAX_EVENTS = 100;

let lastView = null;
let viewReceivedAt = 0;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
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

function renderView(view) {
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
    tile.querySelector(".faults").textContent = faultWords(n.faults);
    tile.querySelector('[data-action="readmit"]').hidden = state !== "QUARANTINED";
  }
  for (const tile of nodes.querySelectorAll(".node")) {
    if (!seen.has(tile.dataset.node)) tile.remove();
  }
  tickAges();
}

function modeWords(r) {
  if (!r || !r.mode) return "?";
  const m = r.mode.toLowerCase();
  return (m === "parallel" || m === "vote") ? m + " x" + (r.replicas || 3) : m;
}

function newTile(id) {
  const buttons = el("div", { class: "buttons" });
  for (const [action, title] of ACTIONS) {
    const b = el("button", { type: "button", "data-action": action, title }, action);
    b.addEventListener("click", () => control(`/api/nodes/${encodeURIComponent(id)}/${action}`));
    buttons.append(b);
  }
  const readmit = el("button", { type: "button", "data-action": "readmit", title: "take it back" }, "readmit");
  readmit.addEventListener("click", () => control(`/api/nodes/${encodeURIComponent(id)}/readmit`));
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

function addAnswers(answers, notShown) {
  const body = document.getElementById("answers");
  for (const a of answers) {
    const attempts = a.attempts || [];
    const row = el("tr", { class: a.ok ? (a.outvoted ? "outvoted" : (attempts.length > 1 ? "extra" : "")) : "failed" },
      el("td", {}, a.request || ""),
      el("td", {}, a.ok ? a.node : "FAILED " + (a.code || "")),
      el("td", {}, a.ok ? a.how : (a.mode || "")),
      el("td", { title: attempts.map(t => `${t.node} ${t.kind} ${t.outcome} at ${t.startMs.toFixed(1)} ms`).join("\n") },
        String(attempts.length)),
      el("td", {}, a.ms.toFixed(1)));
    if (!a.ok) row.title = a.why || "";
    body.prepend(row);
  }
  while (body.rows.length > MAX_ANSWERS) body.deleteRow(body.rows.length - 1);
  document.getElementById("answers-note").textContent =
    notShown > 0 ? `(${notShown} more in the last 250 ms not listed)` : "latest first";
}

function addEvents(events) {
  const list = document.getElementById("events");
  for (const e of events) {
    const time = new Date(e.at).toLocaleTimeString([], { hour12: false }) + "." +
      String(e.at % 1000).padStart(3, "0");
    const li = el("li", { "data-kind": e.kind || "", "data-to": e.to || "", "data-node": e.node || "", "data-at": String(e.at) },
      el("time", {}, time), e.text);
    list.prepend(li);
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function say(text, ok) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = "status" + (ok ? "" : " error");
}

async function control(url) {
  say("sending…", true);
  try {
    const r = await fetch(url, { method: "POST", headers: { "X-Ftlab": "1" } });
    const body = await r.json();
    say(body.message, body.ok);
  } catch (e) {
    say("the coordinator did not answer: " + e.message, false);
  }
}

document.getElementById("mode-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const mode = document.getElementById("mode").value;
  const replicas = document.getElementById("replicas").value;
  control(`/api/mode?mode=${encodeURIComponent(mode)}&replicas=${encodeURIComponent(replicas)}`);
});

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
    if (batch.first) {
      document.getElementById("answers").replaceChildren();
      document.getElementById("events").replaceChildren();
    }
    renderView(batch.view);
    addEvents(batch.events || []);
    addAnswers(batch.answers || [], num(batch.answersNotShown));
  };
}
connect();
