// The on-call queue, live: /ws/staff/ says when an alert arrives or changes; the page then
// fetches the queue as the server renders it and merges it in, keeping any form a responder
// is filling in. New alerts are announced (screen readers, a short tone, the tab's title).

import { RoomSocket } from "./room-socket.js";
import { readJson } from "./room-util.js";

const strings = readJson("oncall-strings");
const region = document.getElementById("queue-region");
const liveState = document.getElementById("live-state");
const announcer = document.getElementById("queue-announce");
const baseTitle = document.title;
let refreshing = null;
let again = false;

function editing(row) {
  return row.contains(document.activeElement) ||
    [...row.querySelectorAll("textarea, select")].some((field) => field.value.trim());
}

function merge(incoming) {
  const current = document.getElementById("alert-queue");
  const fresh = [];
  const rows = [...incoming.children].map((row) => {
    const existing = row.id ? document.getElementById(row.id) : null;
    if (!existing || !current.contains(existing)) {
      if (row.id) {
        row.classList.add("new");
        fresh.push(row);
      }
      return row;
    }
    if (existing.dataset.version === row.dataset.version) return existing;
    if (editing(existing)) {
      // Changed while someone is typing in it: update what it says, keep their form.
      for (const part of ["h3", ".alert-summary", "dl.facts"]) {
        const from = row.querySelector(part);
        const to = existing.querySelector(part);
        if (from && to) to.replaceWith(from);
      }
      existing.dataset.version = row.dataset.version;
      return existing;
    }
    return row;
  });
  current.replaceChildren(...rows);
  current.dataset.open = incoming.dataset.open;
  const open = Number(incoming.dataset.open || 0);
  document.title = open ? `(${open}) ${baseTitle}` : baseTitle;
  if (fresh.length) {
    announcer.textContent = "";
    requestAnimationFrame(() => {
      announcer.textContent = `${strings.newAlert}: ${fresh.map((row) => row.querySelector("h3")?.textContent.replace(/\s+/g, " ").trim()).join("; ")}`;
    });
    tone();
  }
}

async function refresh() {
  if (refreshing) {
    again = true; // one more after this one: a frame arrived while fetching
    return;
  }
  refreshing = (async () => {
    try {
      const response = await fetch(region.dataset.queueUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const incoming = doc.getElementById("alert-queue");
      if (incoming) merge(incoming);
    } catch (err) {
      // offline: the socket's reconnect brings a fresh queue
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    refresh();
  }
}

// A short tone for a new alert. Browsers allow sound only after the page was used once.
let audio = null;
document.addEventListener("pointerdown", () => {
  audio ??= new AudioContext();
}, { once: true });

function tone() {
  if (!audio || audio.state !== "running") return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.15, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.6);
}

const socket = new RoomSocket({
  path: "/ws/staff/",
  readyFrame: "crisis.queue",
  onFrame(frame) {
    if (frame.type === "crisis.queue" || frame.type === "crisis.alert") refresh();
  },
  onState(state) {
    liveState.dataset.state = state;
    liveState.textContent = { open: strings.live, connecting: strings.connecting, waiting: strings.reconnecting,
      refused: strings.refused }[state] || "";
  },
});
socket.start();
// Ages ("3 minutes ago") and anything missed while the socket was down stay current.
setInterval(refresh, 30000);
