"""Reads over the domain-event outbox: the global, ordered, resumable event feed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from frontline.core.errors import ValidationFailed
from frontline.core.models import DomainEvent
from frontline.core.pagination import cursor_decode, cursor_encode


@dataclass(frozen=True)
class FeedPage:
    events: list[DomainEvent]
    next_cursor: str


def _stable_txid_horizon() -> int | None:
    """On PostgreSQL: transactions below this id have all finished, so their events are final.

    Serving only those means an event from a slow transaction can never appear *behind* a
    cursor a consumer already holds. SQLite has one writer at a time: every commit is final.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        row = cur.fetchone()
    return int(row[0]) if row else None


def event_feed(*, after: str | None, limit: int = 100) -> FeedPage:
    txid, last_id = (0, 0)
    if after:
        try:
            txid, last_id = (int(v) for v in cursor_decode(after, length=2, field="after"))
            if not (0 <= txid < 2**63 and 0 <= last_id < 2**63):
                raise ValueError("out of range")
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Malformed cursor.", fields={"after": ["malformed cursor"]}
            ) from None
    from django.db.models import Q

    qs = DomainEvent.objects.filter(Q(txid__gt=txid) | Q(txid=txid, id__gt=last_id))
    horizon = _stable_txid_horizon()
    if horizon is not None:
        qs = qs.filter(txid__lt=horizon)
    events = list(qs.order_by("txid", "id")[:limit])
    if events:
        txid, last_id = events[-1].txid, events[-1].pk
    return FeedPage(events=events, next_cursor=cursor_encode([txid, last_id]))


def event_feed_head() -> str:
    """A cursor just past the newest final event: where a live tail starts (no backlog)."""
    qs = DomainEvent.objects.all()
    horizon = _stable_txid_horizon()
    if horizon is not None:
        qs = qs.filter(txid__lt=horizon)
    last = qs.order_by("-txid", "-id").values_list("txid", "id").first()
    return cursor_encode(list(last) if last else [0, 0])
