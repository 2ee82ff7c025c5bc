// The session room: connects the page to /ws/sessions/<id>/ once the room opens, and wires
// the chat, presence, the clock, the crisis panel and (voice/video sessions) the call.
// Every string shown comes translated from the page (json_script "room-strings").

import { Call } from "./room-call.js";
import { Chat } from "./room-chat.js";
import { RoomSocket } from "./room-socket.js";
import { autosaveNotes, enhanceForms } from "./room-tools.js";
import { clock, format, hotlineItem, readJson } from "./room-util.js";

const config = readJson("room-config");
const strings = readJson("room-strings");
const $ = (id) => document.getElementById(id);

const room = { config, pc: null, socket: null, chat: null, call: null };
window.piankeRoom = room; // the browser tests read the call's RTCPeerConnection from here

const notice = $("room-announce");
function announce(text) {
  if (!notice) return;
  notice.textContent = "";
  // A fresh text node each time, so the same words are announced again.
  requestAnimationFrame(() => {
    notice.textContent = text;
  });
}

// --- the counselor's tools and the client's crisis panel (every state) --------------------

const noteForm = $("note-form");
if (noteForm) autosaveNotes(noteForm, strings);
enhanceForms(document, strings);

const crisisPanel = $("crisis-panel");
$("crisis-hide")?.addEventListener("click", () => {
  crisisPanel.hidden = true;
});

function showCrisisPanel(hotlines) {
  if (!crisisPanel) return;
  const list = $("crisis-lines");
  if (Array.isArray(hotlines) && hotlines.length) list.replaceChildren(...hotlines.map(hotlineItem));
  crisisPanel.hidden = false;
  crisisPanel.scrollIntoView({ block: "start", behavior: "smooth" });
}

// Someone else's risk ("my friend wants to die"): steps on helping them, above the hotlines.
function showHelpingSomeone(helping) {
  const box = $("crisis-helping");
  if (!box) return;
  $("crisis-helping-title").textContent = helping.title || "";
  $("crisis-helping-steps").replaceChildren(...(helping.steps || []).map((step) => {
    const li = document.createElement("li");
    li.textContent = step;
    return li;
  }));
  box.hidden = false;
}

// --- the live room -------------------------------------------------------------------------

const LIVE = config.mode !== "async" && (config.state === "open" || config.state === "upcoming");
if (LIVE) startLiveRoom();

function startLiveRoom() {
  // The server's clock, not the device's: a phone's clock can be minutes off.
  const skew = Date.parse(config.serverNow) - Date.now();
  const now = () => Date.now() + skew;
  const opensAt = Date.parse(config.opensAt);
  const start = Date.parse(config.start);
  let end = Date.parse(config.end);
  let over = false;
  let opened = false;
  const peerRole = config.role === "client" ? "counselor" : "client";

  const timer = $("room-timer");
  const connection = $("room-connection");
  const presence = $("room-presence");

  const socket = new RoomSocket({
    path: config.wsPath,
    lastSeq: () => chat.lastSeq,
    onFrame,
    onState,
  });
  room.socket = socket;

  const chat = new Chat({
    log: $("chat-log"),
    scroller: $("chat-scroll"),
    form: $("chat-form"),
    input: $("chat-input"),
    button: $("chat-send"),
    typingLine: $("typing"),
    strings,
    config,
    send: (frame) => socket.send(frame),
    announce,
  });
  room.chat = chat;
  chat.scrollToEnd();

  let call = null;
  if ($("call")) {
    call = new Call({
      mode: config.mode,
      polite: config.polite,
      strings,
      storageKey: `pianke.call.${config.bookingId}.${config.userId}`,
      send: (type, payload) => socket.send({ type, payload }),
      nodes: {
        join: $("call-join"),
        hangup: $("call-hangup"),
        mute: $("call-mute"),
        camera: $("call-camera"),
        play: $("call-play"),
        status: $("call-status"),
        remoteVideo: $("remote-video"),
        remoteAudio: $("remote-audio"),
        localVideo: $("local-video"),
      },
    });
    room.call = call;
    // Closing the tab: tell the other side at once instead of letting their call time out.
    window.addEventListener("pagehide", () => {
      if (call.pc) socket.send({ type: "webrtc.ice", payload: { candidate: "", bye: true, pcid: call.pcId, to: call.remotePcId } });
    });
  }

  function setPresence(here, joined = false) {
    presence.textContent = format(here ? strings.peerHere : strings.peerAway, { name: strings.other });
    presence.classList.toggle("here", here);
    call?.peerPresent(here, { joined });
  }

  function onState(state, detail) {
    if (over) return;
    if (state === "connecting") connection.textContent = strings.connecting;
    else if (state === "open") connection.textContent = strings.connected;
    else if (state === "waiting") {
      connection.textContent = navigator.onLine === false ? strings.offline : format(strings.reconnecting, { seconds: detail });
    } else if (state === "refused") {
      if (detail === 4401) {
        connection.textContent = strings.signedOut;
      } else if (now() >= end - 1000) {
        finish({ type: "session.ended" });
      } else if (now() < opensAt + 60000) {
        socket.retryIn(3000); // opened a moment early by our clock: try again shortly
      } else {
        connection.textContent = strings.refused;
      }
    }
    connection.dataset.state = state;
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "session.config":
        end = Date.parse(frame.booking?.end || config.end);
        setPresence((frame.present || []).includes(peerRole));
        call?.setIceServers(frame.ice_servers);
        chat.enable();
        chat.flush();
        call?.roomReady();
        break;
      case "chat.message":
        chat.onMessage(frame);
        break;
      case "presence":
        if (frame.role !== peerRole) break;
        if (frame.state === "typing") chat.showTyping();
        else {
          setPresence(frame.state === "joined", frame.state === "joined");
          announce(format(frame.state === "joined" ? strings.peerJoined : strings.peerLeft, { name: strings.other }));
        }
        break;
      case "session.warning":
        if (frame.end) end = Date.parse(frame.end);
        warn();
        break;
      case "session.ended":
      case "session.no_show":
        finish(frame);
        break;
      case "crisis.resources":
        if (frame.concern === "third-party" && frame.helping_someone) showHelpingSomeone(frame.helping_someone);
        showCrisisPanel(frame.hotlines);
        break;
      case "risk.check":
        // The counselor's C-SSRS panel (static/js/risk-check.js) listens for this.
        document.dispatchEvent(new CustomEvent("risk:check", { detail: frame }));
        break;
      case "crisis.alert": {
        const banner = $("counselor-crisis-banner");
        if (banner) {
          banner.textContent = strings.crisisCounselor;
          banner.hidden = false;
        }
        break;
      }
      case "webrtc.offer":
      case "webrtc.answer":
      case "webrtc.ice":
        call?.onSignal(frame.type, frame.payload);
        break;
      case "error":
        if (frame.id) chat.onError(frame);
        else if (frame.code === "rate_limited" && frame.frame === "chat.message") announce(strings.err_rate_limited);
        else if (frame.code === "session_closed") finish({ type: "session.ended" });
        break;
      default:
        break;
    }
  }

  function showNotice(text) {
    const box = $("room-notice");
    if (box) {
      box.textContent = text;
      box.hidden = false;
    }
  }

  // The end (or a no-show): input off, the call down, the end panel shown.
  function finish(frame) {
    if (over) return;
    over = true;
    socket.stop();
    chat.close();
    call?.end();
    $("call")?.setAttribute("hidden", "");
    connection.textContent = "";
    timer.textContent = "";
    timer.classList.remove("warn");
    const ended = $("room-ended");
    const detail = $("room-ended-detail");
    if (frame.type === "session.no_show") {
      const key = { client: "noShowClient", counselor: "noShowCounselor", both: "noShowBoth" }[frame.party];
      detail.textContent = strings[key] || "";
      $("feedback-offer")?.setAttribute("hidden", "");
    } else if (frame.status && frame.status !== "completed") {
      $("feedback-offer")?.setAttribute("hidden", "");
    }
    ended.hidden = false;
    announce(strings.ended);
    ended.scrollIntoView({ block: "nearest" });
  }

  // The server's session.warning, or the clock itself for someone who joins (or reconnects)
  // after the warning went out: shown once either way.
  let warned = false;
  function warn() {
    timer.classList.add("warn");
    if (warned) return;
    warned = true;
    announce(strings.warning);
    showNotice(strings.warning);
  }

  function tick() {
    if (over) return;
    const t = now();
    if (!opened && t >= opensAt) {
      opened = true;
      socket.start();
    }
    if (!opened) timer.textContent = format(strings.opensIn, { time: clock(opensAt - t) });
    else if (t < start) timer.textContent = format(strings.startsIn, { time: clock(start - t) });
    else if (t < end) {
      timer.textContent = format(strings.remaining, { time: clock(end - t) });
      if (end - t <= 120000) warn();
    } else timer.textContent = strings.timeUp;
  }

  if (!opened && now() >= opensAt) {
    opened = true;
    socket.start();
  } else {
    connection.textContent = "";
  }
  tick();
  setInterval(tick, 1000);
}
