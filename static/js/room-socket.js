// A WebSocket that stays up: the session room's (/ws/sessions/<id>/, asking for what it missed
// with ?after_seq=<last seq seen>) and the on-call queue's (/ws/staff/). Reconnects with backoff
// and pings to notice a dead connection early.
// Close codes 4401 (signed out) and 4403 (not allowed now) are reported, not retried: the
// caller knows whether the room is about to open or is over.

const PING_EVERY_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
const MAX_DELAY_MS = 15000;

export class RoomSocket {
  constructor({ path, lastSeq = null, query = null, onFrame, onState, readyFrame = "session.config" }) {
    this.path = path;
    this.lastSeq = lastSeq; // a function: the highest seq this page has shown (the room only)
    this.query = query; // or a function giving the whole query string (the group room)
    this.readyFrame = readyFrame; // the server's first frame once it has let us in
    this.onFrame = onFrame;
    this.onState = onState; // (state, detail): connecting, open, waiting (seconds), refused (code)
    this.ws = null;
    this.ready = false; // session.config received on the current socket
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    window.addEventListener("online", () => this.retryNow());
  }

  get isOpen() {
    return Boolean(this.ws && this.ready && this.ws.readyState === WebSocket.OPEN);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) ws.close(1000);
  }

  // Sends a frame if the socket is ready; returns whether it was sent.
  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  retryNow() {
    if (!this.stopped && !this.ws) {
      this.attempt = 0;
      this.connect();
    }
  }

  retryIn(ms) {
    clearTimeout(this.retryTimer);
    if (!this.stopped) this.retryTimer = setTimeout(() => this.connect(), ms);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let query = this.lastSeq ? `?after_seq=${this.lastSeq()}` : "";
    if (this.query) query = `?${this.query()}`;
    return `${scheme}//${location.host}${this.path}${query}`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped || this.ws) return;
    this.ready = false;
    this.onState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (frame.type === "pong") {
        clearTimeout(this.pongTimer);
        return;
      }
      if (frame.type === this.readyFrame) {
        this.ready = true;
        this.attempt = 0;
        this.startPing();
        this.onState("open");
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.ready = false;
      this.stopPing();
      if (this.stopped) return;
      if (event.code === 4401 || event.code === 4403) {
        this.onState("refused", event.code);
        return;
      }
      this.schedule();
    };
  }

  schedule() {
    // 1 s, 2 s, 4 s ... up to 15 s, with jitter so that a server restart is not stormed.
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.onState("waiting", Math.max(1, Math.round(delay / 1000)));
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // A socket that stopped answering: drop it at once rather than wait for TCP to notice.
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.ready = false;
    this.stopPing();
    ws.onclose = null;
    ws.onmessage = null;
    ws.close();
    if (!this.stopped) this.schedule();
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.isOpen) return;
      this.ws.send(JSON.stringify({ type: "ping" }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.drop(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}
