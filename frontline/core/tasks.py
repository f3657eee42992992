from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, max_retries=5, default_retry_delay=10, acks_late=True)
def run_event_handler(self: Any, handler_path: str, event: dict[str, Any]) -> None:
    """Run one subscriber for one event. Subscribers are idempotent, so retrying is safe."""
    from frontline.core.bus import Event, resolve_handler

    try:
        resolve_handler(handler_path)(Event(**event))
    except Exception as exc:
        raise self.retry(exc=exc) from exc
