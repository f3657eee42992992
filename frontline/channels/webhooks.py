"""Provider webhooks, the common part: persist the raw payload, answer fast, process after.

A provider's view checks the signature first (a forged or unsigned request stores nothing),
then calls `webhook_accept`. The payload is committed before the provider is answered, and
its processing is queued after the commit; a lost enqueue is picked up by the sweeper.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from frontline.channels.models import RawPayload

logger = logging.getLogger(__name__)

# Request headers worth keeping with a payload (for a replay or an investigation).
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Forwarded-For", "Idempotency-Key")


def request_headers(request: HttpRequest, **extra: str) -> dict[str, str]:
    kept = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    return {**kept, **extra}


def webhook_accept(
    *,
    channel: str,
    body: bytes,
    provider_message_id: str,
    content_type: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[RawPayload, bool]:
    """Store a verified webhook payload and queue its processing. Returns (payload, created);
    a provider's retry of the same `provider_message_id` is stored once."""
    from frontline.channels.services import raw_payload_store

    payload, created = raw_payload_store(
        channel=channel,
        body=body,
        provider_message_id=provider_message_id,
        content_type=content_type,
        headers=headers,
    )
    if created:
        payload_enqueue(payload.pk)
    return payload, created


def payload_enqueue(payload_id: int) -> None:
    """Queue the processing of a stored payload once the surrounding transaction commits."""
    from frontline.channels.tasks import raw_payload_process_task

    def enqueue() -> None:
        try:
            raw_payload_process_task.delay(payload_id)
        except Exception:  # the sweeper retries pending payloads; the payload is safe
            logger.exception("could not queue payload %s now", payload_id)

    transaction.on_commit(enqueue)


def forbidden(reason: str) -> JsonResponse:
    """403 for a missing or wrong signature. Nothing about the secret is revealed."""
    logger.warning("webhook refused: %s", reason)
    return JsonResponse({"error": reason}, status=403)


def pooled(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    """Make a sync webhook view async, its body running in a pool thread with its own
    database connection.

    Under ASGI, Django runs sync views one at a time on one thread per process; a webhook's
    cost is mostly waiting (the commit's flush to disk, the broker), so requests that wait
    side by side are acknowledged many times faster, and PostgreSQL flushes their commits
    together. The test settings keep the caller's thread (`WEBHOOK_VIEWS_IN_POOL=False`) so
    a test's transaction stays visible to the view.
    """

    @functools.wraps(view)
    async def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if settings.WEBHOOK_VIEWS_IN_POOL:
            runner: Callable[..., Any] = DatabaseSyncToAsync(view, thread_sensitive=False)
        else:
            runner = sync_to_async(view, thread_sensitive=True)
        response: HttpResponseBase = await runner(request, *args, **kwargs)
        return response

    # Marks the view for the bare ASGI handler (channels/asgi.py): no middleware on the way.
    run.provider_webhook = True  # type: ignore[attr-defined]
    return run
