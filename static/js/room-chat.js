// The room's chat: delivery state and no loss. Each message gets a UUID made here; it stays
// in an outbox (kept in sessionStorage, so even a reload loses nothing) until the server
// echoes it back with its seq. Unacknowledged messages are resent after every reconnect:
// the server stores an id once, so a resend never duplicates.

import { format, timeFormatter, uuid4 } from "./room-util.js";

export class Chat {
  constructor({ log, scroller, form, input, button, typingLine, strings, config, send, announce }) {
    Object.assign(this, { log, scroller, form, input, button, typingLine, strings, config, send, announce });
    this.storageKey = `pianke.outbox.${config.bookingId}.${config.userId}`;
    this.outbox = this.loadOutbox();
    this.lastSeq = Number(log?.dataset.lastSeq || config.lastSeq || 0);
    this.lastTypingSent = 0;
    this.typingTimer = null;
    this.enabled = false;
    this.closed = false;
    this.formatTime = timeFormatter();
    for (const item of this.outbox) this.place(this.render(item, { pending: true }));
    if (form) this.bindComposer();
  }

  // --- the composer -----------------------------------------------------------------------

  bindComposer() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter is a new line; never while an input method is composing (pinyin).
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      const now = Date.now();
      if (this.input.value && now - this.lastTypingSent > 3000) {
        this.lastTypingSent = now;
        this.send({ type: "typing" });
      }
    });
  }

  enable() {
    if (this.closed || !this.form) return;
    this.enabled = true;
    this.input.disabled = false;
    this.button.disabled = false;
  }

  submit() {
    if (!this.enabled) return;
    const text = this.input.value;
    if (!text.trim()) return;
    if (text.length > this.config.maxChars) {
      this.announce(format(this.strings.notSent, { reason: this.strings.err_too_long }));
      return;
    }
    const item = { id: uuid4(), text };
    this.outbox.push(item);
    this.saveOutbox();
    this.place(this.render(item, { pending: true }), { scroll: true });
    this.input.value = "";
    this.lastTypingSent = 0;
    this.send({ type: "chat.message", id: item.id, text: item.text });
  }

  // After (re)connecting: everything not yet acknowledged goes again, in order.
  flush() {
    for (const item of this.outbox) this.send({ type: "chat.message", id: item.id, text: item.text });
  }

  close() {
    this.closed = true;
    this.enabled = false;
    if (this.form) {
      this.input.disabled = true;
      this.button.disabled = true;
    }
    // Anything still unsent can no longer be delivered: say so, and keep the text visible.
    for (const item of [...this.outbox]) this.fail(item.id, "session_closed");
  }

  // --- from the server ---------------------------------------------------------------------

  onMessage(frame) {
    const mine = frame.sender === this.config.userId;
    if (mine) this.acknowledge(frame.id);
    const existing = this.find(frame.id);
    if (existing && existing.dataset.seq) return; // already shown (a replay or a resend's echo)
    if (existing) existing.remove();
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
    this.place(this.render(frame, { mine }), { scroll: mine || this.nearBottom() });
    if (!mine) this.clearTyping();
  }

  onError(frame) {
    if (frame.id && this.outbox.some((item) => item.id === frame.id)) {
      this.fail(frame.id, frame.code);
    }
  }

  showTyping() {
    this.typingLine.textContent = format(this.strings.typing, { name: this.strings.other });
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.clearTyping(), 4000);
  }

  clearTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingLine) this.typingLine.textContent = "";
  }

  // --- the outbox --------------------------------------------------------------------------

  loadOutbox() {
    try {
      const items = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
      return Array.isArray(items) ? items.filter((i) => i && typeof i.id === "string" && typeof i.text === "string") : [];
    } catch (err) {
      return [];
    }
  }

  saveOutbox() {
    try {
      if (this.outbox.length) sessionStorage.setItem(this.storageKey, JSON.stringify(this.outbox));
      else sessionStorage.removeItem(this.storageKey);
    } catch (err) {
      // Storage full or refused: the in-memory outbox still covers reconnects.
    }
  }

  acknowledge(id) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((item) => item.id !== id);
    if (this.outbox.length !== before) this.saveOutbox();
  }

  fail(id, code) {
    const item = this.outbox.find((i) => i.id === id);
    this.acknowledge(id);
    const li = this.find(id);
    if (!li || !item) return;
    li.classList.add("failed");
    const state = li.querySelector(".msg-state");
    state.textContent = format(this.strings.notSent, { reason: this.strings[`err_${code}`] || this.strings.err_generic });
    if (this.form && !this.closed) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "link small";
      again.textContent = this.strings.putBack;
      again.addEventListener("click", () => {
        this.input.value = item.text;
        this.input.focus();
        li.remove();
      });
      state.append(" ", again);
    }
  }

  // --- the log -----------------------------------------------------------------------------

  find(id) {
    return this.log ? this.log.querySelector(`li[data-id="${CSS.escape(id)}"]`) : null;
  }

  render(message, { mine = true, pending = false } = {}) {
    const li = document.createElement("li");
    li.className = `msg ${mine ? "mine" : "theirs"}`;
    li.dataset.id = message.id;
    if (message.seq) li.dataset.seq = String(message.seq);
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    const sender = document.createElement("span");
    sender.className = "msg-sender";
    sender.textContent = mine ? this.strings.you : this.strings.other;
    meta.append(sender);
    if (message.sent_at) {
      const time = document.createElement("time");
      time.dateTime = message.sent_at;
      time.textContent = this.formatTime(new Date(message.sent_at));
      meta.append(" ", time);
    }
    li.append(meta);
    if (message.text) {
      const text = document.createElement("p");
      text.className = "msg-text";
      text.textContent = message.text;
      li.append(text);
    }
    if (message.kind === "voice" && message.audio_url) {
      const voice = document.createElement("p");
      voice.className = "msg-voice";
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = this.strings.voiceNote;
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = message.audio_url;
      voice.append(label, audio);
      li.append(voice);
    }
    if (mine) {
      const state = document.createElement("p");
      state.className = "msg-state";
      state.textContent = pending ? this.strings.sending : this.strings.delivered;
      li.append(state);
      if (pending) li.classList.add("pending");
    }
    return li;
  }

  // Stored messages in seq order; pending ones (no seq yet) stay at the end.
  place(li, { scroll = false } = {}) {
    if (!this.log) return;
    this.log.querySelector(".chat-empty")?.remove();
    const seq = Number(li.dataset.seq || 0);
    if (!seq) {
      this.log.append(li);
    } else {
      const stored = [...this.log.querySelectorAll("li[data-seq]")];
      const after = stored.reverse().find((other) => Number(other.dataset.seq) < seq);
      if (after) after.after(li);
      else this.log.prepend(li);
    }
    if (scroll) this.scrollToEnd();
  }

  nearBottom() {
    const s = this.scroller;
    return !s || s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd() {
    if (this.scroller) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
