// The counselor's talk-now desk: while on duty, a socket to /ws/counselor/ keeps presence alive
// (a heartbeat every 20 s; duty lapses after 60 s without one), shows each offer the moment it
// is made, with a 45-second countdown and a chime, and accepts or declines it over the socket.
// Without JavaScript the panel still lists pending offers with plain accept/decline forms.

const panel = document.querySelector("[data-duty]");
const HEARTBEAT_MS = 20000;

if (panel && panel.dataset.online === "1") {
  const text = (key) => panel.dataset[`text${key}`] || "";
  const list = panel.querySelector("[data-offers]");
  const announce = panel.querySelector("[data-duty-announce]");
  const timers = new Map();
  let socket = null;
  let heartbeat = null;
  let retry = 0;
  let stopped = false;

  const say = (message) => { announce.textContent = ""; setTimeout(() => { announce.textContent = message; }, 50); };

  function chime() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const tone = (freq, at) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.35);
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + at);
        osc.stop(ctx.currentTime + at + 0.4);
      };
      tone(880, 0);
      tone(1320, 0.25);
    } catch (err) {
      // No audio (autoplay policy or no device): the visual alert and the live region remain.
    }
  }

  function showEmpty() {
    if (!list.querySelector("[data-offer-id]") && !list.querySelector("[data-offers-empty]")) {
      const li = document.createElement("li");
      li.className = "muted";
      li.dataset.offersEmpty = "";
      li.textContent = text("None");
      list.append(li);
    }
  }

  function removeOffer(id, message) {
    const card = list.querySelector(`[data-offer-id="${id}"]`);
    clearInterval(timers.get(id));
    timers.delete(id);
    if (card) card.remove();
    if (message) say(message);
    showEmpty();
  }

  function renderOffer(offer) {
    if (list.querySelector(`[data-offer-id="${offer.id}"]`)) list.querySelector(`[data-offer-id="${offer.id}"]`).remove();
    list.querySelector("[data-offers-empty]")?.remove();
    const li = document.createElement("li");
    li.className = "card offer" + (offer.request.high_risk ? " high-risk" : "");
    li.dataset.offerId = offer.id;
    const h = document.createElement("h3");
    h.textContent = text("New");
    const facts = document.createElement("p");
    facts.textContent = `${text("Topic")}: ${offer.request.topic_name} · ${text("Mode")}: ${offer.request.mode_name} · `
      + `${text("Length")}: ${offer.request.duration_minutes} ${text("Minutes")}`;
    li.append(h, facts);
    if (offer.request.high_risk) {
      const risk = document.createElement("p");
      risk.className = "badge danger";
      risk.textContent = text("HighRisk");
      li.append(risk);
    }
    if (offer.request.note) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = offer.request.note;
      li.append(note);
    }
    if (offer.reasons_display?.length) {
      const why = document.createElement("p");
      why.className = "muted small";
      why.textContent = offer.reasons_display.join(" · ");
      li.append(why);
    }
    const countdown = document.createElement("p");
    countdown.className = "countdown";
    countdown.setAttribute("role", "timer");
    const actions = document.createElement("div");
    actions.className = "actions";
    const accept = document.createElement("button");
    accept.type = "button";
    accept.textContent = text("Accept");
    accept.dataset.accept = offer.id;
    const decline = document.createElement("button");
    decline.type = "button";
    decline.className = "secondary";
    decline.textContent = text("Decline");
    decline.dataset.decline = offer.id;
    actions.append(accept, decline);
    li.append(countdown, actions);
    list.prepend(li);
    const expires = Date.parse(offer.expires_at);
    const tick = () => {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      countdown.textContent = `${left} ${text("SecondsLeft")}`;
      if (left <= 0) {
        accept.disabled = true;
        decline.disabled = true;
      }
    };
    tick();
    timers.set(offer.id, setInterval(tick, 1000));
    accept.focus();
  }

  list.addEventListener("click", (event) => {
    const accept = event.target.closest("[data-accept]");
    const decline = event.target.closest("[data-decline]");
    const target = accept || decline;
    if (!target || !socket || socket.readyState !== WebSocket.OPEN) return;
    target.disabled = true;
    socket.send(JSON.stringify({ type: accept ? "offer.accept" : "offer.decline", id: Number(target.dataset.accept || target.dataset.decline) }));
  });

  function handle(frame) {
    switch (frame.type) {
      case "desk":
        list.querySelectorAll("[data-offer-id]").forEach((el) => el.remove());
        frame.offers.forEach(renderOffer);
        showEmpty();
        if (!frame.presence.online) offDuty();
        break;
      case "offer.new":
        renderOffer(frame.offer);
        chime();
        say(text("New"));
        break;
      case "offer.accepted":
        window.location.assign(`/sessions/${frame.booking}/`);
        break;
      case "offer.declined":
        removeOffer(frame.id);
        break;
      case "offer.expired":
        removeOffer(frame.id, text("Expired"));
        break;
      case "offer.withdrawn":
        removeOffer(frame.id, text("Withdrawn"));
        break;
      case "presence":
        if (!frame.online) offDuty();
        break;
      case "surge.call":
        showSurgeCall(frame.surge);
        break;
      case "error":
        if (frame.id) removeOffer(frame.id, frame.detail);
        else say(frame.detail);
        break;
      default:
        break;
    }
  }

  // A reserve-pool call-up while on duty: shown at once above the offers (the dashboard's
  // reserve-pool card lists it, with its actions, from the next load on).
  function showSurgeCall(surge) {
    if (document.querySelector(`[data-surge-call="${surge.id}"]`)) return;
    const note = document.createElement("p");
    note.className = "notice surge-call";
    note.dataset.surgeCall = surge.id;
    note.setAttribute("role", "status");
    note.textContent = surge.banner;
    panel.prepend(note);
    chime();
    say(surge.banner);
  }

  function offDuty() {
    stopped = true;
    clearInterval(heartbeat);
    say(text("Off"));
    socket?.close();
    // The server-rendered panel shows the real state and the "go on duty" button.
    setTimeout(() => window.location.reload(), 1500);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/counselor/`);
    socket.addEventListener("open", () => {
      retry = 0;
      panel.dataset.connected = "1";
      clearInterval(heartbeat);
      heartbeat = setInterval(() => socket.send(JSON.stringify({ type: "presence.heartbeat" })), HEARTBEAT_MS);
      socket.send(JSON.stringify({ type: "presence.heartbeat" }));
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      panel.dataset.connected = "0";
      clearInterval(heartbeat);
      if (stopped || event.code === 4401 || event.code === 4403) return;
      say(text("Disconnected"));
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    });
  }

  connect();
}
