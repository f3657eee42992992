"""Inbound webhook ingest through a real server (127.0.0.1 only): signed Twilio SMS webhooks
posted at a fixed concurrency, how fast they are acknowledged, and how long until each message
is on its ticket.

  python bench/webhook_ingest.py --setup-account           # Django env: prints key and token
  python bench/webhook_ingest.py --base-url http://127.0.0.1:8767 --key K --auth-token T \
      --database-url URL --concurrency 8 --duration 20 --section c8 --out results.json
  python bench/webhook_ingest.py --summary results.json

Each request is what Twilio sends for an inbound SMS: a form post with a unique MessageSid,
From one of --senders numbers (so most land on an open ticket, as real traffic does), To the
account's number, and an X-Twilio-Signature computed over the URL and the form with the
account's auth token. A share (--duplicates, 5 %) is posted again at once, as a provider's
retry would be: it must be acknowledged and stored once.

Measured per level:
  accepted/s   2xx answers per second while the level runs (the figure the target is about)
  ack          request sent -> answer received (p50/p95/p99/max)
  visible      request sent -> the message row exists on its ticket (Message.created_at, the
               server's clock, minus the send time on this machine's clock): queue wait +
               processing by the Celery worker
  drain        last ack -> last message visible: the backlog the worker had to catch up on
and the check: messages stored == unique sids accepted (no loss, no duplicates).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_throughput import ALLOWED_HOSTS, CpuWatch, machine_info, merge_out, percentile

ACCOUNT_KEY = "bench-sms"
OUR_NUMBER = "+14155550111"


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """What Twilio sends (the bench signs independently of the code under test)."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class ServerWatch(CpuWatch):
    """The server's and the Celery worker's process trees count as ours, not foreign."""

    def __init__(self, server_pid: int | None, worker_pid: int | None) -> None:
        super().__init__(server_pid)
        self.worker_pid = worker_pid

    def _ours(self, pid: int, procs: dict[int, tuple[str, int, int]]) -> bool:
        if super()._ours(pid, procs):
            return True
        seen = 0
        while self.worker_pid and pid > 1 and seen < 50:
            if pid == self.worker_pid:
                return True
            pid = procs.get(pid, ("", 1, 0))[1]
            seen += 1
        return False


def dist(values: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(values)}
    for p in (50, 95, 99):
        v = percentile(values, p)
        out[f"p{p}_ms"] = None if v is None else round(v, 1)
    out["max_ms"] = round(max(values) * 1000, 1) if values else None
    return out


async def run_level(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    url = f"{args.base_url}/channels/twilio/{args.key}/messages"
    senders = [f"+1415555{2000 + i:04d}" for i in range(args.senders)]
    run = uuid.uuid4().hex[:10]
    sent_at: dict[str, float] = {}  # sid -> wall-clock send time of the first post
    acks: list[float] = []
    errors: Counter[str] = Counter()
    accepted: set[str] = set()
    counter = 0
    rng = random.Random(args.seed)  # the load's shape, not a secret
    watch = ServerWatch(args.server_pid, args.worker_pid)
    waited = await watch.wait_quiet()
    cpu_a = watch.snapshot()
    start = time.perf_counter()
    deadline = start + args.duration
    last_ack_wall = 0.0

    async def post(client: httpx.AsyncClient, sid: str, sender: str) -> None:
        nonlocal last_ack_wall
        form = {
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "SAN FRANCISCO", "FromZip": "94105", "SmsSid": sid, "FromState": "CA",
            "SmsStatus": "received", "FromCity": "SAN FRANCISCO",
            "Body": f"Where is order {sid[-6:]}?",
            "FromCountry": "US", "To": OUR_NUMBER, "ToZip": "94105", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": args.account_sid, "From": sender,
            "ApiVersion": "2010-04-01",
        }  # fmt: skip
        headers = {"X-Twilio-Signature": twilio_signature(args.auth_token, url, form)}
        sent_at.setdefault(sid, time.time())
        t0 = time.perf_counter()
        try:
            response = await client.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            return
        elapsed = time.perf_counter() - t0
        if 200 <= response.status_code < 300:
            acks.append(elapsed)
            accepted.add(sid)
            last_ack_wall = time.time()
        else:
            errors[f"HTTP {response.status_code}"] += 1

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            counter += 1
            sid = f"SM{run}{counter:020d}"
            sender = rng.choice(senders)
            await post(client, sid, sender)
            if rng.random() < args.duplicates:
                await post(client, sid, sender)  # the provider's retry

    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - start
    machine = watch.delta(cpu_a, watch.snapshot())
    visible: list[float] = []
    drain: float | None = None
    stored = 0
    if args.drain_timeout:  # 0: the acknowledgement alone, nothing waited for
        visible, drain, stored = await asyncio.to_thread(
            wait_visible, args.database_url, run, sent_at, accepted, last_ack_wall,
            args.drain_timeout,
        )  # fmt: skip
    posts = len(acks) + sum(errors.values())
    return {
        "concurrency": args.concurrency,
        "duration_s": round(elapsed, 1),
        "posts": posts,
        "accepted": len(acks),
        "unique_messages": len(accepted),
        "accepted_per_s": round(len(acks) / elapsed, 1),
        "errors": dict(errors),
        "ack": dist(acks),
        "visible": dist(visible),
        "drain_s": None if drain is None else round(drain, 1),
        "stored_messages": stored,
        "lost": len(accepted) - stored if args.drain_timeout else None,
        "waited_for_quiet_s": waited,
        **machine,
    }


def wait_visible(
    database_url: str,
    run: str,
    sent_at: dict[str, float],
    accepted: set[str],
    last_ack: float,
    timeout: float,
) -> tuple[list[float], float | None, int]:
    """Poll the database until every accepted message is stored (or timeout)."""
    import psycopg

    query = (
        "SELECT provider_message_id, created_at FROM tickets_message "
        "WHERE channel = 'sms' AND provider_message_id LIKE %s"
    )
    seen: dict[str, datetime] = {}
    deadline = time.time() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            rows = conn.execute(query, (f"SM{run}%",)).fetchall()
            seen = {sid: created for sid, created in rows}
            if len(seen) >= len(accepted) or time.time() >= deadline:
                break
            time.sleep(0.5)
        duplicates = conn.execute(
            "SELECT count(*) - count(DISTINCT provider_message_id) FROM tickets_message "
            "WHERE provider_message_id LIKE %s",
            (f"SM{run}%",),
        ).fetchone()
    if duplicates and duplicates[0]:
        print(f"!! {duplicates[0]} duplicate messages stored", file=sys.stderr)
    visible = [
        max(0.0, created.timestamp() - sent_at[sid])
        for sid, created in seen.items()
        if sid in sent_at
    ]
    last_visible = max((c.timestamp() for c in seen.values()), default=None)
    drain = None if last_visible is None or not last_ack else max(0.0, last_visible - last_ack)
    return visible, drain, len(seen)


def setup_account() -> None:
    """Create the bench's SMS account (run with the server's Django environment)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    django.setup()
    import secrets

    from frontline.channels.accounts import account_create, account_secret
    from frontline.channels.models import MessagingAccount

    account = MessagingAccount.objects.filter(key=ACCOUNT_KEY).first()
    if account is None:
        account = account_create(
            provider="twilio_sms",
            name="bench SMS",
            key=ACCOUNT_KEY,
            address=OUR_NUMBER,
            account_sid="AC" + secrets.token_hex(16),
            secrets={"auth_token": secrets.token_hex(16)},
        )
    print(account.key, account.account_sid, account_secret(account, "auth_token"))


def print_summary(path: Path) -> None:
    data = json.loads(path.read_text())
    print(f"{'level':<8}{'accepted/s':>11}{'ack p50':>9}{'ack p99':>9}{'vis p50':>9}"
          f"{'vis p99':>10}{'drain s':>9}{'lost':>6}{'errors':>8}")  # fmt: skip
    for name, row in data.items():
        if not isinstance(row, dict) or "ack" not in row:
            continue
        print(
            f"{name:<8}{row['accepted_per_s']:>11}{row['ack']['p50_ms']!s:>9}"
            f"{row['ack']['p99_ms']!s:>9}{row['visible']['p50_ms']!s:>9}"
            f"{row['visible']['p99_ms']!s:>10}{row['drain_s']!s:>9}{row['lost']!s:>6}"
            f"{sum(row['errors'].values()):>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup-account", action="store_true")
    parser.add_argument("--summary", type=Path)
    parser.add_argument("--base-url", default="http://127.0.0.1:8767")
    parser.add_argument("--key", default=ACCOUNT_KEY)
    parser.add_argument("--account-sid", default="")
    parser.add_argument("--auth-token", default="")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.05)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--worker-pid", type=int)
    parser.add_argument("--section", default="")
    parser.add_argument("--server-desc", default="")
    parser.add_argument("--command", default="bash bench/webhooks.sh")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.setup_account:
        setup_account()
        return
    if args.summary:
        print_summary(args.summary)
        return
    host = urlsplit(args.base_url).hostname
    if host not in ALLOWED_HOSTS:
        raise SystemExit(f"refusing to load {host}: 127.0.0.1 only")
    result = asyncio.run(run_level(args))
    result.update(
        {
            "server": args.server_desc,
            "machine": machine_info(),
            "command": args.command,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    if args.out:
        merge_out(args.out, args.section or f"c{args.concurrency}", result)


if __name__ == "__main__":
    main()
