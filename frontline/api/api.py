"""The REST API (django-ninja). OpenAPI 3 at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from frontline.api.auth import ActiveSessionAuth, BearerTokenAuth
from frontline.api.errors import error_body, install_error_handlers


@csrf_exempt
def _json_not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def _json_method_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    """ninja answers a wrong method with a plain-text 405; give it the API's error shape."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allow = response.get("Allow", "")
            json_response = JsonResponse(
                error_body("method_not_allowed", f"Use one of: {allow}."), status=405
            )
            json_response["Allow"] = allow
            return json_response
        return response

    return wrapped


class FrontlineAPI(NinjaAPI):
    """NinjaAPI whose every 4xx, including the ones ninja and Django's URL routing produce
    themselves (wrong method, unknown path under /api/), is `{"error": {...}}` JSON."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if not isinstance(pattern, URLPattern):
                continue
            if pattern.name == "api-root":
                pattern.callback = _json_not_found  # ninja's raises Http404 (an HTML page)
            elif not inspect.iscoroutinefunction(pattern.callback):
                pattern.callback = _json_method_not_allowed(pattern.callback)
        patterns.append(path("<path:unmatched>", _json_not_found, name="api-not-found"))
        return patterns, app_name, namespace


api = FrontlineAPI(
    title="Frontline API",
    version="1",
    description=(
        "Customers, organisations, tickets, messages, events and users. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `frontline token create`) or a "
        'browser session. Errors are `{"error": {"code", "message", "fields"}}`.'
    ),
    auth=[BearerTokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


def _mount() -> None:
    from frontline.accounts.api import router as accounts_router
    from frontline.core.api import router as core_router
    from frontline.customers.api import organisations_router
    from frontline.customers.api import router as customers_router
    from frontline.tickets.api import router as tickets_router

    api.add_router("/customers", customers_router)
    api.add_router("/organisations", organisations_router)
    api.add_router("/tickets", tickets_router)
    api.add_router("/events", core_router)
    api.add_router("/", accounts_router)


_mount()
