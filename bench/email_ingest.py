"""Inbound email ingest throughput, in-process, through the real product path.

  python bench/email_ingest.py [--count N] [--postgres | --database-url URL] [--profile M]

1. Builds a directory of .eml files: generated mail (plain; multipart/alternative with HTML;
   attachments of a few KB; replies with quoted history and In-Reply-To/References to earlier
   generated mail of the same sender, so threading is exercised; several charsets) plus the
   .eml/.txt fixtures of ../shared/data/email_fixtures/cases (.txt bodies are wrapped into a
   minimal RFC 5322 message; the folder is skipped when absent). N counts all messages.
2. Runs each through `raw_payload_store(channel="email", ...)` then `raw_payload_process(id)`
   (parse -> customer -> thread -> persist), exactly what the SMTP receiver and its Celery task
   do, but called directly: no broker, no worker. The run is wrapped in
   `frontline.core.bus.paused()`, so domain events are stored (as in production) but no
   subscriber (outbound mail etc.) runs: the figures are **ingest alone**.
3. Prints messages/s and p50/p95/p99 per message, the machine's load average, and checks that
   every generated reply landed on its parent's ticket. `--profile M` then profiles M further
   messages with cProfile and prints the hot spots.

Databases: SQLite in a fresh temporary FRONTLINE_DATA_DIR (default), or PostgreSQL: either
`--database-url URL`, or `--postgres`, which starts a private cluster with
`PG_DIR=/tmp/frontline-pg-emailbench PGPORT=54361 bash scripts/pg.sh up` and stops it after
(`--keep` leaves it running and the temporary directory in place).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "data" / "email_fixtures" / "cases"
PG_DIR = "/tmp/frontline-pg-emailbench"  # noqa: S108 - scripts/pg.sh convention
PG_PORT = "54361"
MAILBOX = "support@example.com"
RUN = uuid.uuid4().hex[:8]
EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# --- the messages ------------------------------------------------------------------------------

CHARSET_TEXTS: list[tuple[str, str]] = [
    ("utf-8", "Hello, my order arrived damaged. The box was crushed and the mug is broken."),
    ("iso-8859-1", "Bonjour, ma commande est arrivée abîmée. Pouvez-vous m'aider ? Merci."),
    ("windows-1252", "Guten Tag, die Lieferung ist beschädigt, bitte um Rückmeldung. Grüße"),
    ("koi8-r", "Здравствуйте, мой заказ пришёл повреждённым. Помогите, пожалуйста."),
    ("shift_jis", "こんにちは。注文した商品が壊れて届きました。交換をお願いします。"),
    ("gb2312", "您好，我的订单到货时已经损坏了。请帮我换一个新的。谢谢。"),  # noqa: RUF001
    ("iso-8859-2", "Dzień dobry, przesyłka dotarła uszkodzona. Proszę o pomoc."),
]
SUBJECTS = [
    "Broken zipper on my jacket",
    "Where is my parcel?",
    "Refund for order {n}",
    "Wrong size delivered",
    "Cannot log in to my account",
    "Invoice {n} is missing",
    "Damaged item in order {n}",
    "Question about the warranty",
]
PARAGRAPH = (
    "I ordered this two weeks ago and it still has not arrived. The tracking page says it "
    "left the warehouse but nothing has moved since. Could you tell me what is going on and "
    "whether I should expect it this week? I need it for a trip on Saturday."
)


@dataclass
class Sent:
    message_id: str
    sender: str
    name: str
    subject: str
    body: str
    references: list[str] = field(default_factory=list)


@dataclass
class Corpus:
    directory: Path
    files: list[Path]
    # file name -> Message-ID of the generated mail it replies to (threading check)
    parent_of: dict[str, str]
    kinds: dict[str, int]


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
    return f'<html><body><div dir="ltr">{paragraphs}</div></body></html>'


def _generated(
    rng: random.Random, n: int, seq: int, sent: list[Sent], tag: str
) -> tuple[bytes, str, str]:
    """One generated mail: (bytes, kind, parent Message-ID or "")."""
    customers = max(10, n // 6)
    who = rng.randrange(customers)
    sender = f"customer{who}.{RUN}@customers.test"
    name = f"Customer {who}"
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = MAILBOX
    msg["Date"] = format_datetime(EPOCH + timedelta(minutes=seq))
    message_id = make_msgid(idstring=f"{RUN}.{tag}.{seq}", domain="customers.test")
    msg["Message-ID"] = message_id
    earlier = [s for s in sent[-300:] if s.sender == sender]
    roll = rng.random()
    parent = ""
    if earlier and roll < 0.30:
        kind = "reply"
        prev = rng.choice(earlier)
        parent = prev.message_id
        refs = [*prev.references, prev.message_id][-10:]
        msg["Subject"] = f"Re: {prev.subject}"
        msg["In-Reply-To"] = prev.message_id
        msg["References"] = " ".join(refs)
        quoted = "\n".join(f"> {line}" for line in prev.body.splitlines())
        body = (
            f"Thanks, still waiting though. Any news on this? (follow-up {seq})\n\n"
            f"On Sun, 1 Nov 2026 at 10:00, {prev.name} <{prev.sender}> wrote:\n{quoted}\n"
        )
        if rng.random() < 0.5:
            msg.set_content(body)
        else:
            msg.set_content(body)
            msg.add_alternative(
                _html(body.split("\n\n")[0])
                + f'<div class="gmail_quote"><blockquote>{_html(prev.body)}</blockquote></div>',
                subtype="html",
            )
        sent.append(Sent(message_id, sender, name, prev.subject, body, refs))
        return msg.as_bytes(), kind, parent
    subject = rng.choice(SUBJECTS).format(n=10000 + seq)
    msg["Subject"] = subject
    if roll < 0.55:
        kind = "plain"
        body = f"{PARAGRAPH}\n\nOrder {10000 + seq}.\n\n-- \n{name}\nSent from my phone"
        msg.set_content(body)
    elif roll < 0.72:
        kind = "html"
        body = f"Hi,\n\n{PARAGRAPH}\n\nBest regards,\n{name}"
        msg.set_content(body)
        msg.add_alternative(_html(body), subtype="html")
    elif roll < 0.85:
        kind = "attachment"
        body = f"Hello,\n\nphotos of the damage attached (order {10000 + seq}).\n\n{name}"
        msg.set_content(body)
        size = rng.randrange(2048, 8192)
        msg.add_attachment(
            rng.randbytes(size), maintype="image", subtype="jpeg", filename=f"photo-{seq}.jpg"
        )
        if rng.random() < 0.3:
            msg.add_attachment(
                ("line,amount\n" + "item,9.99\n" * 100).encode(),
                maintype="text",
                subtype="csv",
                filename="invoice.csv",
            )
    else:
        charset, text = rng.choice(CHARSET_TEXTS)
        kind = f"charset:{charset}"
        body = f"{text}\n\n{name}"
        msg.set_content(body, charset=charset, cte=rng.choice(["quoted-printable", "base64"]))
        if rng.random() < 0.4:
            msg.add_alternative(_html(body), subtype="html", charset=charset)
    sent.append(Sent(message_id, sender, name, subject, body))
    return msg.as_bytes(), kind, parent


def _wrap_text(path: Path, seq: int, tag: str) -> bytes:
    """A fixture's bare text (or HTML) body as a minimal RFC 5322 message."""
    raw = path.read_bytes()
    subtype = "html" if path.suffix == ".html" else "plain"
    headers = (
        f"From: Fixture Sender <fixture{seq}.{RUN}@customers.test>\r\n"
        f"To: {MAILBOX}\r\n"
        f"Subject: Re: fixture {path.stem}\r\n"
        f"Message-ID: <fixture.{seq}.{tag}.{RUN}@customers.test>\r\n"
        "Date: Sun, 01 Nov 2026 09:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return headers.encode() + raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def build_corpus(
    directory: Path, count: int, seed: int = 1, *, tag: str = "main", fixtures_too: bool = True
) -> Corpus:
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files: list[Path] = []
    parent_of: dict[str, str] = {}
    kinds: dict[str, int] = {}
    fixtures: list[Path] = []
    if not fixtures_too:
        pass
    elif FIXTURES.is_dir():
        fixtures = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".eml", ".txt"))
    else:
        print(f"note: {FIXTURES} not found, generated mail only", file=sys.stderr)
    fixtures = fixtures[: count // 2]
    generated = count - len(fixtures)
    # interleave fixtures among the generated mail
    every = max(1, generated // max(1, len(fixtures))) if fixtures else 0
    sent: list[Sent] = []

    def add_fixture(fixture: Path, seq: int) -> None:
        raw = fixture.read_bytes() if fixture.suffix == ".eml" else _wrap_text(fixture, seq, tag)
        path = directory / f"{seq:06d}-{fixture.stem}.eml"
        path.write_bytes(raw)
        files.append(path)
        kind = f"fixture-{fixture.suffix[1:]}"
        kinds[kind] = kinds.get(kind, 0) + 1

    fixture_iter = iter(fixtures)
    seq = 0
    for i in range(generated):
        if every and i % every == 0:
            fixture = next(fixture_iter, None)
            if fixture is not None:
                seq += 1
                add_fixture(fixture, seq)
        seq += 1
        raw, kind, parent = _generated(rng, generated, seq, sent, tag)
        path = directory / f"{seq:06d}-{kind.replace(':', '-')}.eml"
        path.write_bytes(raw)
        files.append(path)
        kinds[kind.split(":")[0]] = kinds.get(kind.split(":")[0], 0) + 1
        if parent:
            parent_of[path.name] = parent
    for fixture in fixture_iter:  # any left over
        seq += 1
        add_fixture(fixture, seq)
    return Corpus(directory, files, parent_of, kinds)


# --- the database ------------------------------------------------------------------------------


def postgres_up() -> str:
    env = {**os.environ, "PG_DIR": PG_DIR, "PGPORT": PG_PORT}
    subprocess.run(["bash", "scripts/pg.sh", "down"], cwd=ROOT, env=env, check=True)
    shutil.rmtree(PG_DIR, ignore_errors=True)
    out = subprocess.run(
        ["bash", "scripts/pg.sh", "up"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip().splitlines()[-1]


def postgres_down() -> None:
    env = {**os.environ, "PG_DIR": PG_DIR, "PGPORT": PG_PORT}
    subprocess.run(["bash", "scripts/pg.sh", "down"], cwd=ROOT, env=env, check=False)


# --- measuring ---------------------------------------------------------------------------------


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def pg_server_cpu() -> float:
    """CPU seconds used so far by our private PostgreSQL (postmaster + its children)."""
    try:
        postmaster = int(Path(PG_DIR, "data", "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        pid, ppid = int(proc.name), int(fields[1])
        if pid == postmaster or ppid == postmaster:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    k = (len(sorted_ms) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (k - lo)


def ingest_one(raw: bytes) -> Any:
    from frontline.channels.email.adapter import provider_id_for
    from frontline.channels.email.parser import message_id_of
    from frontline.channels.services import raw_payload_process, raw_payload_store

    payload, created = raw_payload_store(
        channel="email",
        body=raw,
        provider_message_id=provider_id_for(raw, message_id_of(raw)),
        content_type="message/rfc822",
        headers={"recipients": MAILBOX, "via": "bench"},
    )
    if not created:
        return "duplicate"
    return raw_payload_process(payload.pk)


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    import logging

    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def run(corpus: Corpus, profile: int, profile_out: str = "") -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from frontline.channels.email.adapter import inbound_from_email
    from frontline.core import bus
    from frontline.tickets.models import Message

    raws = [(p.name, p.read_bytes()) for p in corpus.files]
    # warm-up: imports, connection, statement caches (5 extra generated mails, not counted)
    warm = build_corpus(corpus.directory / "warmup", 5, seed=99, tag="warm", fixtures_too=False)
    timings: list[float] = []
    outcomes = {"new ticket": 0, "threaded": 0, "duplicate": 0, "failed": 0}
    results: dict[str, Any] = {}
    last_sql: dict[bool, list[str]] = {}
    with bus.paused(), quiet_logs():
        for p in warm.files:
            ingest_one(p.read_bytes())
        load_before = os.getloadavg()
        busy0, total0 = cpu_busy()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        pg0 = pg_server_cpu()
        start = time.perf_counter()
        for name, raw in raws:
            t0 = time.perf_counter()
            result = ingest_one(raw)
            timings.append((time.perf_counter() - t0) * 1000)
            if result == "duplicate":
                outcomes["duplicate"] += 1
            elif result is None:
                outcomes["failed"] += 1
            else:
                results[name] = result
                if result.duplicate:
                    outcomes["duplicate"] += 1
                elif result.created_ticket:
                    outcomes["new ticket"] += 1
                else:
                    outcomes["threaded"] += 1
        wall = time.perf_counter() - start
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        pg1 = pg_server_cpu()
        busy1, total1 = cpu_busy()
        load_after = os.getloadavg()

    # threading check: every generated reply is on its parent's ticket
    ticket_of = dict(
        Message.objects.filter(
            channel="email", provider_message_id__in=list(corpus.parent_of.values())
        ).values_list("provider_message_id", "ticket_id")
    )
    replies_ok = sum(
        1
        for name, parent in corpus.parent_of.items()
        if name in results and results[name].ticket_id == ticket_of.get(parent)
    )

    # parse alone (no database), to split the cost
    t0 = time.perf_counter()
    for _, raw in raws:
        with contextlib.suppress(ValueError):
            inbound_from_email(raw, recipients=[MAILBOX])
    parse_ms = (time.perf_counter() - t0) * 1000 / len(raws)

    # SQL statements per message, on a few fresh mails
    sample = build_corpus(
        corpus.directory / "sql-sample", 60, seed=7, tag="sql", fixtures_too=False
    )
    sql: dict[str, list[int]] = {"new ticket": [], "threaded": []}
    with bus.paused(), quiet_logs():
        for p in sample.files:
            with CaptureQueriesContext(connection) as ctx:
                result = ingest_one(p.read_bytes())
            if result not in (None, "duplicate"):
                sql["new ticket" if result.created_ticket else "threaded"].append(
                    len(ctx.captured_queries)
                )
                last_sql[result.created_ticket] = [q["sql"] for q in ctx.captured_queries]

    timings.sort()
    cores = (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1) if total1 > total0 else 0
    own_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    out: dict[str, Any] = {
        "database": connection.vendor,
        "messages": len(raws),
        "kinds": corpus.kinds,
        "seconds": round(wall, 2),
        "messages_per_s": round(len(raws) / wall, 1),
        "mean_ms": round(statistics.fmean(timings), 2),
        "p50_ms": round(pct(timings, 0.50), 2),
        "p95_ms": round(pct(timings, 0.95), 2),
        "p99_ms": round(pct(timings, 0.99), 2),
        "max_ms": round(timings[-1], 2),
        "outcomes": outcomes,
        "replies_threaded": f"{replies_ok}/{len(corpus.parent_of)}",
        "parse_only_ms": round(parse_ms, 2),
        "sql_per_new_ticket": round(statistics.fmean(sql["new ticket"] or [0]), 1),
        "sql_per_reply": round(statistics.fmean(sql["threaded"] or [0]), 1),
        "sql_new_ticket": last_sql.get(True, []),
        "sql_reply": last_sql.get(False, []),
        "bench_process_cpu_s": round(own_cpu, 2),
        "private_postgres_cpu_s": round(pg1 - pg0, 2),
        "machine_busy_cores": round(cores, 2),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "nproc": os.cpu_count(),
    }
    if profile:
        prof_corpus = build_corpus(
            corpus.directory / "profile", profile, seed=11, tag="prof", fixtures_too=False
        )
        prof_raws = [p.read_bytes() for p in prof_corpus.files]
        profiler = cProfile.Profile()
        with bus.paused(), quiet_logs():
            profiler.enable()
            for raw in prof_raws:
                ingest_one(raw)
            profiler.disable()
        if profile_out:
            profiler.dump_stats(profile_out)
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(30)
            out[f"profile_{key}"] = buf.getvalue()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="messages to ingest (2000)")
    ap.add_argument("--postgres", action="store_true", help="start a private PostgreSQL")
    ap.add_argument("--database-url", default="", help="use this database (PostgreSQL URL)")
    ap.add_argument("--profile", type=int, default=0, help="then cProfile this many messages")
    ap.add_argument("--profile-out", default="", help="write the raw cProfile stats here")
    ap.add_argument("--json", default="", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (and PostgreSQL)")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="frontline-emailbench-"))
    started_pg = False
    try:
        url = args.database_url
        if args.postgres and not url:
            url = postgres_up()
            started_pg = True
        # settings come from the environment: set everything before django.setup()
        os.environ["FRONTLINE_DATA_DIR"] = str(workdir / "data")
        os.environ.pop("MEDIA_ROOT", None)
        os.environ.pop("SQLITE_PATH", None)
        os.environ.pop("EMAIL_HOST", None)
        os.environ.pop("REDIS_URL", None)
        if url:
            os.environ["DATABASE_URL"] = url
        else:
            os.environ.pop("DATABASE_URL", None)
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
        os.environ.setdefault("DEBUG", "0")
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from frontline.channels.services import mailbox_ensure

        call_command("migrate", verbosity=0, interactive=False)
        mailbox_ensure(address=MAILBOX, name="Support")

        corpus = build_corpus(workdir / "eml", args.count)
        print(
            f"{len(corpus.files)} messages in {corpus.directory}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(corpus.kinds.items())),
            flush=True,
        )
        out = run(corpus, args.profile, args.profile_out)
        out["command"] = " ".join([Path(sys.executable).name, *sys.argv])
        for key in ("cumulative", "tottime"):
            if f"profile_{key}" in out:
                print(f"\n--- cProfile of {args.profile} messages, sorted by {key} ---")
                print(out[f"profile_{key}"])
        print(
            f"\n{out['database']}: {out['messages']} messages in {out['seconds']} s = "
            f"{out['messages_per_s']} messages/s; per message p50 {out['p50_ms']} ms, "
            f"p95 {out['p95_ms']} ms, p99 {out['p99_ms']} ms (mean {out['mean_ms']}, "
            f"max {out['max_ms']})"
        )
        print(
            f"outcomes {out['outcomes']}; generated replies on their parent's ticket "
            f"{out['replies_threaded']}; parse alone {out['parse_only_ms']} ms/message; "
            f"SQL statements per message: {out['sql_per_new_ticket']} for a new ticket, "
            f"{out['sql_per_reply']} for a threaded reply"
        )
        print(
            f"bench process CPU {out['bench_process_cpu_s']} s, private PostgreSQL CPU "
            f"{out['private_postgres_cpu_s']} s (0 when not started here); machine busy "
            f"{out['machine_busy_cores']} of {out['nproc']} cores; load average "
            f"{out['loadavg_before']} before, {out['loadavg_after']} after"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2))
    finally:
        if started_pg and not args.keep:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
            postgres_down()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
