// Voice and video between the two participants: getUserMedia, one RTCPeerConnection with the
// ICE servers from session.config, signalling relayed by the room's socket (webrtc.offer /
// answer / ice). The "perfect negotiation" pattern lets either side start: on glare the
// polite side (the client) yields to the other's offer.
//
// Each side's RTCPeerConnection has an id (`pcid`) sent with every signal, so a peer that
// reloaded (a new connection) is told apart from a renegotiation of the current one; a hang-up
// is an end-of-candidates signal marked `bye`. Offers that arrive before you joined the call are
// kept and answered when you join.

import { format } from "./room-util.js";

const RECOVER_AFTER_MS = 8000;
const OFFER_RETRY_MS = 6000;
const CONNECT_TIMEOUT_MS = 8000;

export class Call {
  constructor({ mode, polite, send, strings, nodes, storageKey }) {
    Object.assign(this, { mode, polite, send, strings, nodes, storageKey });
    this.video = mode === "video";
    this.iceServers = [];
    this.pc = null;
    this.pcId = null;
    this.remotePcId = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.localStream = null;
    this.wanted = false; // the user is in the call (clicked join, and did not hang up)
    this.joining = false;
    this.pending = null; // an offer received before joining: {pcid, description, candidates}
    this.peerHere = false;
    this.ready = false; // the room is open (socket configured)
    this.over = false;
    this.chain = Promise.resolve();
    this.recoverTimer = null;
    this.offerTimer = null;
    this.connectTimer = null;
    this.bind();
    this.render("callIdle");
  }

  // --- the page's controls -------------------------------------------------------------------

  bind() {
    const n = this.nodes;
    n.join.addEventListener("click", () => this.join());
    n.hangup.addEventListener("click", () => this.hangUp());
    n.mute.addEventListener("click", () => this.toggle("audio", n.mute, this.strings.mute, this.strings.unmute));
    n.camera?.addEventListener("click", () =>
      this.toggle("video", n.camera, this.strings.cameraOff, this.strings.cameraOn));
    n.play.addEventListener("click", () => this.playRemote());
  }

  render(key, params = {}) {
    this.nodes.status.textContent = format(this.strings[key], { name: this.strings.other, ...params });
  }

  showControls() {
    const n = this.nodes;
    const inCall = this.wanted && !this.over;
    n.join.hidden = inCall || this.over;
    n.join.disabled = !this.ready || this.over;
    n.hangup.hidden = !inCall;
    const audio = Boolean(this.localStream?.getAudioTracks().length);
    const video = Boolean(this.localStream?.getVideoTracks().length);
    n.mute.hidden = !inCall || !audio;
    if (n.camera) n.camera.hidden = !inCall || !video;
  }

  toggle(kind, button, onLabel, offLabel) {
    const tracks = kind === "audio" ? this.localStream?.getAudioTracks() : this.localStream?.getVideoTracks();
    if (!tracks?.length) return;
    const enabled = !tracks[0].enabled;
    for (const track of tracks) track.enabled = enabled;
    button.setAttribute("aria-pressed", String(!enabled));
    button.textContent = enabled ? onLabel : offLabel;
  }

  // --- from the room -------------------------------------------------------------------------

  setIceServers(servers) {
    this.iceServers = Array.isArray(servers) ? servers : [];
  }

  roomReady() {
    this.ready = true;
    this.showControls();
    // Back after a reload during a call: join again without asking (the browser remembers the permission).
    if (!this.wanted && this.remembered()) this.join();
  }

  // `joined` is true when the other side has just opened a socket (not merely "is present"):
  // a page that has just loaded missed whatever we sent before, so an unanswered offer of ours
  // is made again. A connection already bound to the other side is left alone (it survives a
  // blip of the signalling socket; a reloaded page makes a new one, which we then meet).
  peerPresent(here, { joined = false } = {}) {
    const arrived = here && (joined || !this.peerHere);
    this.peerHere = here;
    if (!this.wanted || this.joining || !arrived) return; // joining: join() itself offers
    if (!this.pc || !this.remotePcId) this.restart();
  }

  onSignal(kind, payload) {
    this.chain = this.chain.then(() => this.handleSignal(kind, payload)).catch((err) => console.warn("signal", err));
  }

  // --- joining and leaving -------------------------------------------------------------------

  remembered() {
    try {
      return sessionStorage.getItem(this.storageKey) === "1";
    } catch (err) {
      return false;
    }
  }

  remember(on) {
    try {
      if (on) sessionStorage.setItem(this.storageKey, "1");
      else sessionStorage.removeItem(this.storageKey);
    } catch (err) {
      // not essential
    }
  }

  async join() {
    if (this.wanted || this.over || !this.ready) return;
    this.wanted = true;
    this.joining = true; // until the camera and microphone are ready, offers wait (as pending)
    this.remember(true);
    this.showControls();
    this.render("callConnecting");
    if (!navigator.mediaDevices?.getUserMedia || !window.RTCPeerConnection) {
      this.wanted = this.joining = false;
      this.remember(false);
      this.showControls();
      this.render("mediaUnsupported");
      return;
    }
    try {
      this.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.video });
    } catch (err) {
      this.localStream = null;
      // Still join, receiving only: the other side can be heard and seen, and chat stays.
      this.render(err.name === "NotAllowedError" ? "mediaDenied" : "mediaMissing");
    }
    if (!this.wanted) {
      this.stopLocal(); // hung up while the browser was asking
      return;
    }
    this.joining = false;
    if (this.nodes.localVideo && this.localStream) this.nodes.localVideo.srcObject = this.localStream;
    this.showControls();
    this.chain = this.chain.then(async () => {
      if (this.pending) {
        const { pcid, description, candidates } = this.pending;
        this.pending = null;
        this.newConnection();
        await this.handleDescription(pcid, description);
        for (const c of candidates) await this.addCandidate(c);
      } else if (this.peerHere) {
        this.newConnection(); // negotiationneeded sends our offer
      } else {
        this.render("callWaiting");
      }
    }).catch((err) => console.warn("join", err));
  }

  hangUp({ notify = true } = {}) {
    if (notify && this.pc) this.send("webrtc.ice", { candidate: "", bye: true, pcid: this.pcId, to: this.remotePcId });
    this.wanted = this.joining = false;
    this.remember(false);
    this.pending = null;
    this.closeConnection();
    this.stopLocal();
    this.showControls();
    if (!this.over) this.render("callLeft");
  }

  // The session is over: everything stops, for good.
  end() {
    this.over = true;
    this.hangUp({ notify: false });
    this.nodes.play.hidden = true;
  }

  stopLocal() {
    for (const track of this.localStream?.getTracks() || []) track.stop();
    this.localStream = null;
    if (this.nodes.localVideo) this.nodes.localVideo.srcObject = null;
  }

  // --- the connection ------------------------------------------------------------------------

  restart() {
    this.chain = this.chain.then(() => this.newConnection()).catch((err) => console.warn("restart", err));
  }

  newConnection() {
    this.closeConnection();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.pcId = crypto.getRandomValues(new Uint32Array(2)).join("-");
    this.remotePcId = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    window.piankeRoom.pc = pc; // for the browser tests (getStats)
    if (this.localStream) {
      for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
      if (this.video) pc.addTransceiver("video", { direction: "recvonly" });
    }
    pc.onnegotiationneeded = async () => {
      if (pc !== this.pc) return;
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        const d = pc.localDescription;
        this.send(d.type === "offer" ? "webrtc.offer" : "webrtc.answer",
                  { type: d.type, sdp: d.sdp, pcid: this.pcId, to: this.remotePcId });
        if (d.type === "offer") this.watchOffer(pc);
      } catch (err) {
        console.warn("offer", err);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (pc !== this.pc || !candidate || !candidate.candidate) return;
      this.send("webrtc.ice", { ...candidate.toJSON(), pcid: this.pcId, to: this.remotePcId });
    };
    pc.ontrack = ({ track, streams }) => {
      if (pc !== this.pc) return;
      const media = this.nodes.remoteVideo || this.nodes.remoteAudio;
      const stream = streams[0] || media.srcObject || new MediaStream();
      if (!streams[0]) stream.addTrack(track);
      if (media.srcObject !== stream) media.srcObject = stream;
      this.playRemote();
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      const state = pc.connectionState;
      clearTimeout(this.recoverTimer);
      if (state === "connected") {
        clearTimeout(this.connectTimer);
        this.render("callConnected");
      }
      else if (state === "connecting" || state === "new") this.render("callConnecting");
      else if (state === "disconnected") {
        this.render("callInterrupted");
        this.recoverTimer = setTimeout(() => this.recover(pc), RECOVER_AFTER_MS);
      } else if (state === "failed") this.recover(pc);
    };
    return pc;
  }

  // Signals are relayed only to a page that is connected at that moment, so an offer can be
  // lost (the other page was reloading). The impolite side ignores offers while its own is out,
  // so it must not wait for an answer forever: unanswered, it offers again on a new connection.
  watchOffer(pc) {
    if (this.polite) return;
    clearTimeout(this.offerTimer);
    this.offerTimer = setTimeout(() => {
      if (pc === this.pc && !this.remotePcId && pc.signalingState === "have-local-offer" && this.wanted &&
          this.peerHere) this.restart();
    }, OFFER_RETRY_MS);
  }

  // Offer and answer exchanged but no media path after a while (a signal lost on the way, or
  // ICE stuck): start again on a new connection. The two sides wait different times, so that
  // they do not both restart at once.
  watchConnect(pc) {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (pc === this.pc && pc.connectionState !== "connected" && this.wanted && this.peerHere) this.restart();
    }, this.polite ? CONNECT_TIMEOUT_MS * 1.5 : CONNECT_TIMEOUT_MS);
  }

  // A connection that failed (or stayed disconnected): a fresh one, if the other side is there.
  recover(pc) {
    if (pc !== this.pc || !this.wanted || this.pc.connectionState === "connected") return;
    this.render("callInterrupted");
    if (this.peerHere) this.restart();
    else this.closeConnection();
  }

  closeConnection() {
    clearTimeout(this.recoverTimer);
    clearTimeout(this.offerTimer);
    clearTimeout(this.connectTimer);
    if (this.pc) {
      this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = null;
      this.pc.onconnectionstatechange = null;
      this.pc.close();
    }
    this.pc = null;
    this.remotePcId = null;
    window.piankeRoom.pc = null;
    const media = this.nodes.remoteVideo || this.nodes.remoteAudio;
    if (media) media.srcObject = null;
    this.nodes.play.hidden = true;
  }

  async playRemote() {
    const media = this.nodes.remoteVideo || this.nodes.remoteAudio;
    try {
      await media.play();
      this.nodes.play.hidden = true;
    } catch (err) {
      // Autoplay with sound was refused (no click on this page yet): one click plays it.
      if (err.name === "NotAllowedError") {
        this.nodes.play.textContent = format(this.strings.play, { name: this.strings.other });
        this.nodes.play.hidden = false;
      }
    }
  }

  // --- signalling ----------------------------------------------------------------------------

  async handleSignal(kind, payload) {
    if (this.over || !payload) return;
    const from = payload.pcid;
    // Meant for a connection of ours that is gone (an answer or candidates racing a restart).
    if (payload.to && this.pcId && payload.to !== this.pcId && !payload.bye) return;
    if (kind === "webrtc.ice") {
      if (payload.bye) {
        if (this.pending?.pcid === from) this.pending = null;
        if (this.pc && this.remotePcId === from) {
          this.closeConnection();
          this.render("peerLeftCall");
          // Still in the call ourselves: offer again, so they can come back to it.
          if (this.wanted && this.peerHere) this.newConnection();
        }
        return;
      }
      if (!this.wanted || this.joining) {
        if (this.pending?.pcid === from) this.pending.candidates.push(payload);
        return;
      }
      if (!this.pc || (this.remotePcId && this.remotePcId !== from)) return; // for a connection gone
      await this.addCandidate(payload);
      return;
    }
    const description = { type: payload.type, sdp: payload.sdp };
    if (description.type === "offer" && (!this.wanted || this.joining)) {
      this.pending = { pcid: from, description, candidates: [] };
      if (!this.wanted) this.render("incomingCall");
      return;
    }
    await this.handleDescription(from, description);
  }

  async handleDescription(from, description) {
    if (description.type === "offer") {
      // A new connection on the other side (they reloaded or restarted): meet it with a new one.
      // So does the polite side whose own first offer crossed this one: a fresh connection
      // answers more reliably than rolling that offer back (Chromium can then stop gathering ICE
      // candidates), and the impolite side ignores that offer anyway.
      const crossed = this.polite && this.pc && !this.remotePcId &&
        (this.makingOffer || this.pc.signalingState !== "stable");
      if (!this.pc || (this.remotePcId && this.remotePcId !== from) || crossed) this.newConnection();
    } else if (!this.pc || (this.remotePcId && this.remotePcId !== from)) {
      return; // an answer for a connection we no longer have
    }
    const pc = this.pc;
    const collision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    await pc.setRemoteDescription(description); // the polite side rolls its own offer back implicitly
    this.remotePcId = from;
    this.watchConnect(pc);
    if (description.type === "offer") {
      await pc.setLocalDescription();
      const d = pc.localDescription;
      this.send("webrtc.answer", { type: d.type, sdp: d.sdp, pcid: this.pcId, to: from });
    }
  }

  async addCandidate(payload) {
    const { pcid, to, bye, ...candidate } = payload;
    try {
      await this.pc?.addIceCandidate(candidate);
    } catch (err) {
      if (!this.ignoreOffer) console.warn("ice", err);
    }
  }
}
