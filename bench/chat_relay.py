"""chat_relay: 200 live text sessions chatting at once through the session room on one daphne.

Set-up (bulk-created): 200 counselors, 200 clients, each with a DRF token, and 200 confirmed
text bookings, one counselor and one client each, from a minute ago to 29 minutes from now
(the room is open: confirmed and start - 5 min <= now < end). Distinct people per booking, so
the no-overlap exclusion constraints hold trivially.

Run: ONE daphne process (config.asgi:application, config.settings.local with DEBUG=false,
the Redis channel layer). 400 WebSocket clients from one asyncio event loop in this process
(the `websockets` library): the client and the counselor of every booking open
/ws/sessions/{id}/ with `Authorization: Token <key>` and Origin http://localhost, and wait for
`session.config`. Then each side sends one `chat.message` a second for DURATION seconds, on a
fixed schedule (target times t0 + phase + k, phase uniform in [0, 1) per socket, so sends are
spread over each second rather than bursting). The frame `id` (a UUID, as the room requires)
encodes (booking index, side, k), so the receiver knows which send it answers. Delivery
latency = perf_counter at receipt on the OTHER side - perf_counter just before ws.send, both
in this process. A message is lost if the other side has not received it GRACE seconds after
the last send. The server also echoes each stored message to its sender (latency reported
apart). Afterwards SessionMessage rows in the bench database must equal the messages sent.
Meanwhile a thread samples, every 0.5 s, the stored row count (the server's real processing
rate) and the daphne process's channel-layer inbox in Redis (channels_redis drops group
messages once it holds `capacity`, 100, entries), and the server log is scanned for such drops.

If daphne loses messages, the same pattern is run again at a quarter of the sessions on a
fresh daphne and fresh bookings (`daphne_50_sessions`), to locate its capacity.

Baseline: a minimal relay written with `websockets` alone, in a separate process (this
module, `python -m bench.chat_relay relay PORT`): a client connects to /ROOM and every text
frame it sends is forwarded to the other connection(s) of that room. Same 400 clients, same
load pattern. It has no authentication, no origin check, no JSON parsing, no rate limit, no
database, no encryption, no channel layer (a Python set in one process), and no echo to the
sender; the ratio daphne/baseline is thus the price of all of that, not of daphne alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import re
import resource
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import (
    LOG_DIR,
    SERVER_COMMANDS,
    Server,
    conninfo_from_url,
    cpu_delta,
    cpu_snapshot,
    log,
    percentiles_ms,
    rate,
)

SESSIONS = int(
    os.environ.get("BENCH_CHAT_SESSIONS") or 200
)  # override only to probe a lighter load
DURATION = 30  # seconds of sending; one message a second per side
GRACE = 10.0  # after the last send, for the last deliveries
CONNECT_CONCURRENCY = 25  # handshakes in flight at once while the 400 sockets are opened
ORIGIN = "http://localhost"
SIDES = ("client", "counselor")
ID_TAG = 0xC4A7  # top 16 bits of every bench message id

# Which ASGI server holds the room sockets: BENCH_CHAT_SERVER=daphne|uvicorn (see docs/benchmarks.md
# for the comparison); BENCH_CHAT_PROFILE=1 runs it under pyinstrument (`profiled` below) and
# writes the event loop's profile next to the server log.
CHAT_SERVER = os.environ.get("BENCH_CHAT_SERVER") or "uvicorn"
PROFILE = os.environ.get("BENCH_CHAT_PROFILE") == "1"

# The baseline relay as an app server, so common.Server starts, health-checks and stops it.
SERVER_COMMANDS["ws_relay"] = lambda port: [
    sys.executable,
    "-m",
    "bench.chat_relay",
    "relay",
    str(port),
]
SERVER_COMMANDS["uvicorn_profiled"] = lambda port: [
    sys.executable,
    "-m",
    "bench.chat_relay",
    "profiled",
    str(port),
]


# --- Set-up -------------------------------------------------------------------------------


def seed(sessions: int) -> list[tuple[int, str, str]]:
    """`sessions` live text bookings; (booking id, client token, counselor token) for each."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from counselors.models import CounselorProfile
    from listening.models import Booking

    started = time.perf_counter()
    password = make_password(None)  # unusable; tokens only
    tag = uuid.uuid4().hex[:6]  # usernames stay unique if the database already holds a run's users
    counselors = User.objects.bulk_create(
        [
            User(username=f"relay-counselor-{tag}-{i}", role=User.Role.COUNSELOR, password=password)
            for i in range(sessions)
        ]
    )
    profiles = CounselorProfile.objects.bulk_create(
        [
            CounselorProfile(
                user=u,
                display_name=u.username,
                languages=["zh"],
                modes=["text"],
                price_15=60,
                price_30=100,
                daily_cap=48,
                min_notice_minutes=0,
                verification=CounselorProfile.Verification.VERIFIED,
            )
            for u in counselors
        ]
    )
    clients = User.objects.bulk_create(
        [
            User(username=f"relay-client-{tag}-{i}", role=User.Role.CLIENT, password=password)
            for i in range(sessions)
        ]
    )
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                counselor=p,
                client=c,
                start=start,
                end=start + dt.timedelta(minutes=30),
                duration_minutes=30,
                mode="text",
                topic="bench",
                price=100,
                status=Booking.Status.CONFIRMED,
            )
            for p, c in zip(profiles, clients)
        ]
    )
    tokens = Token.objects.bulk_create(
        [Token(user=u, key=Token.generate_key()) for u in [*clients, *counselors]]
    )
    key = {t.user_id: t.key for t in tokens}
    log(
        f"chat_relay: seeded {len(bookings)} live bookings ({start:%H:%M:%S}..+30 min UTC) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return [(b.pk, key[b.client_id], key[b.counselor_id]) for b in bookings]


def raise_open_files() -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return {
        "soft_before": soft,
        "soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "hard": hard,
    }


def redis_cpu_seconds(redis_url: str) -> float:
    """User + system CPU seconds so far of the redis-server serving REDIS_URL's port (0 if not found here)."""
    port = f":{urlsplit(redis_url).port or 6379}"
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "redis-server" in cmdline and port in cmdline:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return 0.0


def log_problems(path: Path) -> dict:
    text = path.read_text(errors="replace") if path.exists() else ""
    lines = text.splitlines()
    return {
        "tracebacks": text.count("Traceback"),
        "error_lines": sum(" ERROR " in ln for ln in lines),
        "warning_lines": sum(" WARNING " in ln for ln in lines),
        # channels_redis drops a group message (logged at INFO) when the receiving process's inbox holds
        # `capacity` (100) messages already: each such line is a chat frame that never reached a socket.
        "channel_layer_over_capacity_lines": sum("over capacity in group" in ln for ln in lines),
        "killed_pending_instances": sum("pending application instances" in ln for ln in lines),
        "exceptions": dict(Counter(m.group(1) for ln in lines if (m := EXCEPTION_LINE.match(ln)))),
    }


EXCEPTION_LINE = re.compile(r"^([a-zA-Z_][\w.]*(?:Error|Exception)): ")


class ServerSide(threading.Thread):
    """Samples, every 0.5 s: SessionMessage rows in the bench database and the length of the daphne
    process's channel-layer inbox in Redis (the sorted set "<prefix>:asgispecific.<id>!"), to show
    the server's actual processing rate and backlog."""

    def __init__(self, database_url: str, redis_url: str, prefix: str):
        super().__init__(daemon=True)
        self.conninfo, self.redis_url, self.prefix = (
            conninfo_from_url(database_url),
            redis_url,
            prefix,
        )
        self.samples: list[tuple[float, int, int]] = []  # (perf_counter, stored rows, inbox length)
        self.halt = threading.Event()

    def run(self) -> None:
        import psycopg
        import redis

        r = redis.Redis.from_url(self.redis_url)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.halt.wait(0.5):
                stored = conn.execute("SELECT count(*) FROM listening_sessionmessage").fetchone()[0]
                inbox = sum(
                    r.zcard(k) for k in r.scan_iter(match=f"{self.prefix}:asgi*!", count=1000)
                )
                self.samples.append((time.perf_counter(), stored, inbox))
        r.close()

    def summary(self, t0: float, last_send: float, stored_before: int) -> dict:
        def stored_at(t):
            before = [n for at, n, _i in self.samples if at <= t]
            return before[-1] if before else stored_before

        windows = {}
        for w in range(0, int(last_send - t0 + GRACE) + 5, 5):
            a, b = t0 + w, t0 + w + 5
            inbox = [i for at, _n, i in self.samples if a <= at < b]
            if not inbox:
                continue
            windows[f"{w}-{w + 5}s"] = {
                "stored_per_s": round((stored_at(b) - stored_at(a)) / 5, 1),
                "inbox_max": max(inbox),
            }
        return {
            "stored_per_s_while_sending": round(
                (stored_at(last_send) - stored_at(t0)) / (last_send - t0), 1
            ),
            "stored_at_end_of_grace": stored_at(float("inf")) - stored_before,
            "redis_inbox_max": max((i for _a, _n, i in self.samples), default=None),
            "by_window": windows,
        }


# --- The load -----------------------------------------------------------------------------


def message_id(pair: int, side: int, n: int) -> str:
    return str(uuid.UUID(int=(ID_TAG << 112) | (pair << 32) | (side << 16) | n))


def decode_id(uid: str) -> tuple[int, int, int] | None:
    try:
        v = uuid.UUID(uid).int
    except (TypeError, ValueError):
        return None
    if v >> 112 != ID_TAG:
        return None
    return (v >> 32) & 0xFFFFFFFF, (v >> 16) & 0xFFFF, v & 0xFFFF


@dataclass
class Run:
    """Everything the 400 sockets record, in one event loop (so no locks)."""

    sent_at: dict = field(default_factory=dict)  # (pair, side, n) -> perf_counter just before send
    delivered: dict = field(
        default_factory=dict
    )  # key -> (latency s, perf_counter at receipt), other side
    echoed: dict = field(default_factory=dict)  # key -> latency s, back at the sender (daphne only)
    duplicates: int = 0
    unknown_frames: int = 0
    other_frames: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    send_lag: list = field(
        default_factory=list
    )  # actual send - scheduled send (client loop health)
    send_failures: int = 0
    closed_early: Counter = field(default_factory=Counter)
    stopping: bool = False


async def reader(ws, side: int, run: Run, configured: asyncio.Event) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        async for raw in ws:
            now = time.perf_counter()
            try:
                frame = json.loads(raw)
                kind = frame.get("type")
            except (ValueError, AttributeError):
                run.unknown_frames += 1
                continue
            if kind == "chat.message":
                key = decode_id(frame.get("id"))
                sent = run.sent_at.get(key) if key else None
                if sent is None:
                    run.unknown_frames += 1
                elif key[1] != side:
                    if key in run.delivered:
                        run.duplicates += 1
                    else:
                        run.delivered[key] = (now - sent, now)
                elif key in run.echoed:
                    run.duplicates += 1
                else:
                    run.echoed[key] = now - sent
            elif kind == "session.config":
                configured.set()
            elif kind == "error":
                run.errors[frame.get("code")] += 1
            else:
                run.other_frames[
                    f"{kind}.{frame.get('state')}" if kind == "presence" else kind
                ] += 1
    except ConnectionClosed as exc:
        if not run.stopping:
            run.closed_early[str(exc.rcvd.code if exc.rcvd else "no close frame")] += 1
    finally:
        configured.set()  # never leave the opener waiting on a socket that is gone


async def sender(ws, pair: int, side: int, phase: float, t0: float, run: Run) -> None:
    from websockets.exceptions import ConnectionClosed

    for n in range(DURATION):
        target = t0 + phase + n
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        key = (pair, side, n)
        frame = json.dumps(
            {
                "type": "chat.message",
                "id": message_id(*key),
                "text": f"message {n} from the {SIDES[side]} of session {pair}",
            }
        )
        now = time.perf_counter()
        run.send_lag.append(now - target)
        run.sent_at[key] = now
        try:
            await ws.send(frame)
        except ConnectionClosed:
            del run.sent_at[key]
            run.send_failures += DURATION - n
            return


async def drive(sessions: int, url_for, headers_for, expect_config: bool, seed_value: int) -> dict:
    """Open 2 x SESSIONS sockets, run the load, wait for deliveries, close; the raw figures."""
    import websockets

    run = Run()
    rng = random.Random(seed_value)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets: list[tuple[int, int, object]] = []
    readers = []
    connect_failures: Counter = Counter()

    async def open_one(pair: int, side: int) -> None:
        async with gate:
            try:
                ws = await websockets.connect(
                    url_for(pair, side),
                    additional_headers=headers_for(pair, side),
                    origin=ORIGIN,
                    open_timeout=60,
                    close_timeout=5,
                    ping_interval=None,
                    max_queue=None,
                )
            except Exception as exc:  # noqa: BLE001 -- reported, not raised: the figures say what failed
                connect_failures[type(exc).__name__] += 1
                return
            configured = asyncio.Event()
            readers.append(asyncio.create_task(reader(ws, side, run, configured)))
            if expect_config:
                try:
                    await asyncio.wait_for(configured.wait(), 60)
                except TimeoutError:
                    connect_failures["no session.config"] += 1
            sockets.append((pair, side, ws))

    opened = time.perf_counter()
    await asyncio.gather(*(open_one(p, s) for p in range(sessions) for s in (0, 1)))
    connect_s = time.perf_counter() - opened
    log(
        f"chat_relay: {len(sockets)} sockets open in {connect_s:.1f}s"
        + (f", failures {dict(connect_failures)}" if connect_failures else "")
    )
    await asyncio.sleep(1.0)  # let presence frames and handshake work settle

    cpu0 = time.process_time()
    t0 = time.perf_counter() + 0.5
    senders = [
        asyncio.create_task(sender(ws, pair, side, rng.random(), t0, run))
        for pair, side, ws in sockets
    ]
    await asyncio.gather(*senders)
    last_send = time.perf_counter()
    deadline = last_send + GRACE
    while time.perf_counter() < deadline:
        if len(run.delivered) >= len(run.sent_at) and (
            not expect_config or len(run.echoed) >= len(run.sent_at)
        ):
            break
        await asyncio.sleep(0.05)
    waited = time.perf_counter() - last_send
    finished = time.perf_counter()
    client_cpu = time.process_time() - cpu0
    run.stopping = True
    await asyncio.gather(*(ws.close() for _p, _s, ws in sockets), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "run": run,
        "t0": t0,
        "last_send": last_send,
        "finished": finished,
        "waited_after_last_send_s": waited,
        "connect_s": connect_s,
        "sockets": len(sockets),
        "connect_failures": dict(connect_failures),
        "client_cpu_s": client_cpu,
    }


def summarise(raw: dict, echo: bool) -> dict:
    run: Run = raw["run"]
    t0 = raw["t0"]
    sent, delivered = len(run.sent_at), len(run.delivered)
    latencies = [lat for lat, _at in run.delivered.values()]
    receipts = [at for _lat, at in run.delivered.values()]
    span = (max(receipts) - min(run.sent_at.values())) if receipts else 0.0
    wall = raw["finished"] - t0
    # Latency by when the message was sent, in 5-second windows: growing figures would mean a backlog.
    windows: dict[int, list] = defaultdict(list)
    for key, (lat, _at) in run.delivered.items():
        windows[int((run.sent_at[key] - t0) // 5)].append(lat)
    by_window = {
        f"{w * 5}-{w * 5 + 5}s": {
            k: v for k, v in percentiles_ms(lats).items() if k in ("p50_ms", "p95_ms", "max_ms")
        }
        for w, lats in sorted(windows.items())
        if len(lats) >= 2
    }  # percentiles need two
    out = {
        "sockets_open": raw["sockets"],
        "connect_s": round(raw["connect_s"], 2),
        "connect_failures": raw["connect_failures"],
        "messages_sent": sent,
        "messages_delivered": delivered,
        "messages_lost": sent - delivered,
        "duplicates": run.duplicates,
        "send_failures": run.send_failures,
        "delivery_latency": percentiles_ms(latencies),
        "delivery_latency_by_send_window": by_window,
        "delivered_per_s": rate(delivered, span),
        "delivery_span_s": round(span, 2),
        "waited_after_last_send_s": round(raw["waited_after_last_send_s"], 2),
        "client_send_lag_ms": percentiles_ms(run.send_lag),
        "client_cpu_s": round(raw["client_cpu_s"], 2),
        "client_cpu_fraction_of_one_core": round(raw["client_cpu_s"] / wall, 3) if wall else None,
        "server_errors": dict(run.errors),
        "other_frames": dict(run.other_frames),
        "unknown_frames": run.unknown_frames,
        "closed_early": dict(run.closed_early),
    }
    out["_delivered_keys"], out["_sent_keys"] = set(run.delivered), set(run.sent_at)
    if echo:
        out["echo_to_sender"] = {
            "received": len(run.echoed),
            "missing": sent - len(run.echoed),
            "latency": percentiles_ms(list(run.echoed.values())),
        }
    return out


def measure(
    servers: list[Server],
    sessions: int,
    url_for,
    headers_for,
    expect_config: bool,
    sampler: ServerSide | None = None,
    stored_before: int = 0,
) -> dict:
    redis_url = os.environ["REDIS_URL"]
    cpu0, redis0, machine0, client0 = (
        sum(s.cpu_seconds() for s in servers),
        redis_cpu_seconds(redis_url),
        cpu_snapshot(),
        time.process_time(),
    )
    if sampler:
        sampler.start()
    try:
        raw = asyncio.run(drive(sessions, url_for, headers_for, expect_config, seed_value=11))
    finally:
        if sampler:
            sampler.halt.set()
            sampler.join()
    server_cpu = sum(s.cpu_seconds() for s in servers) - cpu0
    out = summarise(raw, echo=expect_config)
    if sampler:
        out["server_side"] = sampler.summary(raw["t0"], raw["last_send"], stored_before)
    wall = raw["finished"] - raw["t0"]
    out["server_cpu_s"] = round(server_cpu, 2)
    out["server_cpu_fraction_of_one_core"] = round(server_cpu / wall, 3)
    # Every message is stored once and delivered to both sides (the relay: to one side).
    out["server_cpu_ms_per_message"] = (
        round(1000 * server_cpu / out["messages_sent"], 3) if out["messages_sent"] else None
    )
    redis_cpu = redis_cpu_seconds(redis_url) - redis0
    machine1 = cpu_snapshot()
    out["redis_cpu_s"] = round(redis_cpu, 2)
    out.update(cpu_delta(machine0, machine1))
    # Busy CPU of everything else on the machine meanwhile (somebody else's tests, processes not even
    # visible from here, kernel network work): if large, the figures were taken on a busy, shared machine.
    out["other_processes_cpu_s"] = round(
        machine1["machine_busy_s"]
        - machine0["machine_busy_s"]
        - server_cpu
        - redis_cpu
        - (machine1["postgres_s"] - machine0["postgres_s"])
        - (time.process_time() - client0),
        2,
    )
    return out


# --- The whole benchmark -------------------------------------------------------------------


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def run_room_server(
    env: dict,
    rooms: list[tuple[int, str, str]],
    prefix: str,
    label: str,
    server_name: str = CHAT_SERVER,
    processes: int = 1,
) -> dict:
    """The session rooms `rooms` on `processes` fresh server processes (with two, every
    booking's client is on the first and its counselor on the second, so each message crosses
    the Redis layer); the figures plus what the database holds."""
    from contextlib import ExitStack

    from listening.models import SessionMessage

    if PROFILE and server_name == "uvicorn":
        server_name = "uvicorn_profiled"
    headers = lambda pair, side: {"Authorization": f"Token {rooms[pair][1 + side]}"}
    stored_before = SessionMessage.objects.count()
    try:
        with ExitStack() as stack:
            servers = [stack.enter_context(Server(server_name, env)) for _ in range(processes)]
            bases = [s.base_url.replace("http://", "ws://") for s in servers]
            sampler = ServerSide(env["DATABASE_URL"], env["REDIS_URL"], prefix)
            out = measure(
                servers,
                len(rooms),
                lambda pair, side: f"{bases[side % processes]}/ws/sessions/{rooms[pair][0]}/",
                headers,
                True,
                sampler,
                stored_before,
            )
            time.sleep(1)  # the room's disconnect handlers
        out["server_log"] = [log_problems(s.log_path) for s in servers]
        out["server"] = server_name
        out["processes"] = processes
    finally:
        cleanup_redis(env["REDIS_URL"], prefix)
    stored_keys = {
        decode_id(str(uid))
        for uid in SessionMessage.objects.filter(booking_id__in=[r[0] for r in rooms]).values_list(
            "uid", flat=True
        )
    }
    out["stored_messages"] = len(stored_keys)
    out["stored_equals_sent"] = len(stored_keys) == out["messages_sent"]
    sent_keys, delivered_keys = out.pop("_sent_keys"), out.pop("_delivered_keys")
    out["lost_breakdown"] = {
        "stored_but_never_delivered": len((stored_keys & sent_keys) - delivered_keys),
        "never_stored": len(sent_keys - stored_keys),
        "note": "after the grace period the sockets are closed and the server is stopped, so what is still "
        "queued in the server then is never stored; a message stored but never delivered had its room "
        "frame dropped by the channel layer or still queued",
    }
    log(
        f"chat_relay/{label}: sent {out['messages_sent']}, delivered {out['messages_delivered']}, "
        f"lost {out['messages_lost']}, stored {out['stored_messages']}, "
        f"p50 {out['delivery_latency'].get('p50_ms')} ms p99 {out['delivery_latency'].get('p99_ms')} ms, "
        f"server CPU {out['server_cpu_fraction_of_one_core']} of a core, "
        f"{out['server_cpu_ms_per_message']} ms per message"
    )
    return out


def run_relay(env: dict, sessions: int) -> dict:
    with Server("ws_relay", env) as server:
        base = server.base_url.replace("http://", "ws://")
        baseline = measure(
            [server], sessions, lambda pair, side: f"{base}/room-{pair}", lambda p, s: {}, False
        )
    del baseline["_delivered_keys"], baseline["_sent_keys"]
    log(
        f"chat_relay/baseline ({sessions} sessions): sent {baseline['messages_sent']}, "
        f"delivered {baseline['messages_delivered']}, lost {baseline['messages_lost']}, "
        f"p50 {baseline['delivery_latency'].get('p50_ms')} ms "
        f"p99 {baseline['delivery_latency'].get('p99_ms')} ms"
    )
    return baseline


def run(env: dict) -> dict:
    """One server process at SESSIONS against the bare relay at SESSIONS; with
    BENCH_CHAT_PROCESSES=2 also two processes at 2 x SESSIONS (the relay at 2 x SESSIONS too)."""
    limits = raise_open_files()
    # A key prefix of its own (cache, rate-limit counters, channel layer groups), so a concurrent
    # run on the same Redis database cannot mix with this one; its keys are deleted afterwards.
    prefix = f"pianke-bench-chat-{os.getpid()}"
    env = {**env, "CACHE_KEY_PREFIX": prefix}
    processes = int(os.environ.get("BENCH_CHAT_PROCESSES") or 1)

    room = run_room_server(env, seed(SESSIONS), prefix, CHAT_SERVER)
    baseline = run_relay(env, SESSIONS)
    d, b = room["delivery_latency"], baseline["delivery_latency"]
    result = {
        "baseline": "websockets_relay: a minimal relay with the `websockets` library alone, one asyncio process: "
        "every text frame received on /ROOM is forwarded as is to the other connection of that room. "
        "It does NOT authenticate (no token lookup, no origin check), parse JSON, rate-limit, "
        "store, encrypt, number messages, echo to the sender, or go through a cross-process channel "
        "layer (a Python set in one process, no Redis): the ratio is the price of all of that "
        f"plus {CHAT_SERVER}/Channels, not of the server alone",
        "setup": {
            "sessions": SESSIONS,
            "sockets": 2 * SESSIONS,
            "seconds_of_sending": DURATION,
            "messages_per_socket_per_s": 1,
            "grace_after_last_send_s": GRACE,
            "schedule": "socket i sends message k at t0 + phase_i + k, phase_i uniform in [0, 1)",
            "bookings": "confirmed, mode text, start now - 1 min, end now + 29 min, distinct counselor and "
            "client each, DRF token per user",
            "server": f"one {CHAT_SERVER} process, config.settings.local with DEBUG=false, the Redis channel "
            "layer of the settings, psycopg pool",
            "client": "one asyncio event loop in the bench process, `websockets` client connections, "
            f"{CONNECT_CONCURRENCY} handshakes at a time, client pings off (as browsers)",
            "latency": "perf_counter at receipt on the other side minus perf_counter just before ws.send, "
            "same process; the frame id (a UUID) encodes (session, side, k)",
            "open_files": limits,
            "versions": {
                n: version(n)
                for n in (
                    "websockets",
                    "channels",
                    "channels-redis",
                    "daphne",
                    "uvicorn",
                    "twisted",
                    "redis",
                )
            },
        },
        "room_server": room,
        "websockets_relay": baseline,
        "ratio_room_vs_baseline": {
            "p50_latency": ratio(d.get("p50_ms"), b.get("p50_ms")),
            "p95_latency": ratio(d.get("p95_ms"), b.get("p95_ms")),
            "p99_latency": ratio(d.get("p99_ms"), b.get("p99_ms")),
            "delivered_per_s": ratio(room["delivered_per_s"], baseline["delivered_per_s"]),
            "server_cpu": ratio(room["server_cpu_s"], baseline["server_cpu_s"]),
        },
        "all_delivered": room["messages_lost"] == 0 and baseline["messages_lost"] == 0,
    }
    if processes > 1:
        scaled = run_room_server(
            env,
            seed(SESSIONS * processes),
            prefix,
            f"{CHAT_SERVER}_x{processes}",
            processes=processes,
        )
        scaled_relay = run_relay(env, SESSIONS * processes)
        d2, b2 = scaled["delivery_latency"], scaled_relay["delivery_latency"]
        result[f"room_servers_x{processes}"] = scaled
        result[f"websockets_relay_{SESSIONS * processes}_sessions"] = scaled_relay
        result[f"ratio_room_x{processes}_vs_baseline"] = {
            "p50_latency": ratio(d2.get("p50_ms"), b2.get("p50_ms")),
            "p99_latency": ratio(d2.get("p99_ms"), b2.get("p99_ms")),
        }
        result["all_delivered"] = result["all_delivered"] and scaled["messages_lost"] == 0
    return result


def cleanup_redis(url: str, prefix: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url)
        keys = list(
            client.scan_iter(match=f"{prefix}:*", count=1000)
        )  # cache, rate counters, channel layer
        if keys:
            client.delete(*keys)
        client.close()
    except redis.RedisError as exc:
        log(f"chat_relay: could not clean Redis keys {prefix}*: {exc}")


# --- The baseline relay process ------------------------------------------------------------


async def relay(port: int) -> None:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    rooms: dict[str, set] = defaultdict(set)

    async def handler(ws):
        room = rooms[ws.request.path]
        room.add(ws)
        try:
            async for message in ws:
                for other in list(room):
                    if other is not ws:
                        try:
                            await other.send(message)
                        except ConnectionClosed:
                            pass
        finally:
            room.discard(ws)

    def health(connection, request):
        if request.path == "/healthz/":
            return connection.respond(HTTPStatus.OK, "ok\n")
        return None

    async with serve(handler, "127.0.0.1", port, process_request=health):
        await asyncio.Future()


def profiled(port: int) -> None:
    """uvicorn (as common.UVICORN runs it) with pyinstrument sampling the event loop's thread
    every millisecond from BENCH_PROFILE_AFTER seconds after start (default 12: the sockets are
    open and sending) for BENCH_PROFILE_SECONDS (default 10); the profile goes to
    BENCH_PROFILE_DIR (default LOG_DIR)/profile-PORT.txt while the server keeps running."""
    import uvicorn
    from pyinstrument import Profiler

    after = float(os.environ.get("BENCH_PROFILE_AFTER") or 12)
    seconds = float(os.environ.get("BENCH_PROFILE_SECONDS") or 10)
    out = Path(os.environ.get("BENCH_PROFILE_DIR") or LOG_DIR) / f"profile-{port}.txt"

    async def window() -> None:
        await asyncio.sleep(after)
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        await asyncio.sleep(seconds)
        profiler.stop()
        out.write_text(profiler.output_text(unicode=False, show_all=False))
        print(f"profile written to {out}", flush=True)

    async def main() -> None:
        server = uvicorn.Server(
            uvicorn.Config(
                "config.asgi:application",
                host="127.0.0.1",
                port=port,
                lifespan="off",
                access_log=False,
            )
        )
        task = asyncio.create_task(window())
        await server.serve()
        task.cancel()

    asyncio.run(main())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "relay":
        asyncio.run(relay(int(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "profiled":
        profiled(int(sys.argv[2]))
    else:
        print("usage: python -m bench.chat_relay relay PORT", file=sys.stderr)
        sys.exit(2)
