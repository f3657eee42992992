"""Bulk-load N tickets (default 1,000,000) straight into PostgreSQL, then ANALYZE.

INSERT ... SELECT generate_series, in chunks, with realistic distributions:
  status    closed 75%, solved 17%, pending 2%, on-hold 1%, open 3.5%, new 1.5% (5% open/new);
            active tickets skew to the recent past, resolved ones spread over two years
  channel   email 45%, chat 18%, whatsapp 9%, web 8%, portal 6%, phone 6%, api 5%, sms 3%
  team      8 teams (10% of tickets have none); assignee: an agent of the ticket's team
            (5 per team), absent on most new tickets
  requester 50,000 customers, each with an email identity; a few customers write a lot
  tags      30% of tickets carry one of 20 tags, 10% a second one
Every NOT NULL column of the migrated schema is filled (checked against information_schema
before loading). Message rows are not loaded: the queue page never reads them.

  DATABASE_URL=postgres://... python bench/bulk_load.py --tickets 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

TEAMS = ["Billing", "Shipping", "Returns", "Technical", "Accounts", "Sales", "VIP", "Partners"]
AGENTS_PER_TEAM = 5
TAGS = [
    "refund", "damaged", "late-delivery", "invoice", "password", "bug", "feature-request",
    "vip", "complaint", "exchange", "warranty", "cancel", "address-change", "discount",
    "out-of-stock", "payment-failed", "login", "gdpr", "feedback", "urgent-review",
]  # fmt: skip

# Columns this loader writes, per table; compared with the real schema before loading.
TICKET_COLUMNS = [
    "created_at", "updated_at", "subject", "status", "priority", "type", "channel",
    "custom_fields", "language", "thread_key", "first_response_at", "solved_at", "closed_at",
    "reopen_count", "last_message_at", "last_customer_message_at", "message_count",
    "assignee_id", "followup_of_id", "requester_id", "team_id",
]  # fmt: skip

TICKETS_SQL = """
INSERT INTO tickets_ticket (
    created_at, updated_at, subject, status, priority, type, channel, custom_fields, language,
    thread_key, first_response_at, solved_at, closed_at, reopen_count, last_message_at,
    last_customer_message_at, message_count, assignee_id, followup_of_id, requester_id, team_id)
SELECT
    t.upd - t.age,
    t.upd,
    (%(subjects)s::text[])[1 + floor(t.r_subj * %(n_subjects)s)::int] || ' #' || (%(base)s + t.g),
    t.status,
    CASE WHEN t.r_prio < 0.10 THEN 'low' WHEN t.r_prio < 0.80 THEN 'normal'
         WHEN t.r_prio < 0.96 THEN 'high' ELSE 'urgent' END,
    CASE WHEN t.r_type < 0.60 THEN 'question' WHEN t.r_type < 0.85 THEN 'incident'
         WHEN t.r_type < 0.93 THEN 'problem' ELSE 'task' END,
    t.channel,
    CASE WHEN t.r_type < 0.2 THEN jsonb_build_object('order_id', (t.g * 7919) %% 1000000)
         ELSE '{}'::jsonb END,
    CASE WHEN t.r_subj < 0.7 THEN 'en' WHEN t.r_subj < 0.85 THEN 'es' ELSE 'de' END,
    CASE WHEN t.channel = 'email' THEN '<bulk-' || %(run)s || '-' || t.g || '@mail.test>'
         ELSE '' END,
    CASE WHEN t.status = 'new' THEN NULL ELSE t.upd - t.age + t.age * 0.2 END,
    CASE WHEN t.status IN ('solved', 'closed') THEN t.upd - t.age * 0.05 END,
    CASE WHEN t.status = 'closed' THEN t.upd END,
    CASE WHEN t.r_msgs < 0.04 THEN 1 ELSE 0 END,
    t.upd - t.age * 0.05,
    t.upd - t.age * 0.5,
    1 + floor(t.r_msgs * 8)::int,
    CASE WHEN t.team_idx IS NULL OR (t.status = 'new' AND t.r_asg < 0.8)
              OR (t.status = 'open' AND t.r_asg < 0.2) THEN NULL
         ELSE (%(agent_ids)s::bigint[])[t.team_idx * %(per_team)s + 1
                                         + floor(t.r_asg * %(per_team)s)::int] END,
    NULL,
    (%(customer_ids)s::bigint[])[1 + floor(power(t.r_req, 2.5) * %(n_customers)s)::int],
    CASE WHEN t.team_idx IS NULL THEN NULL ELSE (%(team_ids)s::bigint[])[t.team_idx + 1] END
FROM (
    SELECT s.*,
        CASE WHEN s.r_status < 0.015 THEN 'new' WHEN s.r_status < 0.050 THEN 'open'
             WHEN s.r_status < 0.070 THEN 'pending' WHEN s.r_status < 0.080 THEN 'on_hold'
             WHEN s.r_status < 0.250 THEN 'solved' ELSE 'closed' END AS status,
        CASE WHEN s.r_chan < 0.45 THEN 'email' WHEN s.r_chan < 0.63 THEN 'chat'
             WHEN s.r_chan < 0.72 THEN 'whatsapp' WHEN s.r_chan < 0.80 THEN 'web'
             WHEN s.r_chan < 0.86 THEN 'portal' WHEN s.r_chan < 0.92 THEN 'phone'
             WHEN s.r_chan < 0.97 THEN 'api' ELSE 'sms' END AS channel,
        CASE WHEN s.r_team < 0.10 THEN NULL ELSE floor((s.r_team - 0.10) / 0.90 * 8)::int END
            AS team_idx,
        -- active tickets: mostly touched in the last weeks, with a long tail of stale ones;
        -- resolved tickets: uniform over two years
        CASE WHEN s.r_status < 0.080
             THEN now() - power(s.r_time, 4) * interval '730 days'
             ELSE now() - interval '1 day' - s.r_time * interval '729 days' END AS upd,
        s.r_age * s.r_age * interval '14 days' + interval '3 minutes' AS age
    FROM (
        SELECT g, random() AS r_status, random() AS r_time, random() AS r_team,
               random() AS r_asg, random() AS r_chan, random() AS r_req, random() AS r_prio,
               random() AS r_type, random() AS r_subj, random() AS r_msgs, random() AS r_age
        FROM generate_series(1, %(count)s) AS g
    ) AS s
) AS t
"""

SUBJECTS = [
    "Where is my order", "Refund request", "Item arrived damaged", "Cannot log in",
    "Invoice question", "Change delivery address", "Payment failed", "Wrong size delivered",
    "Cancel my subscription", "Discount code not working", "Warranty claim",
    "App crashes on checkout", "Missing item in parcel", "Update billing details",
    "Question about pricing", "Return label needed",
]  # fmt: skip


def not_null_columns(cur: psycopg.Cursor[Any], table: str) -> set[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        (table,),
    )
    return {row[0] for row in cur.fetchall()}


def check_schema(cur: psycopg.Cursor[Any]) -> None:
    missing = not_null_columns(cur, "tickets_ticket") - set(TICKET_COLUMNS)
    if missing:
        raise SystemExit(
            f"tickets_ticket has NOT NULL columns this loader does not fill: {missing}"
        )
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets_ticket'"
    )
    unknown = set(TICKET_COLUMNS) - {row[0] for row in cur.fetchall()}
    if unknown:
        raise SystemExit(f"tickets_ticket has no columns {unknown}: re-check the migrations")
    expected = {
        "customers_customer": {"created_at", "updated_at", "name", "language", "tier",
                               "attributes", "notes"},
        "customers_identity": {"created_at", "updated_at", "kind", "network", "value",
                               "verified", "customer_id"},
        "accounts_user": {"password", "is_superuser", "username", "first_name", "last_name",
                          "email", "is_staff", "is_active", "date_joined", "role",
                          "display_name"},
        "accounts_team": {"created_at", "updated_at", "name", "slug", "description"},
    }  # fmt: skip
    for table, columns in expected.items():
        missing = not_null_columns(cur, table) - columns
        if missing:
            raise SystemExit(f"{table} has NOT NULL columns this loader does not fill: {missing}")


def load_people(cur: psycopg.Cursor[Any], run: str, n_customers: int) -> dict[str, list[int]]:
    team_ids = []
    for name in TEAMS:
        slug = f"bulk-{name.lower()}"
        cur.execute(
            "INSERT INTO accounts_team (created_at, updated_at, name, slug, description) "
            "VALUES (now(), now(), %s, %s, '') ON CONFLICT (slug) DO NOTHING",
            (f"Bulk {name}", slug),
        )
        cur.execute("SELECT id FROM accounts_team WHERE slug = %s", (slug,))
        team_ids.append(cur.fetchone()[0])  # type: ignore[index]
    agent_ids = []
    for t, team_id in enumerate(team_ids):
        for a in range(AGENTS_PER_TEAM):
            username = f"bulk-agent-{t}-{a}"
            cur.execute(
                "INSERT INTO accounts_user (password, is_superuser, username, first_name, "
                "last_name, email, is_staff, is_active, date_joined, role, display_name) "
                "VALUES ('!', false, %s, %s, %s, %s, false, true, now(), 'agent', '') "
                "ON CONFLICT (username) DO NOTHING",
                (username, f"Agent{t}{a}", TEAMS[t], f"{username}@frontline.test"),
            )
            cur.execute("SELECT id FROM accounts_user WHERE username = %s", (username,))
            user_id = cur.fetchone()[0]  # type: ignore[index]
            agent_ids.append(user_id)
            cur.execute(
                "INSERT INTO accounts_team_members (team_id, user_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (team_id, user_id),
            )
    cur.execute(
        """
        INSERT INTO customers_customer
            (created_at, updated_at, name, language, tier, attributes, notes, merged_into_id,
             user_id)
        SELECT ts, ts, 'Customer ' || %(run)s || '-' || g,
               CASE WHEN g %% 10 < 7 THEN 'en' WHEN g %% 10 < 9 THEN 'es' ELSE 'de' END,
               CASE WHEN g %% 100 = 0 THEN 'vip' WHEN g %% 10 = 0 THEN 'premium'
                    ELSE 'standard' END,
               '{}'::jsonb, '', NULL, NULL
        FROM generate_series(1, %(n)s) AS g,
             LATERAL (SELECT now() - random() * interval '900 days' AS ts) AS t
        RETURNING id
        """,
        {"run": run, "n": n_customers},
    )
    customer_ids = [row[0] for row in cur.fetchall()]
    cur.execute(
        """
        INSERT INTO customers_identity
            (created_at, updated_at, kind, network, value, verified, customer_id)
        SELECT c.created_at, c.created_at, 'email', '',
               'customer-' || %(run)s || '-' || c.id || '@customers.test', true, c.id
        FROM customers_customer AS c WHERE c.id = ANY(%(ids)s)
        """,
        {"run": run, "ids": customer_ids},
    )
    tag_ids = []
    for name in TAGS:
        cur.execute(
            "INSERT INTO tickets_tag (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (name,)
        )
        cur.execute("SELECT id FROM tickets_tag WHERE name = %s", (name,))
        tag_ids.append(cur.fetchone()[0])  # type: ignore[index]
    return {"teams": team_ids, "agents": agent_ids, "customers": customer_ids, "tags": tag_ids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--section", default="bulk")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("set DATABASE_URL or pass --database-url")
    run = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with psycopg.connect(args.database_url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET work_mem = '64MB'")
        check_schema(cur)
        ids = load_people(cur, run, args.customers)
        conn.commit()
        timings["people_s"] = round(time.perf_counter() - started, 1)
        cur.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        first_id = cur.fetchone()[0]  # type: ignore[index]
        done = 0
        while done < args.tickets:
            count = min(args.chunk, args.tickets - done)
            t0 = time.perf_counter()
            cur.execute(
                TICKETS_SQL,
                {
                    "count": count,
                    "base": done,
                    "run": run,
                    "subjects": SUBJECTS,
                    "n_subjects": len(SUBJECTS),
                    "agent_ids": ids["agents"],
                    "per_team": AGENTS_PER_TEAM,
                    "team_ids": ids["teams"],
                    "customer_ids": ids["customers"],
                    "n_customers": len(ids["customers"]),
                },
            )
            conn.commit()
            done += count
            print(f"  tickets {done:>9,} / {args.tickets:,}  ({time.perf_counter() - t0:.1f}s)")
        t0 = time.perf_counter()
        cur.execute(
            """
            INSERT INTO tickets_ticket_tags (ticket_id, tag_id)
            SELECT t.id, (%(tags)s::bigint[])[1 + floor(r.x * %(n)s)::int]
            FROM tickets_ticket AS t, LATERAL (SELECT random() AS x, random() AS y) AS r
            WHERE t.id > %(first)s AND r.y < 0.30
            """,
            {"tags": ids["tags"], "n": len(ids["tags"]), "first": first_id},
        )
        cur.execute(
            """
            INSERT INTO tickets_ticket_tags (ticket_id, tag_id)
            SELECT t.id, (%(tags)s::bigint[])[1 + floor(random() * %(n)s)::int]
            FROM tickets_ticket AS t
            WHERE t.id > %(first)s AND random() < 0.10
            ON CONFLICT (ticket_id, tag_id) DO NOTHING
            """,
            {"tags": ids["tags"], "n": len(ids["tags"]), "first": first_id},
        )
        conn.commit()
        timings["tags_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE tickets_ticket")
        cur.execute("VACUUM ANALYZE tickets_ticket_tags")
        cur.execute("ANALYZE customers_customer")
        cur.execute("ANALYZE customers_identity")
        cur.execute("ANALYZE accounts_user")
        timings["analyze_s"] = round(time.perf_counter() - t0, 1)
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('open', 'new')), "
            "pg_size_pretty(pg_total_relation_size('tickets_ticket')) FROM tickets_ticket"
        )
        total, open_new, size = cur.fetchone()  # type: ignore[misc]
        cur.execute("SELECT status, count(*) FROM tickets_ticket GROUP BY 1 ORDER BY 2 DESC")
        by_status = dict(cur.fetchall())
    summary = {
        "tickets_loaded": args.tickets,
        "customers_loaded": len(ids["customers"]),
        "tickets_total": total,
        "open_or_new": open_new,
        "by_status": by_status,
        "ticket_table_size_with_indexes": size,
        "seconds": round(time.perf_counter() - started, 1),
        **timings,
    }
    print(f"bulk load: {json.dumps(summary)}")
    if args.out:
        existing = json.loads(args.out.read_text()) if args.out.exists() else {}
        existing.setdefault(args.section, {})["bulk_load"] = summary
        args.out.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
