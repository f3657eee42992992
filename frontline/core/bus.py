"""The event bus: `publish` records a domain event now and delivers it after commit.

Handlers subscribe by event name in `AppConfig.ready()`. Inline handlers run in the
committing process (cheap work: realtime push); task handlers run in Celery (slow work).
An event published inside a transaction that rolls back is neither stored nor delivered.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.db import transaction

from frontline.core.models import CurrentTransactionId, DomainEvent

logger = logging.getLogger(__name__)

Handler = Callable[["Event"], None]
Mode = Literal["inline", "task"]


@dataclass(frozen=True)
class Event:
    """One domain event. `actor` is "user:<id>", "customer:<id>", "system", "bot", ..."""

    name: str
    actor: str = "system"
    ticket_id: int | None = None
    customer_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Condition = Callable[["Event"], bool]
_handlers: dict[str, list[tuple[Mode, str]]] = defaultdict(list)
# (mode, path) -> a cheap test on the event; a task is only queued when it passes.
# By (event name, mode, handler): one handler may listen to several events, each filtered
# its own way.
_conditions: dict[tuple[str, Mode, str], Condition] = {}
_paused = threading.local()


@contextmanager
def paused() -> Iterator[None]:
    """Store events but deliver none of them (bulk imports, demo seeding: history, not news)."""
    previous = getattr(_paused, "value", False)
    _paused.value = True
    try:
        yield
    finally:
        _paused.value = previous


def _path(handler: Handler) -> str:
    return f"{handler.__module__}:{handler.__qualname__}"


def subscribe(
    event_name: str, handler: Handler, *, mode: Mode = "task", when: Condition | None = None
) -> None:
    """Register `handler` for `event_name` ("*" for every event). Idempotent.

    `when` filters in the publishing process, so a task that would return at once for most
    events (a chat-only handler on every new ticket) is not queued at all."""
    entry = (mode, _path(handler))
    if entry not in _handlers[event_name]:
        _handlers[event_name].append(entry)
    if when is not None:
        _conditions[(event_name, *entry)] = when


def unsubscribe_all() -> None:
    _handlers.clear()
    _conditions.clear()


def resolve_handler(path: str) -> Handler:
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def publish(event: Event) -> Event:
    """Store `event` in the outbox (same transaction) and deliver it after commit."""
    row = DomainEvent.objects.create(
        txid=CurrentTransactionId(),
        name=event.name,
        ticket_id=event.ticket_id,
        customer_id=event.customer_id,
        actor=event.actor,
        payload=event.data,
    )
    stored = Event(
        name=event.name,
        actor=event.actor,
        ticket_id=event.ticket_id,
        customer_id=event.customer_id,
        data=event.data,
        id=row.pk,
    )
    if (_handlers.get(event.name) or _handlers.get("*")) and not getattr(_paused, "value", False):
        transaction.on_commit(lambda: dispatch(stored))
    return stored


def dispatch(event: Event) -> None:
    """Run subscribers; a failing handler is logged and never blocks the others."""
    from frontline.core.tasks import run_event_handler

    entries = [
        (name, mode, path) for name in (event.name, "*") for mode, path in _handlers.get(name, [])
    ]
    # Inline handlers (the realtime push) first: they are what a waiting browser sees, and
    # queuing tasks can take milliseconds each.
    for name, mode, path in sorted(entries, key=lambda entry: entry[1] != "inline"):
        condition = _conditions.get((name, mode, path))
        try:
            if condition is not None and not condition(event):
                continue
        except Exception:  # a broken filter must not lose the event: run the handler
            logger.exception("condition of %s failed for %s", path, event.name)
        if mode == "inline":
            try:
                resolve_handler(path)(event)
            except Exception:
                logger.exception("inline handler %s failed for %s", path, event.name)
        else:
            try:
                run_event_handler.delay(path, event.to_dict())
            except Exception:
                # The broker being down must not break the request; the outbox row remains
                # and the event feed still serves it.
                logger.exception("could not enqueue %s for %s", path, event.name)
