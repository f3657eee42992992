"""Live chat fan-out through a real server (127.0.0.1 only): visitor websockets, an agent's
websocket and agent replies over the REST API, with delivery latency and loss counts.

One asyncio process plays every side:
  visitors  --visitors websockets on /ws/chat/?site_key=KEY (Origin on the widget's allowlist),
            each says `hello` and waits for `welcome`, then sends --messages messages with
            unique client ids (`message` -> `ack`)
  agents    --agent-sockets websockets on /ws/agent/, logged in through /login/ (Django's auth
            form: GET for the CSRF cookie, POST username/password, keep `sessionid`); each
            receives an `inbox` push for every ticket change
  replies   for each visitor message, --reply-delay s after it was sent, an agent answers on
            the ticket with POST /api/tickets/{id}/messages (bearer token); the text carries a
            nonce so the visitor's pushed `message` frame is matched even when it arrives
            before the HTTP response does

The messages are spread evenly: visitor messages at --rate/2 per second, replies likewise,
so --rate is the offered total (both directions). Latencies measured:
  ack             visitor send -> `ack` (stored and committed)
  to agent        visitor send -> agent socket gets `inbox` {ticket, event: message.received}
                  (the k-th such push for a ticket is paired with the visitor's k-th message)
  echo            visitor send -> the visitor's own message pushed back to its socket
  reply HTTP      agent POST -> 201
  to visitor      agent POST -> visitor gets the pushed `message` {from: "agent"}
Anything not received within --timeout s counts as lost. Pushes are deduplicated by message
id on the client; a second push of one id is counted under "duplicate pushes" (allowed, but
reported). The client's event-loop lag is measured too: it shares the machine's cores with
the server, and a late client inflates every latency above.

Usage (bench/chat.sh does all of it):
  python bench/chat_fanout.py --setup-widget https://shop.bench.test   # Django env: site key
  python bench/chat_fanout.py --base-url http://127.0.0.1:8766 --site-key KEY --token T \
      --agent-user bench --agent-password P --layer memory --out bench/results/chat-x.json
  python bench/chat_fanout.py --summary bench/results/chat-x.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_throughput import (
    ALLOWED_HOSTS,
    HZ,
    CpuWatch,
    machine_info,
    merge_out,
    percentile,
)

ORIGIN = "https://shop.bench.test"
NONCE = re.compile(r"\[r:([^\]]+)\]")


def now() -> float:
    return time.perf_counter()


def dist(values: list[float]) -> dict[str, Any]:
    """n, p50/p95/p99/max in ms of latencies given in seconds."""
    out: dict[str, Any] = {"n": len(values)}
    for p in (50, 95, 99):
        v = percentile(values, p)
        out[f"p{p}_ms"] = None if v is None else round(v, 1)
    out["max_ms"] = round(max(values) * 1000, 1) if values else None
    return out


# --- CPU by process group -------------------------------------------------------------------


class CpuSplit(CpuWatch):
    """Machine CPU over a phase, split into the server, the Celery worker, PostgreSQL, Redis,
    this client and everything else: `other` is the machine's busy time less ours, so it
    includes processes that started and ended within the phase (other people's tests)."""

    def __init__(self, server_pid: int | None, worker_pid: int | None) -> None:
        super().__init__(server_pid)
        self.worker_pid = worker_pid

    def _group(self, pid: int, procs: dict[int, tuple[str, int, int]]) -> str:
        comm = procs[pid][0]
        if comm.startswith("postgres"):
            return "postgres"
        if comm.startswith("redis-server"):
            return "redis"
        seen = 0
        while pid > 1 and pid in procs and seen < 50:
            if pid == os.getpid():
                return "client"
            if pid == self.server_pid:
                return "server"
            if pid == self.worker_pid:
                return "worker"
            pid = procs[pid][1]
            seen += 1
        return "other"

    def split(self, a: Any, b: Any) -> dict[str, float]:
        elapsed = max(b[0] - a[0], 1e-6)
        ticks: Counter[str] = Counter()
        for pid, (_, _, t) in b[2].items():
            ticks[self._group(pid, b[2])] += t - (a[2][pid][2] if pid in a[2] else 0)
        machine = (b[1] - a[1]) / HZ / elapsed
        ours = {k: v / HZ / elapsed for k, v in ticks.items() if k != "other"}
        out = {f"{k}_cores": round(v, 2) for k, v in sorted(ours.items())}
        out["other_cores"] = round(max(0.0, machine - sum(ours.values())), 2)
        out["machine_cores"] = round(machine, 2)
        return out


async def loop_lag(samples: list[float], stop: asyncio.Event, every: float = 0.05) -> None:
    """How late this client's event loop wakes up: its own contribution to every latency."""
    while not stop.is_set():
        t0 = now()
        await asyncio.sleep(every)
        samples.append(max(0.0, now() - t0 - every))


# --- the run's bookkeeping ------------------------------------------------------------------


@dataclass
class Visitor:
    index: int
    ws: Any = None
    uid: str = ""
    ticket: int | None = None
    pending: dict[str, asyncio.Future[tuple[float, dict[str, Any]]]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)


@dataclass
class Record:
    connect: list[float] = field(default_factory=list)  # TCP + websocket handshake
    welcome: list[float] = field(default_factory=list)  # hello -> welcome
    sent: dict[tuple[int, int], float] = field(default_factory=dict)  # (visitor, k) -> t
    acked: dict[tuple[int, int], tuple[float, int, int]] = field(default_factory=dict)
    echo: dict[str, float] = field(default_factory=dict)  # client id -> t
    # agent socket -> ticket -> times of `inbox` message.received pushes
    inbox: dict[int, dict[int, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    inbox_other: Counter[str] = field(default_factory=Counter)
    posted: dict[str, float] = field(default_factory=dict)  # nonce -> POST start
    post_done: dict[str, tuple[float, int]] = field(default_factory=dict)  # nonce -> (t, status)
    received: dict[str, float] = field(default_factory=dict)  # nonce -> first push to visitor
    duplicate_pushes: Counter[str] = field(default_factory=Counter)
    duplicate_acks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    frames: Counter[str] = field(default_factory=Counter)


# --- visitors --------------------------------------------------------------------------------


async def visitor_open(
    v: Visitor, url: str, rec: Record, sem: asyncio.Semaphore, timeout: float
) -> bool:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async with sem:
        t0 = now()
        try:
            v.ws = await connect(
                url,
                origin=Origin(ORIGIN),
                compression=None,
                open_timeout=timeout,
                ping_interval=None,
            )
        except Exception as exc:  # refused, handshake timeout, 403 ...
            rec.errors[f"visitor connect: {type(exc).__name__}"] += 1
            return False
        t1 = now()
        rec.connect.append(t1 - t0)
        try:
            await v.ws.send(json.dumps({"type": "hello", "page": f"{ORIGIN}/p/{v.index}"}))
            welcome = json.loads(await asyncio.wait_for(v.ws.recv(), timeout))
        except Exception as exc:
            rec.errors[f"visitor hello: {type(exc).__name__}"] += 1
            return False
        if welcome.get("type") != "welcome":
            rec.errors[f"visitor hello: got {welcome.get('type')}"] += 1
            return False
        rec.welcome.append(now() - t1)
        v.uid = welcome["uid"]
        return True


async def visitor_read(v: Visitor, rec: Record, done: asyncio.Event) -> None:
    try:
        async for raw in v.ws:
            t = now()
            msg = json.loads(raw)
            kind = msg.get("type")
            rec.frames[f"visitor {kind}"] += 1
            if kind == "ack" or (kind == "error" and msg.get("client_id")):
                future = v.pending.pop(str(msg.get("client_id")), None)
                if future is not None and not future.done():
                    future.set_result((t, msg))
            elif kind == "message":
                mid = int(msg["id"])
                if mid in v.seen:
                    rec.duplicate_pushes[f"to visitor ({msg.get('from')})"] += 1
                    continue
                v.seen.add(mid)
                if msg.get("from") == "agent":
                    found = NONCE.search(msg.get("text", ""))
                    if found:
                        rec.received.setdefault(found.group(1), t)
                    else:
                        rec.frames["agent message without nonce"] += 1
                elif msg.get("client_id"):
                    rec.echo.setdefault(msg["client_id"], t)
            elif kind == "error":
                rec.errors[f"visitor error frame: {msg.get('code')}"] += 1
    except Exception as exc:
        if not done.is_set():
            rec.errors[f"visitor socket: {type(exc).__name__}"] += 1


# --- agents ----------------------------------------------------------------------------------


async def agent_login(base_url: str, username: str, password: str) -> str:
    """Django's login form, as a browser does it: the session cookie of a logged-in agent."""
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        page = await http.get("/login/")
        csrf = http.cookies.get("csrftoken")
        if page.status_code != 200 or not csrf:
            raise SystemExit(f"login page: HTTP {page.status_code}, csrftoken={bool(csrf)}")
        answer = await http.post(
            "/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base_url}/login/"},
        )
        session = http.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            raise SystemExit(f"login failed: HTTP {answer.status_code}")
        return session


async def agent_read(index: int, ws: Any, rec: Record, done: asyncio.Event) -> None:
    try:
        async for raw in ws:
            t = now()
            msg = json.loads(raw)
            rec.frames[f"agent {msg.get('type')}"] += 1
            if msg.get("type") == "inbox":
                if msg.get("event") == "message.received":
                    rec.inbox[index][int(msg["ticket"])].append(t)
                else:
                    rec.inbox_other[str(msg.get("event"))] += 1
    except Exception as exc:
        if not done.is_set():
            rec.errors[f"agent socket: {type(exc).__name__}"] += 1


# --- the exchange ----------------------------------------------------------------------------


async def sleep_until(t: float) -> None:
    delay = t - now()
    if delay > 0:
        await asyncio.sleep(delay)


async def conversation(
    v: Visitor,
    *,
    run_id: str,
    start: float,
    args: argparse.Namespace,
    visitors: int,
    rec: Record,
    http: Any,
    http_sem: asyncio.Semaphore,
) -> None:
    import httpx
    from websockets.exceptions import ConnectionClosed

    per_side = args.rate / 2  # visitor messages/s; replies/s likewise
    loop = asyncio.get_running_loop()
    for k in range(args.messages):
        t_visitor = start + (k * visitors + v.index) / per_side
        await sleep_until(t_visitor)
        client_id = f"{run_id}-{v.index}-{k}"
        future: asyncio.Future[tuple[float, dict[str, Any]]] = loop.create_future()
        v.pending[client_id] = future
        frame = {
            "type": "message",
            "client_id": client_id,
            "text": f"Hello, order {v.index}-{k} has not arrived yet. Can you check?",
        }
        t0 = now()
        rec.sent[(v.index, k)] = t0
        try:
            await v.ws.send(json.dumps(frame))
        except ConnectionClosed:
            rec.errors["visitor send: closed"] += 1
            return
        try:
            t_ack, ack = await asyncio.wait_for(future, args.timeout)
        except TimeoutError:
            v.pending.pop(client_id, None)
            rec.errors["visitor: no ack"] += 1
            continue
        if ack.get("type") != "ack":
            rec.errors[f"visitor: {ack.get('code')}"] += 1
            continue
        if ack.get("duplicate"):
            rec.duplicate_acks += 1
        v.ticket = int(ack["ticket"])
        rec.acked[(v.index, k)] = (t_ack, int(ack["id"]), v.ticket)
        await sleep_until(t_visitor + args.reply_delay)
        nonce = f"{run_id}.{v.index}.{k}"
        body = {"text": f"Thanks, I'm checking order {v.index}-{k} now. [r:{nonce}]"}
        async with http_sem:
            t1 = now()
            rec.posted[nonce] = t1
            try:
                response = await http.post(f"/api/tickets/{v.ticket}/messages", json=body)
            except httpx.HTTPError as exc:
                rec.errors[f"reply: {type(exc).__name__}"] += 1
                continue
            rec.post_done[nonce] = (now(), response.status_code)
            if response.status_code != 201:
                rec.errors[f"reply: HTTP {response.status_code}"] += 1


def expected_done(rec: Record, agent_sockets: int) -> bool:
    sent = len(rec.sent)
    inboxed = min(
        (sum(len(t) for t in rec.inbox[i].values()) for i in range(agent_sockets)), default=0
    )
    replied = sum(1 for _, status in rec.post_done.values() if status == 201)
    return inboxed >= sent and len(rec.received) >= replied and len(rec.echo) >= sent


def analyse(rec: Record, args: argparse.Namespace, run_id: str) -> dict[str, Any]:
    timeout = args.timeout
    ack_lat, echo_lat, inbox_lat, post_lat, deliver_lat = [], [], [], [], []
    lost: Counter[str] = Counter()
    # Every sent message counts, acknowledged in time or not: a late ack still means stored
    # and pushed. A visitor's messages share one ticket, known from any of its acks.
    by_visitor: dict[int, list[tuple[int, float]]] = defaultdict(list)
    tickets: dict[int, set[int]] = defaultdict(set)
    for (vi, k), t_send in rec.sent.items():
        by_visitor[vi].append((k, t_send))
        if (vi, k) in rec.acked:
            t_ack, _, ticket = rec.acked[(vi, k)]
            ack_lat.append(t_ack - t_send)
            tickets[vi].add(ticket)
        t_echo = rec.echo.get(f"{run_id}-{vi}-{k}")
        if t_echo is None or t_echo - t_send > timeout:
            lost["echo"] += 1
        else:
            echo_lat.append(t_echo - t_send)
    lost["visitor message (no ack)"] = len(rec.sent) - len(rec.acked)
    extra_inbox = 0
    for sock in range(args.agent_sockets):
        for vi, sends in by_visitor.items():
            arrivals = sorted(t for tk in tickets[vi] for t in rec.inbox[sock].get(tk, []))
            sends.sort()
            extra_inbox += max(0, len(arrivals) - len(sends))
            for i, (_, t_send) in enumerate(sends):
                if i < len(arrivals) and arrivals[i] - t_send <= timeout:
                    inbox_lat.append(arrivals[i] - t_send)
                else:
                    lost["to agent (inbox)"] += 1
    for nonce, t_post in rec.posted.items():
        done = rec.post_done.get(nonce)
        if done is None:
            continue
        post_lat.append(done[0] - t_post)
        if done[1] != 201:
            continue
        t_recv = rec.received.get(nonce)
        if t_recv is None or t_recv - t_post > timeout:
            lost["to visitor (agent reply)"] += 1
        else:
            deliver_lat.append(t_recv - t_post)
    if extra_inbox:
        rec.duplicate_pushes["inbox message.received beyond one per message"] += extra_inbox
    return {
        "latency": {
            "connect": dist(rec.connect),
            "hello -> welcome": dist(rec.welcome),
            "visitor send -> ack": dist(ack_lat),
            "visitor send -> agent inbox push": dist(inbox_lat),
            "visitor send -> own echo push": dist(echo_lat),
            "agent reply POST -> 201": dist(post_lat),
            "agent reply POST -> visitor push": dist(deliver_lat),
        },
        "lost": dict(lost),
        "counts": {
            "visitors_connected": len(rec.connect),
            "visitor_messages_sent": len(rec.sent),
            "visitor_messages_acked": len(rec.acked),
            "duplicate_acks": rec.duplicate_acks,
            "agent_replies_posted": len(rec.posted),
            "agent_replies_201": sum(1 for _, s in rec.post_done.values() if s == 201),
            "agent_replies_received": len(rec.received),
            "inbox_other_events": dict(rec.inbox_other),
        },
        "duplicate_pushes": dict(rec.duplicate_pushes),
        "errors": dict(rec.errors),
        "frames": dict(rec.frames),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    run_id = uuid.uuid4().hex[:8]
    rec = Record()
    done = asyncio.Event()
    base = args.base_url.rstrip("/")
    ws_base = "ws" + base[len("http") :]
    cpu = CpuSplit(args.server_pid, args.worker_pid)
    lag: list[float] = []
    lag_stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, lag_stop))

    async with httpx.AsyncClient(base_url=base, timeout=30.0) as probe:
        for _ in range(120):
            try:
                if (await probe.get("/login/")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        else:
            raise SystemExit(f"server at {base} not ready")

    session = await agent_login(base, args.agent_user, args.agent_password)
    agents = [
        await connect(
            f"{ws_base}/ws/agent/",
            origin=Origin(base),  # AllowedHostsOriginValidator: the server's own host
            additional_headers={"Cookie": f"sessionid={session}"},
            compression=None,
            ping_interval=None,
        )
        for _ in range(args.agent_sockets)
    ]
    readers = [asyncio.create_task(agent_read(i, ws, rec, done)) for i, ws in enumerate(agents)]

    # 1. connect the visitors, --connect-rate per second at most
    visitors = [Visitor(i) for i in range(args.visitors)]
    url = f"{ws_base}/ws/chat/?site_key={args.site_key}"
    sem = asyncio.Semaphore(args.connect_concurrency)
    t_start = now()

    async def open_paced(v: Visitor) -> bool:
        await sleep_until(t_start + v.index / args.connect_rate)
        return await visitor_open(v, url, rec, sem, args.timeout)

    cpu_a = cpu.snapshot()
    opened = await asyncio.gather(*(open_paced(v) for v in visitors))
    connect_s = now() - t_start
    connect_cpu = cpu.split(cpu_a, cpu.snapshot())
    live = [v for v, ok in zip(visitors, opened, strict=True) if ok]
    readers += [asyncio.create_task(visitor_read(v, rec, done)) for v in live]
    print(f"  {len(live)}/{args.visitors} visitors connected in {connect_s:.1f}s", flush=True)
    await asyncio.sleep(1.0)

    # 2. the exchange, at --rate messages/s in all
    limits = httpx.Limits(max_connections=args.http_concurrency, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {args.token}"},
        limits=limits,
        timeout=httpx.Timeout(30.0),
    ) as http:
        http_sem = asyncio.Semaphore(args.http_concurrency)
        lag.clear()
        cpu_a = cpu.snapshot()
        cpu_t0 = time.process_time()
        start = now() + 0.5
        wall_start = time.time() + 0.5
        await asyncio.gather(
            *(
                conversation(
                    v,
                    run_id=run_id,
                    start=start,
                    args=args,
                    visitors=len(visitors),
                    rec=rec,
                    http=http,
                    http_sem=http_sem,
                )
                for v in live
            )
        )
        sending_s = now() - start
        deadline = now() + args.timeout
        while now() < deadline and not expected_done(rec, args.agent_sockets):
            await asyncio.sleep(0.1)
        cpu_exchange = cpu.split(cpu_a, cpu.snapshot())
        wall_end = time.time()
        client_cpu = time.process_time() - cpu_t0
    exchange_lag = dist(lag)

    done.set()
    lag_stop.set()
    await asyncio.gather(
        *(asyncio.wait_for(v.ws.close(), 5) for v in live if v.ws is not None),
        *(asyncio.wait_for(ws.close(), 5) for ws in agents),
        return_exceptions=True,
    )
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, lag_task, return_exceptions=True)

    result = analyse(rec, args, run_id)
    last_delivery = max(
        [*rec.received.values(), *(t for s in rec.inbox.values() for v in s.values() for t in v)],
        default=start,
    )
    window = max(last_delivery - start, 1e-6)
    stored = result["counts"]["visitor_messages_acked"] + result["counts"]["agent_replies_201"]
    delivered = (
        result["latency"]["visitor send -> agent inbox push"]["n"] / max(args.agent_sockets, 1)
        + result["latency"]["agent reply POST -> visitor push"]["n"]
    )
    result.update(
        {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "layer": args.layer,
            "server": args.server_desc,
            "command": args.command or " ".join(sys.argv),
            "settings": {
                "visitors": args.visitors,
                "messages_per_visitor": args.messages,
                "offered_rate_msgs_per_s": args.rate,
                "reply_delay_s": args.reply_delay,
                "agent_sockets": args.agent_sockets,
                "timeout_s": args.timeout,
                "connect_rate": args.connect_rate,
            },
            "connect_phase": {"seconds": round(connect_s, 2), "cpu": connect_cpu},
            "exchange": {
                "wall_start": wall_start,
                "wall_end": wall_end,
                "sending_seconds": round(sending_s, 2),
                "window_seconds": round(window, 2),
                "stored_msgs_per_s": round(stored / window, 1),
                "delivered_msgs_per_s": round(delivered / window, 1),
                "client_cpu_s": round(client_cpu, 2),
                "client_loop_lag": exchange_lag,
                "cpu": cpu_exchange,
            },
        }
    )
    return result


# --- the instrumented server (diagnosis: where the time goes) -------------------------------


class TimedExecutor:
    """Stands in for asgiref's one shared thread (`SyncToAsync.single_thread_executor`): every
    thread-sensitive sync call made outside a request context (all of Channels'
    `database_sync_to_async`, `aclose_old_connections` before every consumer handler) runs
    there, one at a time. Records for each job its name, queue wait, run time, SQL statements
    and SQL time; with `profile`, a cProfile of everything that runs on the thread."""

    def __init__(self, profile: bool = False) -> None:
        import cProfile
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shared-sync")
        # wall, name, wait s, run s, statements, SQL s
        self.jobs: list[tuple[float, str, float, float, int, float]] = []
        self.profile = cProfile.Profile() if profile else None
        self.sql = [0, 0.0]

    def _count(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = now()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql[0] += 1
            self.sql[1] += now() - t0

    @staticmethod
    def _name(fn: Any) -> str:
        child = fn.args[-1] if getattr(fn, "args", None) else fn  # thread_handler(..., child)
        target = getattr(child, "func", child)
        return getattr(target, "__qualname__", repr(target))

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        queued, name = now(), self._name(fn)

        def timed() -> Any:
            from django.db import connection

            self.sql = [0, 0.0]
            t0 = now()
            if self.profile:
                self.profile.enable()
            try:
                with connection.execute_wrapper(self._count):
                    return fn(*args, **kwargs)
            finally:
                if self.profile:
                    self.profile.disable()
                run_s = now() - t0
                self.jobs.append((time.time(), name, t0 - queued, run_s, *self.sql))  # type: ignore[arg-type]

        return self.pool.submit(timed)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.pool, attr)


def serve_instrumented(bind: str, out: Path, profile: Path | None) -> None:
    """Run config.asgi in one uvicorn process with the shared sync thread timed and the event
    loop's lag sampled; on exit (SIGTERM) write the raw records to `out` (and the shared
    thread's cProfile to `profile`)."""
    import uvicorn
    from asgiref.sync import SyncToAsync

    timed = TimedExecutor(profile=profile is not None)
    SyncToAsync.single_thread_executor = timed  # type: ignore[assignment]
    host, port = bind.rsplit(":", 1)
    lags: list[tuple[float, float]] = []

    async def main() -> None:
        config = uvicorn.Config(
            "config.asgi:application", host=host, port=int(port), log_level="warning"
        )
        server = uvicorn.Server(config)
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                t0 = now()
                await asyncio.sleep(0.05)
                lags.append((time.time(), max(0.0, now() - t0 - 0.05)))

        task = asyncio.create_task(sample())
        await server.serve()
        stop.set()
        await task

    # uvicorn re-raises the SIGTERM it handled once it has shut down: let that be a no-op.
    signal.signal(signal.SIGTERM, lambda *_: None)
    event_loop_run(main())
    out.write_text(json.dumps({"jobs": timed.jobs, "loop_lag": lags}))
    if profile and timed.profile:
        timed.profile.dump_stats(profile)


def merge_timings(path: Path, results: Path, section: str) -> None:
    """Aggregate the instrumented server's records over the run's exchange window and store
    them in the results file under `section`.server_timings."""
    raw = json.loads(path.read_text())
    body = json.loads(results.read_text())[section]
    t0, t1 = body["exchange"]["wall_start"], body["exchange"]["wall_end"]
    jobs = [j for j in raw["jobs"] if t0 <= j[0] <= t1]
    by_name: dict[str, list[tuple[float, float, int, float]]] = defaultdict(list)
    for _, name, wait, run_s, statements, sql_s in jobs:
        by_name[name].append((wait, run_s, statements, sql_s))
    rows = []
    for name, items in sorted(by_name.items(), key=lambda kv: -sum(i[1] for i in kv[1])):
        runs = [i[1] for i in items]
        waits = [i[0] for i in items]
        rows.append(
            {
                "job": name,
                "count": len(items),
                "busy_share_pct": round(100 * sum(runs) / (t1 - t0), 1),
                "run_mean_ms": round(1000 * sum(runs) / len(runs), 2),
                "run_p99_ms": round(percentile(runs, 99) or 0, 1),
                "wait_p50_ms": round(percentile(waits, 50) or 0, 1),
                "wait_p99_ms": round(percentile(waits, 99) or 0, 1),
                "sql_per_job": round(sum(i[2] for i in items) / len(items), 1),
                "sql_ms_per_job": round(1000 * sum(i[3] for i in items) / len(items), 2),
            }
        )
    lag = [v for t, v in raw["loop_lag"] if t0 <= t <= t1]
    merge_out(
        results,
        section,
        {
            "server_timings": {
                "shared_sync_thread_busy_pct": round(100 * sum(j[3] for j in jobs) / (t1 - t0), 1),
                "jobs": rows,
                "server_loop_lag": dist(lag),
            }
        },
    )


# --- setup, facts, printing ------------------------------------------------------------------


def setup_widget(origin: str) -> None:
    """Create the bench widget (run with the server's Django environment); prints the site key.
    The site-wide message limit is raised so the run measures the server, not the limiter."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    django.setup()
    from frontline.channels.chat.services import widget_create

    widget = widget_create(
        name="bench chat", allowed_origins=[origin], site_messages_per_minute=1_000_000
    )
    print(widget.site_key)


def service_versions(database_url: str | None, redis_url: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            facts["postgresql"] = version[0] if version else None
            facts["postgresql_settings"] = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')"
                ).fetchall()
            )
    if redis_url:
        import redis

        facts["redis"] = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    return facts


LATENCY_ORDER = [
    ("visitor send -> ack", None),
    ("visitor send -> agent inbox push", "to agent (inbox)"),
    ("visitor send -> own echo push", "echo"),
    ("agent reply POST -> 201", None),
    ("agent reply POST -> visitor push", "to visitor (agent reply)"),
    ("hello -> welcome", None),
    ("connect", None),
]


def print_layer(name: str, body: dict[str, Any]) -> None:
    s, ex = body["settings"], body["exchange"]
    print(
        f"\n== {name}: {body.get('server')}; {s['visitors']} visitors x "
        f"{s['messages_per_visitor']} messages + as many replies, offered "
        f"{s['offered_rate_msgs_per_s']} msg/s, {s['agent_sockets']} agent socket(s)"
    )
    heads = " ".join(f"{h:>7}" for h in ("p50", "p95", "p99", "max"))
    print(f"   {'latency (ms)':<36} {'n':>5} {heads} {'lost':>5}")
    for key, lost_key in LATENCY_ORDER:
        row = body["latency"][key]
        lost = body["lost"].get(lost_key, 0) if lost_key else ""
        if key == "visitor send -> ack":
            lost = body["lost"].get("visitor message (no ack)", 0)
        cells = [row.get(c) for c in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
        text = " ".join(f"{'-' if c is None else f'{c:.1f}':>7}" for c in cells)
        print(f"   {key:<36} {row['n']:>5} {text} {lost!s:>5}")
    lag = ex["client_loop_lag"]
    print(
        f"   stored {ex['stored_msgs_per_s']} msg/s, delivered {ex['delivered_msgs_per_s']} msg/s "
        f"over {ex['window_seconds']} s; duplicate pushes {body['duplicate_pushes'] or 0}; "
        f"duplicate acks {body['counts']['duplicate_acks']}"
    )
    print(f"   errors: {body['errors'] or 0}")
    print(f"   CPU (cores, exchange): {ex['cpu']}; client loop lag p99 {lag['p99_ms']} ms")
    timings = body.get("server_timings")
    if timings:
        print(
            f"   server: shared sync thread busy {timings['shared_sync_thread_busy_pct']}%, "
            f"event loop lag p99 {timings['server_loop_lag']['p99_ms']} ms; jobs on that thread:"
        )
        for job in timings["jobs"][:8]:
            print(
                f"     {job['job']:<28} {job['count']:>6} x {job['run_mean_ms']:>7.2f} ms "
                f"({job['busy_share_pct']:>5.1f}%), SQL {job['sql_per_job']:>4} / "
                f"{job['sql_ms_per_job']:>6.2f} ms, wait p50 {job['wait_p50_ms']} "
                f"p99 {job['wait_p99_ms']} ms"
            )


def print_summary(path: Path) -> None:
    data = json.loads(path.read_text())
    meta = data.get("machine", {})
    print(
        f"machine: {meta.get('cpus')} CPUs ({meta.get('cpu_model')}), Python "
        f"{meta.get('python')}, PostgreSQL {meta.get('postgresql')}, "
        f"Redis {meta.get('redis', '-')}; code {meta.get('git')}"
    )
    for name, body in data.items():
        if isinstance(body, dict) and "latency" in body:
            print_layer(name, body)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup-widget", metavar="ORIGIN", help="create the widget, print key")
    parser.add_argument("--summary", type=Path, help="print a results file")
    parser.add_argument("--serve", metavar="HOST:PORT", help="run the instrumented server")
    parser.add_argument("--serve-timings", type=Path, help="--serve writes its records here")
    parser.add_argument("--serve-profile", type=Path, help="--serve: cProfile of that thread")
    parser.add_argument("--merge-timings", type=Path, help="add --serve records to --out")
    parser.add_argument("--base-url", default="http://127.0.0.1:8766")
    parser.add_argument("--site-key", default="")
    parser.add_argument("--token", default=os.environ.get("BENCH_TOKEN", ""), help="write token")
    parser.add_argument("--agent-user", default="bench")
    parser.add_argument("--agent-password", default=os.environ.get("BENCH_PASSWORD", ""))
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--messages", type=int, default=2, help="per visitor")
    parser.add_argument("--rate", type=float, default=100.0, help="msgs/s offered, both ways")
    parser.add_argument("--reply-delay", type=float, default=1.0, help="s after visitor msg")
    parser.add_argument("--agent-sockets", type=int, default=1)
    parser.add_argument("--connect-rate", type=float, default=100.0, help="new sockets/s")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--http-concurrency", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0, help="s before a msg is lost")
    parser.add_argument("--layer", default="memory", help="label of this run's section")
    parser.add_argument("--server-desc", default="", help="recorded with the results")
    parser.add_argument("--server-pid", type=int, help="the server's pid (CPU accounting)")
    parser.add_argument("--worker-pid", type=int, help="the Celery worker's pid")
    parser.add_argument("--database-url", default=None, help="for the PostgreSQL version")
    parser.add_argument("--redis-url", default=None, help="for the Redis version")
    parser.add_argument("--command", default="", help="the command to record")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.merge_timings and not args.out:
        parser.error("--merge-timings needs --out and --layer")
    if args.serve and not args.serve_timings:
        parser.error("--serve needs --serve-timings")
    if not (args.setup_widget or args.summary or args.serve or args.merge_timings):
        if (urlsplit(args.base_url).hostname or "") not in ALLOWED_HOSTS:
            parser.error("this load generator only targets a local server (127.0.0.1)")
        if not (args.site_key and args.token and args.agent_password):
            parser.error("--site-key, --token and --agent-password are required")
    return args


def event_loop_run(coro: Any) -> Any:
    """uvloop when installed, as uvicorn picks it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.setup_widget:
        setup_widget(args.setup_widget)
        return
    if args.summary:
        print_summary(args.summary)
        return
    if args.serve:
        serve_instrumented(args.serve, args.serve_timings, args.serve_profile)
        return
    if args.merge_timings:
        merge_timings(args.merge_timings, args.out, args.layer)
        return
    result = event_loop_run(run(args))
    print_layer(args.layer, result)
    if args.out:
        facts = {**machine_info(), **service_versions(args.database_url, args.redis_url)}
        merge_out(args.out, "machine", facts)
        merge_out(args.out, args.layer, result)
        print(f"results -> {args.out} [{args.layer}]")


if __name__ == "__main__":
    main()
