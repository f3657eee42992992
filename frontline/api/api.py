"""The REST API (django-ninja). OpenAPI 3 at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from frontline.api.auth import ActiveSessionAuth, BearerTokenAuth
from frontline.api.errors import install_error_handlers

api = NinjaAPI(
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
