// The group room (/ws/groups/<id>/): chat under seat names, the counselor's mute and remove,
// the private side channel a crisis signal opens, and the clock. The words come translated
// from the page (room-strings); the socket reconnects and asks for what it missed.

import { RoomSocket } from "./room-socket.js";
import { clock, format, hotlineItem, readJson, timeFormatter, uuid4 } from "./room-util.js";

const root = document.getElementById("group-room");
const S = readJson("room-strings") || {};
const role = root.dataset.role;
const time = timeFormatter();
const $ = (id) => document.getElementById(id);

let lastSeq = 0;
let lastSideSeq = 0;
let mySeat = null;
let muted = false;
let end = new Date(root.dataset.end);
const seen = new Set();
const participants = new Map(); // seat -> {muted}
const sideSeats = new Set();

function nameOf(seat) {
  if (seat === null || seat === undefined) return S.counselor;
  return format(S.participant, { seat });
}

function announce(text) {
  $("room-announce").textContent = text;
}

function notice(text) {
  const n = $("room-notice");
  n.textContent = text;
  n.hidden = !text;
}

function addLine(list, frame, { mine }) {
  if (seen.has(frame.id)) return;
  seen.add(frame.id);
  const li = document.createElement("li");
  li.className = `msg ${mine ? "mine" : "theirs"}`;
  li.dataset.id = frame.id;
  const meta = document.createElement("p");
  meta.className = "msg-meta";
  const who = document.createElement("span");
  who.className = "msg-sender";
  who.textContent = frame.from === "counselor" ? S.counselor : nameOf(frame.seat);
  if (mine) who.textContent += ` ${S.you}`;
  const at = document.createElement("time");
  at.dateTime = frame.sent_at;
  at.textContent = time(new Date(frame.sent_at));
  meta.append(who, " ", at);
  const text = document.createElement("p");
  text.className = "msg-text";
  text.textContent = frame.text;
  li.append(meta, text);
  list.append(li);
  list.parentElement.scrollTop = list.parentElement.scrollHeight;
}

function renderParticipants() {
  const ul = $("participants");
  ul.replaceChildren();
  const counselor = document.createElement("li");
  counselor.textContent = S.counselor;
  ul.append(counselor);
  for (const [seat, p] of [...participants.entries()].sort((a, b) => a[0] - b[0])) {
    const li = document.createElement("li");
    li.dataset.seat = seat;
    li.textContent = nameOf(seat) + (seat === mySeat ? ` ${S.you}` : "") + (p.muted ? ` (${S.muted})` : "");
    if (role === "counselor") {
      const mute = document.createElement("button");
      mute.type = "button";
      mute.className = "link small";
      mute.textContent = p.muted ? S.unmute : S.mute;
      mute.dataset.action = "mute";
      mute.addEventListener("click", () => socket.send({ type: "moderation.mute", seat, muted: !p.muted }));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link small danger";
      remove.textContent = S.remove;
      remove.dataset.action = "remove";
      remove.addEventListener("click", () => {
        if (window.confirm(format(S.confirm_remove, { name: nameOf(seat) }))) {
          socket.send({ type: "moderation.remove", seat });
        }
      });
      li.append(" ", mute, " ", remove);
    }
    ul.append(li);
  }
}

function setComposer(enabled) {
  const input = $("chat-input");
  if (!input) return;
  input.disabled = !enabled || muted;
  $("chat-send").disabled = !enabled || muted;
}

function openSide(seat) {
  sideSeats.add(seat);
  const side = $("side");
  side.hidden = false;
  if (role === "counselor") {
    const select = $("side-seat");
    if (![...select.options].some((o) => Number(o.value) === seat)) {
      const option = document.createElement("option");
      option.value = seat;
      option.textContent = nameOf(seat);
      select.append(option);
    }
    $("side-intro").textContent = format(S.side_opened_counselor, { name: nameOf(seat) });
  } else {
    $("side-intro").textContent = S.side_opened_client;
  }
}

function showCrisis(hotlines) {
  const panel = $("crisis-panel");
  if (!panel) return;
  if (hotlines && hotlines.length) $("crisis-lines").replaceChildren(...hotlines.map(hotlineItem));
  panel.hidden = false;
}

function ended(text) {
  setComposer(false);
  $("room-ended").hidden = false;
  if (text) notice(text);
  socket.stop();
}

function onFrame(frame) {
  switch (frame.type) {
    case "session.config":
      mySeat = frame.seat;
      muted = frame.muted;
      end = new Date(frame.group.end);
      participants.clear();
      for (const p of frame.participants) participants.set(p.seat, { muted: p.muted });
      renderParticipants();
      for (const seat of frame.side_channels) openSide(seat);
      setComposer(true);
      if (muted) notice(S.you_muted);
      $("room-upcoming")?.remove();
      break;
    case "chat.message":
      lastSeq = Math.max(lastSeq, frame.seq);
      addLine($("messages"), frame, {
        mine: frame.from === "counselor" ? role === "counselor" : frame.seat === mySeat,
      });
      break;
    case "side.message":
      lastSideSeq = Math.max(lastSideSeq, frame.seq);
      openSide(frame.seat);
      addLine($("side-messages"), frame, {
        mine: (frame.from === "counselor") === (role === "counselor"),
      });
      break;
    case "side.opened":
      openSide(frame.seat);
      if (role !== "counselor") showCrisis(frame.hotlines);
      announce($("side-intro").textContent);
      break;
    case "crisis.resources":
      showCrisis(frame.hotlines);
      break;
    case "participant.muted":
      if (participants.has(frame.seat)) participants.get(frame.seat).muted = frame.muted;
      renderParticipants();
      if (frame.seat === mySeat) {
        muted = frame.muted;
        setComposer(true);
        notice(muted ? S.you_muted : "");
        announce(muted ? S.you_muted : S.you_unmuted);
      }
      break;
    case "participant.removed":
      if (frame.you) {
        ended(S.removed_you);
        return;
      }
      participants.delete(frame.seat);
      renderParticipants();
      announce(format(S.removed, { name: nameOf(frame.seat) }));
      break;
    case "presence":
      if (frame.role === "participant" && frame.state === "joined" && !participants.has(frame.seat)) {
        participants.set(frame.seat, { muted: false });
        renderParticipants();
      }
      if (frame.seat !== mySeat || frame.role !== role) {
        announce(format(frame.state === "joined" ? S.joined : S.left, { name: nameOf(frame.seat) }));
      }
      break;
    case "session.warning":
      notice(format(S.warning, { minutes: Math.max(1, Math.round(frame.remaining_seconds / 60)) }));
      break;
    case "session.ended":
      ended(S.ended);
      break;
    case "error":
      $("chat-status").textContent = format(S.not_sent, { detail: frame.detail });
      if (frame.code === "muted") {
        muted = true;
        setComposer(true);
      }
      break;
    default:
      break;
  }
}

function onState(state, detail) {
  const line = $("room-connection");
  if (!line) return;
  if (state === "open") line.textContent = "";
  else if (state === "connecting") line.textContent = S.connecting;
  else if (state === "waiting") line.textContent = format(S.waiting, { seconds: detail });
  else if (state === "refused") {
    line.textContent = S.refused;
    setComposer(false);
  }
  if (state !== "open") setComposer(false);
}

const socket = new RoomSocket({
  path: root.dataset.path,
  query: () => `after_seq=${lastSeq}&after_side_seq=${lastSideSeq}`,
  onFrame,
  onState,
});

$("chat-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  if (socket.send({ type: "chat.message", id: uuid4(), text })) {
    input.value = "";
    $("chat-status").textContent = "";
  }
});

$("chat-input")?.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("chat-form").requestSubmit();
  }
});

$("side-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("side-input");
  const text = input.value.trim();
  if (!text) return;
  const frame = { type: "side.message", id: uuid4(), text };
  if (role === "counselor") frame.seat = Number($("side-seat").value);
  if (socket.send(frame)) input.value = "";
});

$("crisis-hide")?.addEventListener("click", () => {
  $("crisis-panel").hidden = true;
});

setInterval(() => {
  const timer = $("room-timer");
  if (timer && socket.isOpen) timer.textContent = format(S.remaining, { clock: clock(end - Date.now()) });
}, 1000);

if (root.dataset.state === "open") socket.start();
else if (root.dataset.state === "upcoming") {
  // The socket refuses (4403) until the room opens: connect once it has.
  const wait = Math.max(0, new Date(root.dataset.opens) - Date.now()) + 1000;
  setTimeout(() => socket.start(), Math.min(wait, 2 ** 31 - 1));
}
