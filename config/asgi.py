"""ASGI entry point: Django for HTTP, Channels for websockets (routes added by `realtime`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from frontline.channels.asgi import with_fast_webhooks  # noqa: E402
from frontline.channels.chat.routing import (  # noqa: E402
    websocket_urlpatterns as visitor_websockets,
)
from frontline.realtime.consumers import AgentConsumer  # noqa: E402

# Visitors come from customers' sites: each widget checks the origin against its own
# allowlist. Agents come from Frontline's pages only, with their session.
application = ProtocolTypeRouter(
    {
        "http": with_fast_webhooks(django_asgi_app),
        "websocket": URLRouter(
            [
                *visitor_websockets,
                path(
                    "ws/agent/",
                    AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi())),
                ),
            ]
        ),
    }
)
