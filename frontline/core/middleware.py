"""WhiteNoise for an async server.

WhiteNoise's middleware is sync-only. One sync-only middleware makes Django run the whole
request chain on its single sync thread under ASGI, so every request of a process waits for
the one before it, database round trips and commit flushes included. This wrapper is
async-capable: under ASGI it looks the path up among the static files (a dict lookup; in
autorefresh mode, a filesystem lookup in a thread) and serves a hit from a thread, and hands
every other request on without leaving the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.whitenoise = WhiteNoiseMiddleware(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self.whitenoise(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if self.whitenoise.autorefresh:
            static_file = (
                await sync_to_async(self.whitenoise.find_file, thread_sensitive=False)(path)
                if path.startswith(settings.STATIC_URL)
                else None
            )
        else:
            static_file = self.whitenoise.files.get(path)
        if static_file is not None:
            serve: Callable[..., HttpResponseBase] = self.whitenoise.serve
            return await sync_to_async(serve, thread_sensitive=False)(static_file, request)
        response: Awaitable[HttpResponseBase] = self.get_response(request)
        return await response
