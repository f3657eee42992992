"""Customers over the REST API: CRUD, identities and lookup, merge and revert, orders,
organisations and their members."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from frontline.customers import services
from frontline.customers.models import (
    Customer,
    CustomerMerge,
    CustomerOrganisation,
    Identity,
    Order,
    Organisation,
)
from frontline.tickets.models import Ticket, TicketEvent
from tests.factories import (
    CustomerFactory,
    IdentityFactory,
    OrderFactory,
    OrganisationFactory,
    TicketFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_for, agent):
    return api_for(agent)


def identities(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["kind"], i["value"]) for i in data["identities"]}


# --------------------------------------------------------------------------- CRUD


def test_create_get_update_delete(client, admin_user, api_for):
    response = client.post(
        "/api/customers",
        {
            "name": "  Ana Lima ",
            "identities": [
                {"kind": "email", "value": "Ana@Example.com"},
                {"kind": "phone", "value": "(415) 555-0100"},
                {"kind": "social", "network": "Instagram", "value": "@AnaLima"},
            ],
            "language": "pt",
            "tier": "premium",
            "attributes": {"plan": "gold"},
            "notes": "Prefers email",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    customer_id = data["id"]
    assert data["name"] == "Ana Lima"
    assert identities(data) == {
        ("email", "ana@example.com"),
        ("phone", "+14155550100"),
        ("social", "analima"),
    }
    assert {i["network"] for i in data["identities"]} == {"", "instagram"}
    assert (data["language"], data["tier"], data["attributes"]) == (
        "pt",
        "premium",
        {"plan": "gold"},
    )
    assert data["merged_into_id"] is None

    got = client.get(f"/api/customers/{customer_id}")
    assert got.status_code == 200
    assert got.json() == data

    patched = client.patch(f"/api/customers/{customer_id}", {"tier": "vip", "notes": "VIP now"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["tier"], patched.json()["notes"]) == ("vip", "VIP now")
    assert patched.json()["name"] == "Ana Lima"  # untouched

    listed = client.get("/api/customers", {"q": "ana"})
    assert [c["id"] for c in listed.json()["items"]] == [customer_id]
    by_identity = client.get("/api/customers", {"q": "555"})
    assert [c["id"] for c in by_identity.json()["items"]] == [customer_id]

    assert client.delete(f"/api/customers/{customer_id}").status_code == 403  # agents may not
    deleted = api_for(admin_user).delete(f"/api/customers/{customer_id}")
    assert deleted.status_code == 204
    assert not Customer.objects.filter(pk=customer_id).exists()
    assert client.get(f"/api/customers/{customer_id}").status_code == 404


def test_customer_with_tickets_cannot_be_deleted(api_for, admin_user):
    ticket = TicketFactory()
    response = api_for(admin_user).delete(f"/api/customers/{ticket.requester_id}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Customer.objects.filter(pk=ticket.requester_id).exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"tier": "gold"}, 422, "tier"),
        ({"identities": [{"kind": "email", "value": "nope"}]}, 422, "identities"),
        ({"identities": [{"kind": "fax", "value": "123"}]}, 422, "identities"),
        ({"identities": [{"kind": "social", "value": "@ana"}]}, 422, "identities"),
        ({"identities": [{"kind": "email"}]}, 422, "identities.0.value"),
        ({"attributes": ["not", "a", "dict"]}, 422, "attributes"),
        ({"organisation_ids": [999_999]}, 422, "organisation_ids"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(client, body, status, field):
    response = client.post("/api/customers", {"name": "Bad", **body})
    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]
    assert Customer.objects.count() == 0


def test_create_with_organisations_makes_the_first_primary(client):
    first, second = OrganisationFactory(name="First"), OrganisationFactory(name="Second")
    response = client.post(
        "/api/customers", {"name": "Member", "organisation_ids": [second.pk, first.pk]}
    )
    assert response.status_code == 201, response.content
    orgs = {o["name"]: o["is_primary"] for o in response.json()["organisations"]}
    assert orgs == {"Second": True, "First": False}


def test_customer_list_pages_and_hides_merged(client):
    made = [CustomerFactory(name=f"Person {i}") for i in range(7)]
    services.customer_merge(source=made[0], target=made[1])
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/customers", params).json()
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((c.pk for c in made[1:]), reverse=True)


def test_me_is_the_signed_in_customer(api_for):
    user = customer_user(CustomerFactory(name="Portal Pat"))
    response = api_for(user).get("/api/customers/me")
    assert response.status_code == 200
    assert response.json()["name"] == "Portal Pat"


# --------------------------------------------------------------------------- identities


@pytest.mark.parametrize(
    "written",
    ["+14155550100", "(415) 555-0100", "415.555.0100", "+1 415 555 0100", "0014155550100"],
)
def test_lookup_finds_a_phone_written_any_way(client, written):
    customer = CustomerFactory(name="Phone Owner")
    IdentityFactory(customer=customer, kind="phone", value="+14155550100")
    response = client.get("/api/customers/lookup", {"kind": "phone", "value": written})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == customer.pk
    assert identities(response.json()) == {("phone", "+14155550100")}


def test_lookup_by_email_is_case_insensitive_and_404_when_unknown(client):
    customer = services.customer_create(
        identities=[services.IdentityInput("email", "bo@example.com")]
    )
    found = client.get("/api/customers/lookup", {"kind": "email", "value": " BO@Example.COM "})
    assert found.json()["id"] == customer.pk
    missing = client.get("/api/customers/lookup", {"kind": "email", "value": "cy@example.com"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    invalid = client.get("/api/customers/lookup", {"kind": "phone", "value": "12"})
    assert invalid.status_code == 422
    no_value = client.get("/api/customers/lookup", {"kind": "email"})
    assert no_value.status_code == 422
    assert "value" in no_value.json()["error"]["fields"]


def test_identity_conflicts_are_409(client):
    owner = services.customer_create(
        name="Owner", identities=[services.IdentityInput("email", "taken@example.com")]
    )
    other = services.customer_create(name="Other")

    create = client.post(
        "/api/customers",
        {"name": "Copycat", "identities": [{"kind": "email", "value": "TAKEN@example.com"}]},
    )
    assert create.status_code == 409, create.content
    assert create.json()["error"]["code"] == "conflict"
    assert "identities" in create.json()["error"]["fields"]
    assert not Customer.objects.filter(name="Copycat").exists()

    add = client.post(
        f"/api/customers/{other.pk}/identities", {"kind": "email", "value": "Taken@Example.com"}
    )
    assert add.status_code == 409
    assert add.json()["error"]["code"] == "conflict"
    assert Identity.objects.get(value="taken@example.com").customer_id == owner.pk

    # adding one the customer already has is a no-op, not a conflict
    again = client.post(
        f"/api/customers/{owner.pk}/identities", {"kind": "email", "value": "taken@example.com"}
    )
    assert again.status_code == 201
    assert owner.identities.count() == 1


def test_identity_add_and_remove(client):
    customer = services.customer_create(name="Chatty")
    added = client.post(
        f"/api/customers/{customer.pk}/identities", {"kind": "chat", "value": " visitor-7 "}
    )
    assert added.status_code == 201, added.content
    assert (added.json()["kind"], added.json()["value"]) == ("chat", "visitor-7")
    identity_id = added.json()["id"]

    elsewhere = services.customer_create(name="Someone")
    wrong_owner = client.delete(f"/api/customers/{elsewhere.pk}/identities/{identity_id}")
    assert wrong_owner.status_code == 404
    removed = client.delete(f"/api/customers/{customer.pk}/identities/{identity_id}")
    assert removed.status_code == 204
    assert customer.identities.count() == 0


# --------------------------------------------------------------------------- merge


def test_merge_moves_everything_and_revert_moves_it_back(client):
    source = services.customer_create(
        name="Ana (chat)", identities=[services.IdentityInput("chat", "visitor-1")]
    )
    target = services.customer_create(
        name="Ana Lima", identities=[services.IdentityInput("email", "ana@example.com")]
    )
    org = OrganisationFactory()
    services.customer_organisation_add(customer=source, organisation=org)
    source_tickets = [TicketFactory(requester=source), TicketFactory(requester=source)]
    target_ticket = TicketFactory(requester=target)
    source_order = OrderFactory(customer=source)

    response = client.post(f"/api/customers/{target.pk}/merge", {"source_id": source.pk})
    assert response.status_code == 201, response.content
    merge = response.json()
    assert (merge["source_id"], merge["target_id"]) == (source.pk, target.pk)
    assert merge["reverted_at"] is None
    assert sorted(merge["moved"]["tickets"]) == sorted(t.pk for t in source_tickets)

    merged_target = client.get(f"/api/customers/{target.pk}").json()
    assert identities(merged_target) == {("email", "ana@example.com"), ("chat", "visitor-1")}
    assert [o["id"] for o in merged_target["organisations"]] == [org.pk]
    tombstone = client.get(f"/api/customers/{source.pk}").json()
    assert tombstone["merged_into_id"] == target.pk
    assert tombstone["identities"] == []
    assert set(Ticket.objects.filter(requester=target).values_list("pk", flat=True)) == {
        target_ticket.pk,
        *(t.pk for t in source_tickets),
    }
    assert [o["id"] for o in client.get(f"/api/customers/{target.pk}/orders").json()] == [
        source_order.pk
    ]
    assert client.get(f"/api/customers/{source.pk}/orders").json() == []
    assert TicketEvent.objects.filter(field="requester", new_value=str(target.pk)).count() == 2
    # the identity now finds the survivor
    looked_up = client.get("/api/customers/lookup", {"kind": "chat", "value": "visitor-1"})
    assert looked_up.json()["id"] == target.pk

    again = client.post(f"/api/customers/{target.pk}/merge", {"source_id": source.pk})
    assert again.status_code == 409

    reverted = client.post(f"/api/customers/merges/{merge['id']}/revert")
    assert reverted.status_code == 200, reverted.content
    assert reverted.json()["reverted_at"] is not None
    source_after = client.get(f"/api/customers/{source.pk}").json()
    assert source_after["merged_into_id"] is None
    assert identities(source_after) == {("chat", "visitor-1")}
    assert [o["id"] for o in source_after["organisations"]] == [org.pk]
    target_after = client.get(f"/api/customers/{target.pk}").json()
    assert identities(target_after) == {("email", "ana@example.com")}
    assert target_after["organisations"] == []
    assert set(Ticket.objects.filter(requester=source).values_list("pk", flat=True)) == {
        t.pk for t in source_tickets
    }
    assert Ticket.objects.get(pk=target_ticket.pk).requester_id == target.pk
    assert Order.objects.get(pk=source_order.pk).customer_id == source.pk

    twice = client.post(f"/api/customers/merges/{merge['id']}/revert")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "conflict"


def test_merge_refusals(client):
    customer = CustomerFactory()
    into_itself = client.post(f"/api/customers/{customer.pk}/merge", {"source_id": customer.pk})
    assert into_itself.status_code == 422
    unknown = client.post(f"/api/customers/{customer.pk}/merge", {"source_id": 999_999})
    assert unknown.status_code == 404
    no_source = client.post(f"/api/customers/{customer.pk}/merge", {})
    assert no_source.status_code == 422
    assert "source_id" in no_source.json()["error"]["fields"]
    assert client.post("/api/customers/merges/999999/revert").status_code == 404
    assert CustomerMerge.objects.count() == 0


# --------------------------------------------------------------------------- orders


def test_orders_create_and_list(client):
    customer = CustomerFactory()
    older = OrderFactory(customer=customer, product="Old boots")
    response = client.post(
        f"/api/customers/{customer.pk}/orders",
        {
            "product": "Trail shoes",
            "amount": "89.90",
            "currency": "eur",
            "quantity": 2,
            "sku": "TS-42",
            "number": "A-1001",
            "status": "shipped",
        },
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert Decimal(str(order["amount"])) == Decimal("89.90")
    assert (order["currency"], order["quantity"], order["status"]) == ("EUR", 2, "shipped")
    assert (order["sku"], order["number"]) == ("TS-42", "A-1001")

    listed = client.get(f"/api/customers/{customer.pk}/orders")
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()] == [order["id"], older.pk]  # newest first
    assert client.get("/api/customers/999999/orders").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"currency": "US1"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "€"}, "currency"),
        ({"quantity": 0}, "quantity"),
        ({"status": "lost"}, "status"),
        ({"product": ""}, "product"),
    ],
)
def test_order_validation(client, body, field):
    customer = CustomerFactory()
    response = client.post(
        f"/api/customers/{customer.pk}/orders", {"product": "Socks", "amount": "5", **body}
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert Order.objects.count() == 0


# --------------------------------------------------------------------------- organisations


def test_organisations_create_list_get_patch(client):
    response = client.post(
        "/api/organisations",
        {"name": " Acme ", "domains": ["Acme.com", "acme.com", " "], "attributes": {"size": 50}},
    )
    assert response.status_code == 201, response.content
    org = response.json()
    assert org["name"] == "Acme"
    assert org["domains"] == ["acme.com"]
    assert org["shared_tickets"] is False
    OrganisationFactory(name="Zeta")

    listed = client.get("/api/organisations")
    assert [o["name"] for o in listed.json()] == ["Acme", "Zeta"]
    assert [o["name"] for o in client.get("/api/organisations", {"q": "zet"}).json()] == ["Zeta"]
    assert client.get(f"/api/organisations/{org['id']}").json() == org

    patched = client.patch(
        f"/api/organisations/{org['id']}", {"shared_tickets": True, "notes": "Key account"}
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["shared_tickets"], patched.json()["notes"]) == (True, "Key account")
    assert patched.json()["name"] == "Acme"

    assert client.post("/api/organisations", {"name": ""}).status_code == 422
    assert client.patch(f"/api/organisations/{org['id']}", {"name": ""}).status_code == 422
    assert client.get("/api/organisations/999999").status_code == 404


def test_organisation_members_and_the_primary_one(client):
    customer = CustomerFactory()
    first, second = OrganisationFactory(), OrganisationFactory()

    def add(org: Organisation, **body: Any) -> Any:
        return client.post(
            f"/api/organisations/{org.pk}/members", {"customer_id": customer.pk, **body}
        )

    response = add(first)
    assert response.status_code == 201, response.content
    assert response.json() == {"id": first.pk, "name": first.name, "is_primary": True}  # only
    response = add(second)
    assert response.json()["is_primary"] is False
    response = add(second, primary=True)
    assert response.json()["is_primary"] is True
    memberships = dict(
        CustomerOrganisation.objects.filter(customer=customer).values_list(
            "organisation_id", "is_primary"
        )
    )
    assert memberships == {first.pk: False, second.pk: True}
    shown = client.get(f"/api/customers/{customer.pk}").json()["organisations"]
    assert {o["id"]: o["is_primary"] for o in shown} == memberships

    assert add(first).json()["is_primary"] is False  # adding again keeps the primary
    unknown = client.post(f"/api/organisations/{first.pk}/members", {"customer_id": 999_999})
    assert unknown.status_code == 404
