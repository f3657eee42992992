"""API load generator: asyncio + httpx against a running Frontline server (127.0.0.1 only).

Phases (pick with --phase, several allowed):
  write  ticket creation (POST /api/tickets) and agent replies (POST /api/tickets/{id}/messages)
         at each --concurrency level, each level bounded by --duration seconds and
         --max-requests requests
  queue  the open-ticket queue (GET /api/tickets?status=open&status=new&limit=25): first pages
         and keyset-following pages (next_cursor) at each --queue-concurrency level, plus one
         sequential deep walk (--deep-pages pages) to show the cost by page depth

Results are merged into --out (JSON, one key per --section) and printed as a table.
`--summary FILE` prints every section of a results file (throughput, queue, query counts,
profile) as one readable report.

Usage (bench/run.sh does all of this):
  python bench/api_throughput.py --base-url http://127.0.0.1:8765 --token "$TOKEN" \
      --phase write --phase queue --out bench/results/x.json --section small
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

Request = Callable[[httpx.AsyncClient, int], Awaitable[tuple[bool, Any]]]

ALLOWED_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --- statistics -------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float | None:
    """Linear-interpolated percentile of `values` (seconds in, milliseconds out)."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0] * 1000
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return value * 1000


def summarize(
    name: str,
    concurrency: int,
    latencies: list[float],
    errors: Counter[str],
    elapsed: float,
    cpu: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ok = len(latencies)
    return {
        "name": name,
        "concurrency": concurrency,
        "requests": ok + sum(errors.values()),
        "ok": ok,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "seconds": round(elapsed, 3),
        "throughput_rps": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": _r(percentile(latencies, 50)),
        "p95_ms": _r(percentile(latencies, 95)),
        "p99_ms": _r(percentile(latencies, 99)),
        "max_ms": _r(max(latencies) * 1000 if latencies else None),
        "client_cpu_pct": round(100 * cpu / elapsed, 1) if elapsed > 0 else 0.0,
        **(extra or {}),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- PostgreSQL session counter (optional) ------------------------------------------------


class PgStats:
    """Reads pg_stat_database to tell how many new server sessions a level opened."""

    def __init__(self, url: str | None) -> None:
        self.conn: Any = None
        if url:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)

    def snapshot(self) -> dict[str, int] | None:
        if self.conn is None:
            return None
        row = self.conn.execute(
            "SELECT sessions, xact_commit, "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return {"sessions": int(row[0]), "commits": int(row[1]), "connected": int(row[2])}

    async def settled_snapshot(self) -> dict[str, int] | None:
        if self.conn is None:
            return None
        await asyncio.sleep(1.2)  # backends flush their statistics at most once a second
        return self.snapshot()


def pg_delta(before: dict[str, int] | None, after: dict[str, int] | None, ok: int) -> dict:
    if not before or not after or not ok:
        return {}
    return {
        "pg_sessions_per_req": round((after["sessions"] - before["sessions"]) / ok, 3),
        "pg_connected_after": after["connected"],
    }


# --- CPU accounting: is anything else using this machine? ----------------------------------

HZ = os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """Machine CPU during a level, and how much of it went to processes not of this benchmark
    (PostgreSQL, Redis, the server's process tree and this client are ours). Foreign processes
    shorter than a level are missed, so `foreign` is a lower bound."""

    OURS = ("postgres", "redis-server")

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    @staticmethod
    def _busy() -> int:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4]  # minus idle and iowait

    @staticmethod
    def _procs() -> dict[int, tuple[str, int, int]]:
        procs = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            rest = raw[raw.rindex(")") + 2 :].split()
            procs[int(entry.name)] = (comm, int(rest[1]), int(rest[11]) + int(rest[12]))
        return procs

    def snapshot(self) -> tuple[float, int, dict[int, tuple[str, int, int]]]:
        return time.monotonic(), self._busy(), self._procs()

    def _ours(self, pid: int, procs: dict[int, tuple[str, int, int]]) -> bool:
        seen = 0
        while pid > 1 and seen < 50:
            if pid in (os.getpid(), self.server_pid) or procs[pid][0].startswith(self.OURS):
                return True
            pid = procs.get(pid, ("", 1, 0))[1]
            if pid not in procs:
                return False
            seen += 1
        return False

    def delta(self, a: Any, b: Any) -> dict[str, float]:
        elapsed = max(b[0] - a[0], 1e-6)
        foreign = sum(
            b[2][pid][2] - a[2][pid][2] for pid in b[2] if pid in a[2] and not self._ours(pid, b[2])
        )
        return {
            "machine_cpu_cores": round((b[1] - a[1]) / HZ / elapsed, 2),
            "foreign_cpu_cores": round(foreign / HZ / elapsed, 2),
        }

    async def wait_quiet(self, limit: float = 0.25, max_wait: float = 45.0) -> float:
        """Wait (at most max_wait s) until foreign processes use less than `limit` cores."""
        waited = 0.0
        while waited < max_wait:
            a = self.snapshot()
            await asyncio.sleep(1.0)
            waited += 1.0
            if self.delta(a, self.snapshot())["foreign_cpu_cores"] < limit:
                return waited - 1.0
        return waited


WATCH = CpuWatch(None)


# --- the level runner ---------------------------------------------------------------------


async def run_level(
    client: httpx.AsyncClient,
    name: str,
    concurrency: int,
    request: Request,
    *,
    duration: float,
    max_requests: int,
    pg: PgStats | None = None,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0
    waited = await WATCH.wait_quiet() if name != "warm-up" else 0.0
    before = pg.snapshot() if pg else None
    cpu_a = WATCH.snapshot()
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + duration

    async def worker(worker_id: int) -> None:
        nonlocal issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                ok, detail = await request(client, worker_id)
            except httpx.HTTPError as exc:
                ok, detail = False, type(exc).__name__
            elapsed = time.perf_counter() - t0
            if ok:
                latencies.append(elapsed)
            else:
                errors[str(detail)] += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    machine = WATCH.delta(cpu_a, WATCH.snapshot())
    after = await pg.settled_snapshot() if pg else None
    extra = {**pg_delta(before, after, len(latencies)), **machine, "waited_for_quiet_s": waited}
    return summarize(name, concurrency, latencies, errors, elapsed, cpu, extra)


# --- the requests -------------------------------------------------------------------------


class Workload:
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.counter = 0
        self.ticket_ids: list[int] = []

    async def create_ticket(self, client: httpx.AsyncClient, worker_id: int) -> tuple[bool, Any]:
        self.counter += 1
        n = self.counter
        response = await client.post(
            "/api/tickets",
            json={
                "subject": f"Order {n} arrived damaged",
                "text": (
                    f"Hello, my order #{n} arrived with a cracked screen. "
                    "Could you send a replacement or refund me? Thanks."
                ),
                "requester": {
                    "name": f"Bench Customer {n}",
                    "identities": [
                        {"kind": "email", "value": f"bench-{self.run_id}-{n}@customers.test"}
                    ],
                },
            },
        )
        if response.status_code != 201:
            return False, response.status_code
        self.ticket_ids.append(response.json()["id"])
        return True, None

    async def post_message(self, client: httpx.AsyncClient, worker_id: int) -> tuple[bool, Any]:
        ticket_id = random.choice(self.ticket_ids)
        response = await client.post(
            f"/api/tickets/{ticket_id}/messages",
            json={
                "text": "Sorry about that! A replacement is on its way; tracking follows.",
                "visibility": "public",
            },
        )
        return response.status_code == 201, response.status_code


QUEUE_PATH = "/api/tickets"
QUEUE_PARAMS: list[tuple[str, str | int]] = [("status", "open"), ("status", "new")]


async def queue_get(
    client: httpx.AsyncClient, cursor: str | None, limit: int
) -> tuple[bool, Any, str | None]:
    params: list[tuple[str, str | int]] = [*QUEUE_PARAMS, ("limit", limit)]
    if cursor:
        params.append(("cursor", cursor))
    response = await client.get(QUEUE_PATH, params=params)
    if response.status_code != 200:
        return False, response.status_code, None
    body = response.json()
    return True, len(body["items"]), body["next_cursor"]


async def run_queue_level(
    client: httpx.AsyncClient,
    concurrency: int,
    *,
    duration: float,
    max_requests: int,
    pages: int,
    limit: int,
    pg: PgStats | None = None,
) -> list[dict[str, Any]]:
    """Each worker loads a first page, then follows next_cursor up to `pages` pages, again."""
    first: list[float] = []
    follow: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0
    waited = await WATCH.wait_quiet()
    before = pg.snapshot() if pg else None
    cpu_a = WATCH.snapshot()
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + duration

    async def worker() -> None:
        nonlocal issued
        cursor: str | None = None
        page = 0
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                ok, detail, next_cursor = await queue_get(client, cursor, limit)
            except httpx.HTTPError as exc:
                ok, detail, next_cursor = False, type(exc).__name__, None
            elapsed = time.perf_counter() - t0
            if not ok:
                errors[str(detail)] += 1
                cursor, page = None, 0
                continue
            (follow if cursor else first).append(elapsed)
            page += 1
            cursor = next_cursor if page < pages else None
            if cursor is None:
                page = 0

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    machine = WATCH.delta(cpu_a, WATCH.snapshot())
    after = await pg.settled_snapshot() if pg else None
    both = first + follow
    extra = {**pg_delta(before, after, len(both)), **machine, "waited_for_quiet_s": waited}
    return [
        summarize("queue (all pages)", concurrency, both, errors, elapsed, cpu, extra),
        summarize("queue first page", concurrency, first, Counter(), elapsed, cpu),
        summarize(f"queue pages 2-{pages}", concurrency, follow, Counter(), elapsed, cpu),
    ]


async def deep_walk(client: httpx.AsyncClient, pages: int, limit: int) -> dict[str, Any]:
    """Follow next_cursor sequentially from page 1 to `pages`: latency by depth."""
    by_page: list[float] = []
    cursor: str | None = None
    rows = 0
    await WATCH.wait_quiet()
    cpu_a = WATCH.snapshot()
    for _ in range(pages):
        t0 = time.perf_counter()
        ok, detail, cursor = await queue_get(client, cursor, limit)
        by_page.append(time.perf_counter() - t0)
        if not ok:
            return {"error": detail, "pages": len(by_page)}
        rows += int(detail)
        if cursor is None:
            break
    buckets: dict[str, Any] = {"pages_walked": len(by_page), "rows_seen": rows}
    buckets.update(WATCH.delta(cpu_a, WATCH.snapshot()))
    size = len(by_page)
    for label, lo, hi in (
        ("pages 1-10", 0, 10),
        (f"pages {max(1, size - 9)}-{size}", max(0, size - 10), size),
    ):
        part = by_page[lo:hi]
        buckets[label] = {"p50_ms": _r(percentile(part, 50)), "max_ms": _r(max(part) * 1000)}
    return buckets


# --- orchestration ------------------------------------------------------------------------


async def wait_ready(client: httpx.AsyncClient, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            response = await client.get(QUEUE_PATH, params={"limit": 1})
            if response.status_code == 200:
                return
            last = response.status_code
        except httpx.HTTPError as exc:
            last = exc
        await asyncio.sleep(0.5)
    raise SystemExit(f"server not ready after {timeout:.0f}s: {last!r}")


async def warm(client: httpx.AsyncClient, request: Request, n: int, concurrency: int) -> None:
    """Unrecorded requests so every worker process has imported, connected and cached."""
    await run_level(client, "warm-up", concurrency, request, duration=10, max_requests=n)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=max([*args.concurrency, *args.queue_concurrency]) + 4,
        max_keepalive_connections=max([*args.concurrency, *args.queue_concurrency]) + 4,
    )
    results: dict[str, Any] = {
        "base_url": args.base_url,
        "workers": args.workers,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_per_level_s": args.duration,
        "max_requests_per_level": args.max_requests,
    }
    pg = PgStats(args.database_url) if args.database_url else None
    async with httpx.AsyncClient(
        base_url=args.base_url,
        headers={"Authorization": f"Bearer {args.token}"},
        limits=limits,
        timeout=httpx.Timeout(30.0),
    ) as client:
        await wait_ready(client)
        if "write" in args.phase:
            work = Workload(uuid.uuid4().hex[:8])
            await warm(client, work.create_ticket, 300, max(args.concurrency))
            levels = []
            for c in args.concurrency:
                row = await run_level(
                    client,
                    "create ticket",
                    c,
                    work.create_ticket,
                    duration=args.duration,
                    max_requests=args.max_requests,
                    pg=pg,
                )
                levels.append(row)
                print_rows([row])
            await warm(client, work.post_message, 200, max(args.concurrency))
            for c in args.concurrency:
                row = await run_level(
                    client,
                    "post message",
                    c,
                    work.post_message,
                    duration=args.duration,
                    max_requests=args.max_requests,
                    pg=pg,
                )
                levels.append(row)
                print_rows([row])
            results["write"] = levels
            results["tickets_created"] = len(work.ticket_ids)
        if "queue" in args.phase:
            for _ in range(50):
                await queue_get(client, None, args.limit)
            queue_rows = []
            for c in args.queue_concurrency:
                rows = await run_queue_level(
                    client,
                    c,
                    duration=args.queue_duration,
                    max_requests=args.max_requests,
                    pages=args.pages,
                    limit=args.limit,
                    pg=pg,
                )
                queue_rows.extend(rows)
                print_rows(rows)
            results["queue"] = queue_rows
            if args.deep_pages:
                results["deep_walk"] = await deep_walk(client, args.deep_pages, args.limit)
                print(f"deep walk: {json.dumps(results['deep_walk'])}")
    return results


def merge_out(path: Path, section: str, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.setdefault(section, {}).update(data)
    path.write_text(json.dumps(existing, indent=2, sort_keys=False) + "\n")


# --- printing -----------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


_header_done = False


def print_rows(rows: list[dict[str, Any]], title: str | None = None) -> None:
    global _header_done
    if title:
        print(f"\n== {title}")
    cols = [
        ("name", 20),
        ("concurrency", 5),
        ("ok", 6),
        ("errors", 6),
        ("throughput_rps", 8),
        ("p50_ms", 7),
        ("p95_ms", 7),
        ("p99_ms", 7),
        ("max_ms", 8),
        ("client_cpu_pct", 6),
        ("pg_sessions_per_req", 7),
        ("machine_cpu_cores", 6),
        ("foreign_cpu_cores", 6),
    ]
    heads = ["what", "conc", "ok", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    heads += ["cli%", "pg s/r", "cpu", "other"]
    if title or not _header_done:
        _header_done = True
        print(
            "  ".join(
                h.rjust(w) if i else h.ljust(w)
                for i, (h, (_, w)) in enumerate(zip(heads, cols, strict=True))
            )
        )
    for row in rows:
        cells = []
        for i, (key, width) in enumerate(cols):
            text = _fmt(row.get(key))
            cells.append(text.ljust(width) if i == 0 else text.rjust(width))
        print("  ".join(cells))
        if row.get("error_kinds"):
            print(f"    errors: {row['error_kinds']}")
    sys.stdout.flush()


def print_summary(path: Path) -> None:
    data = json.loads(path.read_text())
    meta = data.get("machine", {})
    if meta:
        print(
            f"machine: {meta.get('cpus')} CPUs ({meta.get('cpu_model')}), {meta.get('memory')}; "
            f"code: {meta.get('git')}"
        )
    for section, body in data.items():
        if not isinstance(body, dict):
            continue
        if "write" in body:
            print_rows(body["write"], f"{section}: writes ({body.get('workers')} workers)")
        if "queue" in body:
            print_rows(body["queue"], f"{section}: queue page ({body.get('workers')} workers)")
        if "deep_walk" in body:
            print(f"  deep walk: {json.dumps(body['deep_walk'])}")
        if "bulk_load" in body:
            print(f"\n== {section}: bulk load\n  {json.dumps(body['bulk_load'])}")
        if "counts" in body:
            print(f"\n== {section}: SQL queries per request")
            for row in body["counts"]:
                print(f"  {row['name']:<44} {row['queries']:>3}")
            if "constant_in_page_size" in body:
                print(f"  list query count constant in page size: {body['constant_in_page_size']}")
        if "hot_spots" in body:
            print(
                f"\n== {section}: ticket creation in-process: "
                f"{body.get('unprofiled_ms_per_create')} ms, SQL {body.get('sql_share_pct')}%"
            )
            for name, pct in body.get("self_time_by_layer", {}).items():
                print(f"  {pct:5.1f}%  {name}")
            print(f"\n== {section}: hot spots ({body.get('profiler')})")
            for line in body["hot_spots"]:
                print(f"  {line}")


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        import subprocess

        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        info["git"] = head + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        info["memory"] = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return info


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--token", default=os.environ.get("BENCH_TOKEN", ""))
    parser.add_argument("--phase", action="append", choices=["write", "queue"], default=[])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--queue-concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per write level")
    parser.add_argument("--queue-duration", type=float, default=10.0, help="s per queue level")
    parser.add_argument("--max-requests", type=int, default=3000, help="per level")
    parser.add_argument("--pages", type=int, default=10, help="pages per queue walk")
    parser.add_argument("--deep-pages", type=int, default=0, help="one sequential deep walk")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--workers", type=int, default=None, help="recorded with the results")
    parser.add_argument("--database-url", default=None, help="count new PostgreSQL sessions")
    parser.add_argument("--server-pid", type=int, default=None, help="the server's master pid")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--section", default="run")
    parser.add_argument("--summary", type=Path, default=None, help="print a results file")
    args = parser.parse_args(argv)
    if args.summary is None:
        host = urlsplit(args.base_url).hostname or ""
        if host not in ALLOWED_HOSTS:
            parser.error("this load generator only targets a local server (127.0.0.1)")
        if not args.token:
            parser.error("--token (or BENCH_TOKEN) is required")
        if not args.phase:
            args.phase = ["write", "queue"]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.summary is not None:
        print_summary(args.summary)
        return
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    WATCH.server_pid = args.server_pid
    results = runner(main_async(args))
    if args.out:
        merge_out(args.out, "machine", machine_info())
        merge_out(args.out, args.section, results)
        print(f"results -> {args.out} [{args.section}]")


if __name__ == "__main__":
    main()
