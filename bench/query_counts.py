"""SQL queries per API request, measured in-process (Django test Client + CaptureQueriesContext).

Runs against the database named by DATABASE_URL (the benchmark's private PostgreSQL), as the
admin user `bench` (created by bench/run.sh). It creates a few tickets of its own.

  --explain      EXPLAIN (ANALYZE, BUFFERS) of the queue page's main query, first and deep page
  --profile N    profile N ticket creations in-process: cProfile hot spots (and a pyinstrument
                 tree under bench/results/ when pyinstrument is installed)

Results are merged into --out under --section, like bench/api_throughput.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from frontline.accounts.models import Team, User  # noqa: E402
from frontline.accounts.services import api_token_create  # noqa: E402

QUEUE = "/api/tickets?status=open&status=new"
RUN = uuid.uuid4().hex[:8]
_seq = 0


def _create_body(**extra: Any) -> dict[str, Any]:
    global _seq
    _seq += 1
    return {
        "subject": f"Query-count ticket {_seq}",
        "text": "My parcel never arrived. Can you check?",
        "requester": {
            "name": f"QC Customer {_seq}",
            "identities": [{"kind": "email", "value": f"qc-{RUN}-{_seq}@customers.test"}],
        },
        **extra,
    }


class Measured:
    def __init__(self, name: str, status: int, queries: list[dict[str, str]], ms: float) -> None:
        self.name = name
        self.status = status
        self.queries = queries
        self.ms = ms

    def row(self, keep_sql: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "queries": len(self.queries),
            "wall_ms": round(self.ms, 2),
            "sql_ms": round(sum(float(q["time"]) for q in self.queries) * 1000, 2),
        }
        if keep_sql:
            out["sql"] = [q["sql"][:240] for q in self.queries]
        return out


def measure(name: str, call: Any) -> tuple[Measured, Any]:
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        response = call()
        ms = (time.perf_counter() - t0) * 1000
    return Measured(name, response.status_code, list(ctx.captured_queries), ms), response


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def setup() -> tuple[Client, User, Team]:
    user = User.objects.get(username="bench")
    issued = api_token_create(user=user, name=f"query-counts-{RUN}", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    team, _ = Team.objects.get_or_create(slug="bench-team", defaults={"name": "Bench team"})
    return client, user, team


def counts(client: Client, user: User, team: Team) -> dict[str, Any]:
    rich = {"tags": ["bench", "vip"], "team_id": team.pk, "assignee_id": user.pk}
    rich["priority"] = "high"
    # Enough open/new tickets with tags, team and assignee for a full page of 100.
    for _ in range(105):
        assert post(client, "/api/tickets", _create_body(**rich)).status_code == 201
    client.get(f"{QUEUE}&limit=25")  # warm caches (content types, token last-used stamp)

    rows: list[Measured] = []
    for size in (10, 25, 100):
        m, response = measure(
            f"GET queue page, limit={size}", lambda s=size: client.get(f"{QUEUE}&limit={s}")
        )
        assert len(response.json()["items"]) == size, response.content[:200]
        rows.append(m)
    cursor = client.get(f"{QUEUE}&limit=25").json()["next_cursor"]
    m, _ = measure(
        "GET queue page 2 (cursor), limit=25",
        lambda: client.get(f"{QUEUE}&limit=25&cursor={cursor}"),
    )
    rows.append(m)

    create, response = measure(
        "POST ticket (as in the load test)", lambda: post(client, "/api/tickets", _create_body())
    )
    assert response.status_code == 201, response.content[:300]
    ticket_id = response.json()["id"]
    rows.append(create)
    m, response = measure(
        "POST ticket (+tags, team, assignee, priority)",
        lambda: post(client, "/api/tickets", _create_body(**rich)),
    )
    assert response.status_code == 201, response.content[:300]
    rows.append(m)
    reply = {"text": "Sorry! A replacement is on its way.", "visibility": "public"}
    m, response = measure(
        "POST message: first agent reply",
        lambda: post(client, f"/api/tickets/{ticket_id}/messages", reply),
    )
    assert response.status_code == 201, response.content[:300]
    rows.append(m)
    m, response = measure(
        "POST message: later agent reply",
        lambda: post(client, f"/api/tickets/{ticket_id}/messages", reply),
    )
    rows.append(m)
    note = {"text": "Internal: courier claim filed.", "visibility": "internal"}
    m, _ = measure(
        "POST message: internal note",
        lambda: post(client, f"/api/tickets/{ticket_id}/messages", note),
    )
    rows.append(m)
    m, _ = measure("GET ticket", lambda: client.get(f"/api/tickets/{ticket_id}"))
    rows.append(m)

    page_counts = {r.queries.__len__() for r in rows[:3]}
    keep = {
        "POST ticket (as in the load test)",
        "POST message: first agent reply",
        "GET queue page, limit=25",
    }
    return {
        "counts": [r.row(keep_sql=r.name in keep) for r in rows],
        "constant_in_page_size": len(page_counts) == 1,
    }


def explain(client: Client) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the queue page's ticket query on the first page and a deep page."""
    plans: dict[str, Any] = {}
    cursor = None
    for page in range(1, 201):
        path = f"{QUEUE}&limit=25" + (f"&cursor={cursor}" if cursor else "")
        if page in (1, 2, 200):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            sql = next(
                q["sql"]
                for q in ctx.captured_queries
                if 'FROM "tickets_ticket"' in q["sql"] and "LIMIT" in q["sql"]
            )
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plans[f"page {page}"] = {"sql": sql, "plan": [r[0] for r in cur.fetchall()]}
        else:
            response = client.get(path)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    return plans


def profile(client: Client, n: int, results_dir: Path) -> dict[str, Any]:
    bodies = [_create_body() for _ in range(n + 20)]
    for body in bodies[:20]:  # warm-up
        post(client, "/api/tickets", body)
    out: dict[str, Any] = {"profiled_requests": n}
    t0 = time.perf_counter()
    for body in bodies[20:]:
        post(client, "/api/tickets", body)
    out["unprofiled_ms_per_create"] = round((time.perf_counter() - t0) * 1000 / n, 2)

    # DB share: time the same requests while capturing queries (debug cursor timing).
    bodies2 = [_create_body() for _ in range(n)]
    sql_s = 0.0
    wall = 0.0
    for body in bodies2:
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            post(client, "/api/tickets", body)
            wall += time.perf_counter() - t0
        sql_s += sum(float(q["time"]) for q in ctx.captured_queries)
    out["sql_share_pct"] = round(100 * sql_s / wall, 1)

    bodies3 = [_create_body() for _ in range(n)]
    prof = cProfile.Profile()
    prof.enable()
    for body in bodies3:
        post(client, "/api/tickets", body)
    prof.disable()
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    stats.sort_stats("tottime")
    hot: list[str] = []
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in entries[:25]:
        short = filename.split("site-packages/")[-1].replace(str(Path.cwd()) + "/", "")
        hot.append(
            f"{100 * tottime / total:5.1f}% self  {cumtime * 1000 / n:7.2f} ms cum/req  "
            f"{ncalls / n:7.1f} calls/req  {short}:{line}({func})"
        )
    out["profiler"] = "cProfile, self time, aggregated over the profiled creations"
    out["self_time_by_layer"] = by_layer(entries, total)
    out["hot_spots"] = hot
    stats.sort_stats("cumulative")
    stream.seek(0)
    stream.truncate()
    stats.print_stats(60)
    (results_dir / "profile-create-cprofile.txt").write_text(stream.getvalue())
    try:
        from pyinstrument import Profiler
    except ImportError:
        return out
    bodies4 = [_create_body() for _ in range(n)]
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for body in bodies4:
        post(client, "/api/tickets", body)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    (results_dir / "profile-create-pyinstrument.txt").write_text(text)
    out["pyinstrument"] = str(results_dir / "profile-create-pyinstrument.txt")
    return out


LAYERS = [
    ("psycopg", "psycopg: driver + waiting for PostgreSQL"),
    ("django/db/models/sql/", "Django ORM: SQL compilation"),
    ("django/db/models/", "Django ORM: querysets, models, fields"),
    ("django/db/backends/", "Django DB backend wrappers"),
    ("django/db/transaction", "Django transactions"),
    ("ninja/", "django-ninja: parsing, validation, rendering"),
    ("pydantic", "pydantic"),
    ("frontline/", "Frontline's own code"),
    ("json/", "json"),
    ("django/", "Django: handler, middleware, other"),
]


def by_layer(entries: list[Any], total: float) -> dict[str, float]:
    """Self time grouped by the layer of the code it is spent in, in % of all self time."""
    shares: dict[str, float] = {}
    for (filename, _line, _func), (_cc, _n, tottime, _cum, _callers) in entries:
        path = filename.split("site-packages/")[-1]
        label = "other (stdlib, builtins)"
        for prefix, name in LAYERS:
            if path.startswith(prefix) or f"/{prefix}" in filename:
                label = name
                break
        shares[label] = shares.get(label, 0.0) + tottime
    ordered = sorted(shares.items(), key=lambda kv: kv[1], reverse=True)
    return {name: round(100 * value / total, 1) for name, value in ordered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--section", default="query_counts")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--no-counts", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    results_dir = (args.out.parent if args.out else Path("bench/results")).resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    client, user, team = setup()
    result: dict[str, Any] = {}
    if not args.no_counts:
        result.update(counts(client, user, team))
        for row in result["counts"]:
            print(f"  {row['name']:<46} {row['queries']:>3} queries  {row['wall_ms']:>7.1f} ms")
        print(f"  list query count constant in page size: {result['constant_in_page_size']}")
    if args.explain:
        result["explain"] = explain(client)
        for page, body in result["explain"].items():
            print(f"\n-- EXPLAIN ANALYZE, queue {page}\n" + "\n".join(body["plan"]))
    if args.profile:
        result.update(profile(client, args.profile, results_dir))
        print(f"\n-- hot spots of ticket creation ({args.profile} requests, in-process)")
        print(
            f"  {result['unprofiled_ms_per_create']} ms/create unprofiled, "
            f"SQL share {result['sql_share_pct']}%"
        )
        for name, pct in result["self_time_by_layer"].items():
            print(f"  {pct:5.1f}%  {name}")
        for line in result["hot_spots"]:
            print("  " + line)
    if args.out:
        existing = json.loads(args.out.read_text()) if args.out.exists() else {}
        existing.setdefault(args.section, {}).update(result)
        args.out.write_text(json.dumps(existing, indent=2) + "\n")
        print(f"results -> {args.out} [{args.section}]")


if __name__ == "__main__":
    main()
