"""One error shape for every API failure, field-level messages, and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from frontline.accounts.models import Role
from frontline.api.api import api
from frontline.tickets.models import Ticket
from tests.factories import CustomerFactory, TicketFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for name, messages in error["fields"].items():
        assert isinstance(name, str) and name
        assert isinstance(messages, list) and messages
        assert all(isinstance(m, str) and m for m in messages)
    if code is not None:
        assert error["code"] == code
    return error


def _valid_ticket() -> dict[str, Any]:
    return {
        "subject": "Hi",
        "text": "Hello",
        "requester": {"identities": [{"kind": "email", "value": "a@example.com"}]},
    }


Call = Callable[[Any, dict[str, Any]], Any]

FOUR_XX: list[tuple[str, Call, int, str]] = [
    (
        "malformed JSON",
        lambda c, w: c.client.post(
            "/api/tickets", '{"subject": "x",', content_type="application/json", **c._headers()
        ),
        400,
        "http_error",
    ),
    ("no auth", lambda c, w: Client().get("/api/tickets"), 401, "not_authenticated"),
    (
        "unknown token",
        lambda c, w: Client().get("/api/tickets", HTTP_AUTHORIZATION="Bearer flt_nope"),
        401,
        "not_authenticated",
    ),
    (
        "not a bearer token",
        lambda c, w: Client().get("/api/tickets", HTTP_AUTHORIZATION="Basic YTpi"),
        401,
        "not_authenticated",
    ),
    (
        "role",
        lambda c, w: w["agent_api"].get("/api/users"),
        403,
        "permission_denied",
    ),
    (
        "read-only token",
        lambda c, w: w["read_api"].post("/api/tickets", _valid_ticket()),
        403,
        "permission_denied",
    ),
    ("unknown ticket", lambda c, w: c.get("/api/tickets/987654"), 404, "not_found"),
    ("unknown customer", lambda c, w: c.get("/api/customers/987654"), 404, "not_found"),
    ("unknown path", lambda c, w: c.get("/api/no/such/thing"), 404, "not_found"),
    ("api root", lambda c, w: c.get("/api/"), 404, "not_found"),
    ("trailing slash", lambda c, w: c.get("/api/tickets/"), 404, "not_found"),
    ("wrong method", lambda c, w: c.delete("/api/tickets"), 405, "method_not_allowed"),
    (
        "identity conflict",
        lambda c, w: c.post(
            "/api/customers", {"identities": [{"kind": "email", "value": "taken@example.com"}]}
        ),
        409,
        "conflict",
    ),
    (
        "invalid transition",
        lambda c, w: c.patch(f"/api/tickets/{w['ticket'].pk}", {"status": "closed"}),
        409,
        "invalid_transition",
    ),
    ("missing field", lambda c, w: c.post("/api/tickets", {"text": "x"}), 422, "validation_error"),
    (
        "path parameter type",
        lambda c, w: c.get("/api/tickets/abc"),
        422,
        "validation_error",
    ),
    (
        "query parameter type",
        lambda c, w: c.get("/api/tickets", {"limit": "many"}),
        422,
        "validation_error",
    ),
    (
        "domain validation",
        lambda c, w: c.post(
            f"/api/customers/{w['customer'].pk}/orders",
            {"product": "x", "amount": "1", "currency": "12$"},
        ),
        422,
        "validation_error",
    ),
]


@pytest.fixture
def world(api_for, admin_user):
    from frontline.customers import services

    services.customer_create(
        identities=[services.IdentityInput("email", "taken@example.com")], name="Taken"
    )
    return {
        "agent_api": api_for(UserFactory(role=Role.AGENT)),
        "read_api": api_for(admin_user, scope="read"),
        "ticket": TicketFactory(),
        "customer": CustomerFactory(),
    }


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [pytest.param(call, status, code, id=name) for name, call, status, code in FOUR_XX],
)
def test_every_4xx_has_the_json_error_shape(api_for, admin_user, world, call, status, code):
    client = api_for(admin_user)
    assert_error_shape(call(client, world), status, code)


def test_missing_subject_is_named_in_fields(api_for, admin_user):
    body = _valid_ticket()
    del body["subject"]
    error = assert_error_shape(api_for(admin_user).post("/api/tickets", body), 422)
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["subject"]
    assert error["fields"]["subject"] == ["Field required"]
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": 5}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 256}, "subject"),
        ({"priority": "p1"}, "priority"),
        ({"tags": "a,b"}, "tags"),
        ({"team_id": "abc"}, "team_id"),
        ({"custom_fields": []}, "custom_fields"),
        ({"requester": "ana@example.com"}, "requester"),
        ({"requester": {"identities": "ana@example.com"}}, "requester.identities"),
        ({"requester": {"id": "me"}}, "requester.id"),
        ({"attachments": [{"filename": "a.txt"}]}, "attachments.0.content_base64"),
    ],
)
def test_wrong_types_are_422_with_the_field_path(api_for, admin_user, change, field):
    response = api_for(admin_user).post("/api/tickets", {**_valid_ticket(), **change})
    error = assert_error_shape(response, 422, "validation_error")
    assert field in error["fields"], error


def test_several_problems_are_reported_together(api_for, admin_user):
    response = api_for(admin_user).post("/api/tickets", {"subject": "", "priority": "p1"})
    error = assert_error_shape(response, 422, "validation_error")
    assert {"subject", "priority"} <= set(error["fields"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("[1, 2]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("subject=x&text=y", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies_are_4xx_json_never_500(api_for, admin_user, body, content_type):
    client = api_for(admin_user)
    client.client.raise_request_exception = False
    response = client.client.post(
        "/api/tickets", body, content_type=content_type, **client._headers()
    )
    assert 400 <= response.status_code < 500, response.content
    assert_error_shape(response, response.status_code)
    assert Ticket.objects.count() == 0


def test_unknown_ticket_is_404_json(api_for, agent):
    client = api_for(agent)
    for path in (
        "/api/tickets/424242",
        "/api/tickets/424242/messages",
        "/api/tickets/424242/events",
    ):
        error = assert_error_shape(client.get(path), 404, "not_found")
        assert error["fields"] == {}
    patch = client.patch("/api/tickets/424242", {"priority": "high"})
    assert_error_shape(patch, 404, "not_found")


def test_no_auth_is_401_for_every_method_even_with_csrf_enforced():
    client = Client(enforce_csrf_checks=True)
    for response in (
        client.get("/api/tickets"),
        client.post("/api/tickets", _valid_ticket(), content_type="application/json"),
        client.patch("/api/tickets/1", {"priority": "high"}, content_type="application/json"),
        client.delete("/api/tokens/1"),
        client.post(
            "/api/tickets",
            _valid_ticket(),
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer flt_revoked-or-wrong",
        ),
    ):
        assert_error_shape(response, 401, "not_authenticated")


def test_bearer_token_writes_need_no_csrf(api_for, agent):
    secret = api_for(agent).token
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/tickets",
        _valid_ticket(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201, response.content


def test_browser_session_works_and_still_needs_csrf_for_writes():
    user = UserFactory(role=Role.AGENT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/tickets").status_code == 200
    refused = client.post("/api/tickets", _valid_ticket(), content_type="application/json")
    assert_error_shape(refused, 403)
    assert Ticket.objects.count() == 0

    secret = "Frontline0csrf0secret0for0tests0"  # 32 letters/digits: a valid CSRF secret
    assert len(secret) == 32
    client.cookies["csrftoken"] = secret
    accepted = client.post(
        "/api/tickets",
        _valid_ticket(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
    )
    assert accepted.status_code == 201, accepted.content


def test_inactive_session_user_is_401():
    user = UserFactory(role=Role.AGENT)
    client = Client()
    client.force_login(user)
    user.is_active = False
    user.save()
    assert_error_shape(client.get("/api/tickets"), 401, "not_authenticated")


def test_customer_sees_denials_in_the_same_shape(api_for):
    me = customer_user()
    other = TicketFactory()
    client = api_for(me)
    assert_error_shape(client.get(f"/api/tickets/{other.pk}"), 404, "not_found")
    assert_error_shape(client.get("/api/customers"), 403, "permission_denied")


# --------------------------------------------------------------------------- OpenAPI


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_openapi_document_is_valid_openapi_3():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    doc = response.json()

    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert doc["info"]["title"] == "Frontline API"
    assert doc["info"]["version"] == "1"
    assert doc["paths"]
    for ref in _refs(doc):  # every $ref points at something
        assert isinstance(_resolve(doc, ref), dict), ref

    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/api/")
        assert set(item) <= HTTP_METHODS | {"parameters", "summary", "description"}
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation["responses"], (method, path)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|default", status)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"path", "query", "header", "cookie"}
                assert "schema" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
            if method in {"get", "delete"}:
                assert "requestBody" not in operation
            body = operation.get("requestBody")
            if body is not None:
                assert "application/json" in body["content"]
            assert operation.get("security"), f"{method} {path} is not authenticated"
    assert len(operation_ids) == len(set(operation_ids))

    schemes = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        s for s in schemes.values() if s["type"] == "http"
    ).items()
    # every route of the API is documented
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert len(documented) == len(operation_ids) == len(_operation_urls())


def _operation_urls() -> list[str]:
    patterns, _, _ = api.urls
    not_operations = {"openapi-json", "openapi-view", "api-root", "api-not-found"}
    names = [getattr(p, "name", None) for p in patterns]
    return [name for name in names if name and name not in not_operations]
