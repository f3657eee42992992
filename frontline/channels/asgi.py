"""Provider webhooks skip the middleware chain under ASGI.

Django's middleware mixins run their hooks on the one sync thread of the process, about a
dozen hops per request; for a webhook that does none of what they are for (sessions, CSRF,
authentication, messages, frame options), those hops halve how many a process can take.
Requests whose view is marked by `channels.webhooks.pooled` go to a Django handler without
middleware; every other request goes through the whole chain as before.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.urls import Resolver404, resolve

WEBHOOK_PREFIX = "/channels/"


class ProviderWebhookHandler(ASGIHandler):
    """Django's ASGI handler, with no middleware at all."""

    def load_middleware(self, is_async: bool = False) -> None:
        handler: Any = self
        handler._view_middleware = []
        handler._template_response_middleware = []
        handler._exception_middleware = []
        get_response = handler._get_response_async if is_async else handler._get_response
        handler._middleware_chain = convert_exception_to_response(get_response)


def is_provider_webhook(path: str) -> bool:
    if not path.startswith(WEBHOOK_PREFIX):
        return False
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return bool(getattr(match.func, "provider_webhook", False))


def with_fast_webhooks(django_app: Any) -> Any:
    """The HTTP application: provider webhooks to the bare handler, the rest to Django's.
    (Typed loosely: Django's handler and Channels' router type their arguments differently.)"""
    webhooks = ProviderWebhookHandler()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_provider_webhook(scope.get("path", "")):
            await webhooks(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    return app
