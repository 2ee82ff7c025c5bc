"""The realistic mix for locust: clients browsing and booking, live chat, async messages,
talk-now requests and the counselors who accept them. Run by bench/load_mix.py
(`python -m bench load`), which seeds the personas, starts the servers and workers, and reads
the results; it can also be run by hand against a seeded server:

    PIANKE_LOAD_PERSONAS=personas.json PIANKE_LOAD_HOSTS=http://127.0.0.1:8000 \\
        locust -f bench/locustfile.py --headless -u 200 -r 20 -t 60s

Environment:
    PIANKE_LOAD_PERSONAS  JSON written by load_mix.write_personas: the tokens and ids of every
                          persona (one locust user per persona; `fixed_count` per class is the
                          number of personas of its kind, so `-u` must be their sum)
    PIANKE_LOAD_HOSTS     comma-separated base URLs; users are spread over them round robin
                          (the two sockets of a chat room on two different hosts when there are
                          several, so a message crosses processes through the channel layer)
    PIANKE_LOAD_THINK     multiplier on every think time (default 1)
    PIANKE_LOAD_OUT       where to write, at exit, the outcome counters that locust's request
                          statistics cannot hold (409 codes, chat messages sent / delivered, ...)

The four kinds of user (their request names are what the statistics are grouped by):

ClientUser (a client with a current intake and one async-mode booking)
    browses the directory (plain, by specialty, language or mode, and with the 24-hour
    free-time filter), opens profiles, lists a counselor's free slots for the week, books one
    of them (201; 409 slot_taken / client_overlap / daily_cap are the protocol's answers to a
    race, counted apart and not failures), lists their bookings, and posts and reads async
    messages on their async booking.
ChatPair (the client AND the counselor of one live text booking)
    holds both room sockets (/ws/sessions/{id}/) and sends a chat.message from one side, then
    the other; one request event per message: the time from the send to its arrival on the
    other side ("ws chat.message"). The sender's own echo (the stored copy) is awaited too, so
    every message is known stored before the next.
TalkNowClient (a client with a current intake)
    POSTs a talk-now request, polls it until matched (or no_match), and reports "talk-now
    request -> matched" (includes the counselor's think time), then waits before the next.
CounselorDesk (a verified counselor)
    goes on duty (POST counselors/me/presence/), holds /ws/counselor/ with a heartbeat, takes
    each offer.new after 1-3 s of thought through POST offers/{id}/accept/, and looks at its
    offers and bookings now and then. "ws offer.new" is the time from the client's POST to
    the offer frame on the counselor's socket. The harness (load_mix) moves each accepted
    booking out of the way a moment later, so a counselor can take several in a run.

Think times are compressed (a client acts every 0.5-2 s): each locust user stands for several
people, so that 200 users load one web process past what it can serve and a second process
has something to take on. PIANKE_LOAD_THINK stretches them for a gentler mix.

Message texts are fixed, harmless sentences (no crisis signal, no contact details), and are
never logged.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections import Counter

import websocket
from locust import FastHttpUser, User, between, constant, events, task
from locust.exception import StopUser

PERSONAS: dict = {}
if os.environ.get("PIANKE_LOAD_PERSONAS"):
    with open(os.environ["PIANKE_LOAD_PERSONAS"]) as f:
        PERSONAS = json.load(f)
HOSTS = [h for h in os.environ.get("PIANKE_LOAD_HOSTS", "").split(",") if h]
THINK = float(os.environ.get("PIANKE_LOAD_THINK") or 1.0)
# Seconds a handshake or a frame may take before it counts as failed: the same 60 s that
# FastHttpUser allows an HTTP answer, so an overloaded server shows as latency on both alike.
WS_TIMEOUT = 60.0
HEARTBEAT = 20.0  # the desk renews presence well inside its 60 s lapse

# Outcomes locust's statistics have no place for; written to PIANKE_LOAD_OUT at exit.
OUTCOMES: Counter = Counter()
# Talk-now request id -> perf_counter just before its POST (set by the client after the 202)
# and -> perf_counter when its offer reached a desk; whichever greenlet learns the second one
# fires "ws offer.new" (the offer can beat the POST's response).
POSTED: dict[int, float] = {}
OFFERED: dict[int, float] = {}

LINES = [
    "Work has been busy this week and I wanted to talk it through.",
    "Thank you, that helps me see it differently.",
    "I slept better after our last conversation.",
    "最近工作有点忙，想找人聊一聊。",
    "谢谢你，这样想我觉得轻松一些。",
    "What would you suggest I try before the weekend?",
]


def think(low: float, high: float):
    """between(low, high) scaled by PIANKE_LOAD_THINK."""
    return between(low * THINK, high * THINK)


def host_for(index: int, shift: int = 0) -> str:
    if not HOSTS:
        raise StopUser("PIANKE_LOAD_HOSTS is not set")
    return HOSTS[(index + shift) % len(HOSTS)]


def fire(user: User, kind: str, name: str, started: float, exception=None, length: int = 0):
    user.environment.events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=length,
        exception=exception,
        context={},
    )


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))


class FrameError(Exception):
    """The server answered a frame with `error {code}`, or closed the socket."""


def ws_open(url: str, token: str) -> websocket.WebSocket:
    # A token client sends no Origin (accounts.middleware.TokenClientOriginValidator).
    return websocket.create_connection(
        url,
        header=[f"Authorization: Token {token}"],
        suppress_origin=True,
        timeout=WS_TIMEOUT,
        enable_multithread=False,
    )


def ws_wait(ws: websocket.WebSocket, match, deadline: float) -> dict:
    """Read frames until match(frame) holds; other frames are counted and skipped."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise websocket.WebSocketTimeoutException("no matching frame in time")
        ws.settimeout(remaining)
        raw = ws.recv()
        if not raw:
            raise FrameError("socket closed")
        frame = json.loads(raw)
        if match(frame):
            return frame
        kind = frame.get("type")
        if kind == "error":
            raise FrameError(frame.get("code"))
        OUTCOMES[f"frame {kind}"] += 1


def _fixed(kind: str) -> int:
    return len(PERSONAS.get(kind, []))


class ClientUser(FastHttpUser):
    fixed_count = _fixed("clients")
    wait_time = think(0.5, 2.0)
    _next = itertools.count()  # which persona the next user of this class is

    def __init__(self, environment):
        self.index = next(ClientUser._next)
        persona = PERSONAS["clients"][self.index % len(PERSONAS["clients"])]
        self.host = host_for(self.index)
        self.default_headers = {"Authorization": f"Token {persona['token']}"}
        self.async_booking = persona["async_booking"]
        super().__init__(environment)
        self.seen: list[dict] = []  # counselors from the last directory page
        self.slots: dict[int, list[str]] = {}  # counselor id -> free slot starts
        # counselor id -> the modes they offer, kept with the slots: the directory page that
        # listed them may have been replaced since (the 400s of the 2026-12-03 runs were
        # bookings in "text", the old fallback, with counselors who do not offer it)
        self.modes: dict[int, list[str]] = {}

    def _counselor(self) -> dict | None:
        return random.choice(self.seen) if self.seen else None

    def _directory(self, params: dict, name: str) -> None:
        with self.client.get(
            "/api/v1/counselors/", params=params, name=name, catch_response=True
        ) as r:
            if r.status_code == 200:
                results = r.json()["results"]
                if results:
                    self.seen = results

    @task(4)
    def directory(self):
        choice = random.randrange(4)
        specialties = PERSONAS["specialties"]
        params, name = [
            ({}, "/counselors/"),
            ({"specialty": random.choice(specialties)}, "/counselors/?specialty"),
            ({"language": random.choice(["zh", "en", "yue"])}, "/counselors/?language"),
            ({"mode": random.choice(["text", "voice", "video"])}, "/counselors/?mode"),
        ][choice]
        self._directory(params, name)

    @task(1)
    def directory_free_today(self):
        now = time.time()
        self._directory(
            {
                "specialty": random.choice(PERSONAS["specialties"]),
                "available_from": iso(now),
                "available_to": iso(now + 86400),
            },
            "/counselors/?specialty&available",
        )

    @task(2)
    def profile(self):
        c = self._counselor()
        if c:
            self.client.get(f"/api/v1/counselors/{c['id']}/", name="/counselors/[id]/")

    @task(3)
    def slots_for_week(self):
        c = self._counselor()
        if not c:
            return self.directory()
        now = time.time()
        with self.client.get(
            f"/api/v1/counselors/{c['id']}/slots/",
            params={"from": iso(now), "to": iso(now + 7 * 86400), "duration": 30},
            name="/counselors/[id]/slots/",
            catch_response=True,
        ) as r:
            if r.status_code == 200:
                self.slots[c["id"]] = [s["start"] for s in r.json()]
                self.modes[c["id"]] = c["modes"]

    @task(1)
    def book(self):
        choices = [(cid, starts) for cid, starts in self.slots.items() if starts]
        if not choices:
            return self.slots_for_week()
        counselor_id, starts = random.choice(choices)
        start = starts.pop(random.randrange(len(starts)))
        modes = self.modes[counselor_id]
        body = {
            "counselor": counselor_id,
            "start": start,
            "duration_minutes": 30,
            "mode": random.choice(modes),
            "topic": "load",
        }
        with self.client.post(
            "/api/v1/bookings/", json=body, name="/bookings/", catch_response=True
        ) as r:
            if r.status_code == 201:
                OUTCOMES["booking 201"] += 1
            elif r.status_code == 409:
                # Someone else took it first, or the client is busy then: the answer the
                # protocol gives a race, so not a failure; counted by its code.
                OUTCOMES[f"booking 409 {r.json().get('code')}"] += 1
                r.success()
            elif r.status_code == 400:  # still a failure; what it said, to tell causes apart
                OUTCOMES[f"booking 400 {json.dumps(r.json(), ensure_ascii=False)[:120]}"] += 1

    @task(1)
    def my_bookings(self):
        self.client.get("/api/v1/bookings/", name="/bookings/")

    @task(2)
    def async_post(self):
        self.client.post(
            f"/api/v1/bookings/{self.async_booking}/messages/",
            json={"id": str(uuid.uuid4()), "text": random.choice(LINES)},
            name="/bookings/[id]/messages/",
        )
        OUTCOMES["async messages posted"] += 1

    @task(1)
    def async_read(self):
        self.client.get(
            f"/api/v1/bookings/{self.async_booking}/messages/",
            name="/bookings/[id]/messages/",
        )


class ChatPair(User):
    fixed_count = _fixed("rooms")
    wait_time = think(1.0, 3.0)
    _next = itertools.count()  # which persona the next user of this class is

    def on_start(self):
        self.index = next(ChatPair._next)
        self.booking, *self.tokens = PERSONAS["rooms"][self.index % len(PERSONAS["rooms"])]
        self.sockets: list[websocket.WebSocket] = []
        self.side = 0

    def _connect(self) -> None:
        for side, token in enumerate(self.tokens):
            base = host_for(self.index, side).replace("http://", "ws://")
            started = time.perf_counter()
            try:
                ws = ws_open(f"{base}/ws/sessions/{self.booking}/", token)
                ws_wait(
                    ws,
                    lambda f: f.get("type") == "session.config",
                    time.perf_counter() + WS_TIMEOUT,
                )
            except Exception as exc:  # noqa: BLE001 - reported as the request's failure
                fire(self, "WS", "connect /ws/sessions/[id]/", started, exc)
                self._close()
                return
            fire(self, "WS", "connect /ws/sessions/[id]/", started)
            self.sockets.append(ws)

    def _close(self) -> None:
        for ws in self.sockets:
            try:
                ws.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken socket
                pass
        self.sockets = []

    def on_stop(self):
        self._close()

    @task
    def say(self):
        if len(self.sockets) < 2:
            self._connect()
            if len(self.sockets) < 2:
                return
        sender, receiver = self.sockets[self.side], self.sockets[1 - self.side]
        uid = str(uuid.uuid4())
        frame = json.dumps({"type": "chat.message", "id": uid, "text": random.choice(LINES)})
        ours = lambda f: f.get("type") == "chat.message" and f.get("id") == uid
        started = time.perf_counter()
        deadline = started + WS_TIMEOUT
        try:
            sender.send(frame)
            OUTCOMES["chat sent"] += 1
            ws_wait(receiver, ours, deadline)
            fire(self, "WS", "ws chat.message", started, length=len(frame))
            OUTCOMES["chat delivered"] += 1
            ws_wait(sender, ours, deadline)  # the stored copy back to the sender
            OUTCOMES["chat acknowledged"] += 1
        except (websocket.WebSocketException, OSError, FrameError, ValueError) as exc:
            OUTCOMES[f"chat failed {type(exc).__name__}"] += 1
            fire(self, "WS", "ws chat.message", started, exc)
            self._close()  # reconnect on the next turn rather than read a stale stream
        self.side ^= 1


class TalkNowClient(FastHttpUser):
    fixed_count = _fixed("talk_now_clients")
    wait_time = think(5.0, 10.0)
    _next = itertools.count()  # which persona the next user of this class is

    def __init__(self, environment):
        self.index = next(TalkNowClient._next)
        tokens = PERSONAS["talk_now_clients"]
        self.host = host_for(self.index)
        self.default_headers = {"Authorization": f"Token {tokens[self.index % len(tokens)]}"}
        super().__init__(environment)

    @task
    def talk_now(self):
        body = {
            "topic": random.choice(PERSONAS["specialties"]),
            "mode": "text",
            "language": "zh",
            "duration_minutes": 15,
            "when": "now",
        }
        started = time.perf_counter()
        with self.client.post(
            "/api/v1/match-requests/", json=body, name="/match-requests/", catch_response=True
        ) as r:
            if r.status_code != 202:
                if r.status_code == 409:  # e.g. request_open: counted, and a failure
                    OUTCOMES[f"talk-now 409 {r.json().get('code')}"] += 1
                return
            rid = r.json()["id"]
        OUTCOMES["talk-now requested"] += 1
        POSTED[rid] = started
        offer_seen(self, rid)
        status = "pending"
        while time.perf_counter() - started < 120:
            self.wait_a_moment()
            with self.client.get(
                f"/api/v1/match-requests/{rid}/", name="/match-requests/[id]/", catch_response=True
            ) as r:
                if r.status_code == 200:
                    status = r.json()["status"]
            if status in ("matched", "no_match", "cancelled"):
                break
        OUTCOMES[f"talk-now {status}"] += 1
        fire(
            self,
            "FLOW",
            "talk-now request -> matched",
            started,
            None if status == "matched" else FrameError(f"ended {status}"),
        )
        if status not in ("matched", "no_match", "cancelled"):
            self.client.post(
                f"/api/v1/match-requests/{rid}/cancel/", name="/match-requests/[id]/cancel/"
            )

    def wait_a_moment(self):
        time.sleep(1.0)  # the waiting page polls about once a second


def offer_seen(user: User, rid: int) -> None:
    """Fire "ws offer.new" once both the POST time and the offer's arrival are known."""
    if rid in POSTED and rid in OFFERED:
        posted = POSTED.pop(rid)
        user.environment.events.request.fire(
            request_type="WS",
            name="ws offer.new",
            response_time=(OFFERED.pop(rid) - posted) * 1000,
            response_length=0,
            exception=None,
            context={},
        )


class CounselorDesk(FastHttpUser):
    fixed_count = _fixed("counselors")
    wait_time = constant(0)  # the task blocks on the socket for up to a second
    _next = itertools.count()  # which persona the next user of this class is

    def __init__(self, environment):
        self.index = next(CounselorDesk._next)
        tokens = PERSONAS["counselors"]
        self.token = tokens[self.index % len(tokens)]
        self.host = host_for(self.index)
        self.default_headers = {"Authorization": f"Token {self.token}"}
        super().__init__(environment)
        self.ws: websocket.WebSocket | None = None
        self.pending: list[dict] = []
        self.seen: set[int] = set()  # offer ids already taken up
        self.beat_at = self.look_at = 0.0

    def _connect(self) -> None:
        self.client.post(
            "/api/v1/counselors/me/presence/",
            json={"online": True},
            name="/counselors/me/presence/",
        )
        started = time.perf_counter()
        try:
            self.ws = ws_open(f"{self.host.replace('http://', 'ws://')}/ws/counselor/", self.token)
            desk = ws_wait(
                self.ws, lambda f: f.get("type") == "desk", time.perf_counter() + WS_TIMEOUT
            )
        except Exception as exc:  # noqa: BLE001 - reported as the request's failure
            fire(self, "WS", "connect /ws/counselor/", started, exc)
            self.ws = None
            return
        fire(self, "WS", "connect /ws/counselor/", started)
        self._take([o for o in desk.get("offers", []) if o.get("status") == "pending"])
        self.beat_at = time.perf_counter() + HEARTBEAT
        self.look_at = time.perf_counter() + random.uniform(5, 15)

    def on_stop(self):
        if self.ws:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken socket
                pass

    @task
    def desk(self):
        if self.ws is None:
            self._connect()
            if self.ws is None:
                time.sleep(1.0)
                return
        now = time.perf_counter()
        try:
            if now >= self.beat_at:
                self.ws.send(json.dumps({"type": "presence.heartbeat"}))
                self.beat_at = now + HEARTBEAT
            if not self.pending:
                self.ws.settimeout(1.0)
                try:
                    raw = self.ws.recv()
                except websocket.WebSocketTimeoutException:
                    raw = None
                if raw == "":
                    raise FrameError("socket closed")
                if raw:
                    frame = json.loads(raw)
                    if frame.get("type") == "offer.new":
                        rid = frame["offer"]["request"]["id"]
                        OFFERED.setdefault(rid, time.perf_counter())
                        offer_seen(self, rid)
                        self._take([frame["offer"]])
                    else:
                        OUTCOMES[f"desk frame {frame.get('type')}"] += 1
        except (websocket.WebSocketException, OSError, FrameError, ValueError) as exc:
            OUTCOMES[f"desk socket {type(exc).__name__}"] += 1
            fire(self, "WS", "ws /ws/counselor/ read", now, exc)
            self.ws = None
            return
        if self.pending:
            self._accept(self.pending.pop(0))
        if time.perf_counter() >= self.look_at:
            self.look_at = time.perf_counter() + random.uniform(10, 20)
            self.client.get("/api/v1/offers/", name="/offers/")
            self.client.get("/api/v1/bookings/", name="/bookings/ (counselor)")

    def _take(self, offers: list[dict]) -> None:
        # An offer made while the socket opened comes both in the desk frame and as offer.new.
        for offer in offers:
            if offer["id"] not in self.seen:
                self.seen.add(offer["id"])
                self.pending.append(offer)

    def _accept(self, offer: dict) -> None:
        time.sleep(random.uniform(1.0, 3.0))  # reading the offer
        with self.client.post(
            f"/api/v1/offers/{offer['id']}/accept/",
            name="/offers/[id]/accept/",
            catch_response=True,
        ) as r:
            if r.status_code == 200:
                OUTCOMES["offer accepted"] += 1
            elif r.status_code == 409:
                # Expired or withdrawn while the counselor read it: the protocol's answer.
                OUTCOMES[f"offer 409 {r.json().get('code')}"] += 1
                r.success()


@events.quitting.add_listener
def _write_outcomes(environment, **_kw):
    path = os.environ.get("PIANKE_LOAD_OUT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(OUTCOMES), f, indent=1, sort_keys=True)
