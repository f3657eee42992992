"""Custom field definitions and the checks ticket_create / ticket_update make with them."""

from __future__ import annotations

import pytest
from django.db import transaction

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.tickets.actors import Actor
from frontline.tickets.custom_fields import custom_values_clean, custom_values_missing_for_solve
from frontline.tickets.models import CustomField
from frontline.tickets.selectors import custom_fields_list
from frontline.tickets.services import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    ticket_create,
    ticket_update,
)
from tests.factories import CustomerFactory, CustomFieldFactory
from tests.tickets.conftest import events_named

pytestmark = pytest.mark.django_db


def _defs(*fields):
    return {f.key: f for f in fields}


@pytest.mark.parametrize(
    ("type_", "options", "value", "stored"),
    [
        ("text", [], "hello", "hello"),
        ("number", [], 3, 3),
        ("number", [], 2.5, 2.5),
        ("number", [], "42", 42),
        ("number", [], "4.5", 4.5),
        ("checkbox", [], True, True),
        ("checkbox", [], "false", False),
        ("dropdown", ["s", "m", "l"], "m", "m"),
        ("date", [], "2024-02-29", "2024-02-29"),
    ],
)
def test_values_are_stored_in_their_type(type_, options, value, stored):
    field = CustomField(key="f", label="F", type=type_, options=options)
    assert custom_values_clean(_defs(field), {"f": value}) == {"f": stored}


@pytest.mark.parametrize(
    ("type_", "options", "value"),
    [
        ("text", [], 5),
        ("number", [], "five"),
        ("number", [], True),
        ("number", [], "nan"),
        ("checkbox", [], "maybe"),
        ("dropdown", ["s", "m"], "xl"),
        ("date", [], "2023-02-29"),
        ("date", [], 20240101),
    ],
)
def test_bad_values_are_refused_with_a_field_error(type_, options, value):
    field = CustomField(key="f", label="F", type=type_, options=options)
    with pytest.raises(ValidationFailed) as refused:
        custom_values_clean(_defs(field), {"f": value})
    assert list(refused.value.fields) == ["custom_fields.f"]


def test_unknown_and_inactive_keys_are_refused_but_may_be_removed():
    active = CustomField(key="size", label="Size", type="text")
    retired = CustomField(key="old", label="Old", type="text", active=False)
    with pytest.raises(ValidationFailed) as refused:
        custom_values_clean(_defs(active, retired), {"colour": "red", "old": "x", "size": "M"})
    assert refused.value.fields == {
        "custom_fields.colour": ["unknown field"],
        "custom_fields.old": ["unknown field"],
    }
    assert custom_values_clean(_defs(active), {"colour": None}) == {"colour": None}


def test_missing_for_solve():
    needed = CustomField(key="reason", label="R", type="text", required_on_solve=True)
    optional = CustomField(key="note", label="N", type="text")
    off = CustomField(key="gone", label="G", type="text", required_on_solve=True, active=False)
    defs = _defs(needed, optional, off)
    assert custom_values_missing_for_solve(defs, {}) == ["reason"]
    assert custom_values_missing_for_solve(defs, {"reason": ""}) == ["reason"]
    assert custom_values_missing_for_solve(defs, {"reason": "fixed"}) == []


def test_ticket_update_checks_values_once_fields_are_defined(make_ticket):
    ticket = make_ticket()
    ticket_update(ticket=ticket, custom_fields={"anything": "goes"})  # no definitions yet
    CustomFieldFactory(key="order", type="number")
    with pytest.raises(ValidationFailed) as refused:
        ticket_update(ticket=ticket, custom_fields={"order": "abc", "colour": "red"})
    assert refused.value.fields == {
        "custom_fields.order": ["must be a number"],
        "custom_fields.colour": ["unknown field"],
    }
    updated = ticket_update(ticket=ticket, custom_fields={"order": "1042", "anything": None})
    assert updated.custom_fields == {"order": 1042}


def test_solving_needs_the_required_fields(make_ticket):
    CustomFieldFactory(
        key="reason", type="dropdown", options=["fixed", "wontfix"], required_on_solve=True
    )
    ticket = make_ticket()
    with pytest.raises(ValidationFailed) as refused:
        ticket_update(ticket=ticket, status="solved")
    assert refused.value.fields == {"custom_fields.reason": ["required to solve"]}
    ticket.refresh_from_db()
    assert ticket.status == "new"
    solved = ticket_update(ticket=ticket, status="solved", custom_fields={"reason": "fixed"})
    assert solved.status == "solved"
    with pytest.raises(ValidationFailed), transaction.atomic():
        ticket_create(requester=CustomerFactory(), subject="x", status="solved")


def test_ticket_create_checks_values_too():
    CustomFieldFactory(key="order", type="number")
    # ticket_create joins the caller's transaction (the ingest's): a refusal aborts it
    with pytest.raises(ValidationFailed), transaction.atomic():
        ticket_create(requester=CustomerFactory(), subject="x", custom_fields={"order": "x"})
    ticket = ticket_create(requester=CustomerFactory(), subject="x", custom_fields={"order": "7"})
    assert ticket.custom_fields == {"order": 7}


def test_definitions_crud_is_for_admins(admin_user, agent):
    admin = Actor.for_user(admin_user)
    field = custom_field_create(
        actor=admin, key="size", label="Size", type="dropdown", options=["S", " M "]
    )
    assert field.options == ["S", "M"]
    assert events_named("custom_field.created")[0].payload == {
        "custom_field_id": field.pk,
        "key": "size",
    }
    with pytest.raises(Conflict):
        custom_field_create(actor=admin, key="size", label="Size", type="text")
    with pytest.raises(ValidationFailed):
        custom_field_create(actor=admin, key="Bad Key", label="x", type="text")
    with pytest.raises(ValidationFailed):
        custom_field_create(actor=admin, key="d", label="x", type="dropdown", options=["a", "a"])
    with pytest.raises(ValidationFailed):
        custom_field_create(actor=admin, key="t", label="x", type="text", options=["a"])
    with pytest.raises(ValidationFailed):
        custom_field_create(actor=admin, key="t", label="x", type="colour")
    with pytest.raises(PermissionDenied):
        custom_field_create(actor=Actor.for_user(agent), key="t", label="x", type="text")

    updated = custom_field_update(
        field=field, actor=admin, label="T-shirt size", required_on_solve=True, position=3
    )
    assert (updated.label, updated.required_on_solve, updated.position) == ("T-shirt size", True, 3)
    with pytest.raises(ValidationFailed):
        custom_field_update(field=field, actor=admin, type="text")
    with pytest.raises(PermissionDenied):
        custom_field_update(field=field, actor=Actor.for_user(agent), label="x")
    custom_field_create(actor=admin, key="archived", label="A", type="text", active=False)
    assert [f.key for f in custom_fields_list()] == ["archived", "size"]
    assert [f.key for f in custom_fields_list(active_only=True)] == ["size"]
    custom_field_delete(field=field, actor=admin)
    assert not CustomField.objects.filter(key="size").exists()
