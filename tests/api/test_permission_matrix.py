"""The permission matrix: every role x every API endpoint, with the status each pair must get.

Roles: admin, supervisor, an agent of team A, an agent of team B, a light agent invited to
ticket X, a light agent not invited, the customer who requested ticket X, another customer,
an anonymous caller and a read-scope token of an admin. Ticket X belongs to team A.

A ticket someone may not see answers 404 exactly like a ticket that does not exist; a role
that may see it but not do the thing answers 403. Each row's request is built so that it
succeeds (2xx) for every role allowed to make it. `test_matrix_covers_every_route` fails when
an endpoint is added without a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.test import Client

from frontline.accounts.models import Role, Team, User
from frontline.accounts.services import api_token_create
from frontline.api.api import api
from frontline.customers import services as customer_services
from frontline.customers.models import Customer, CustomerMerge, Identity, Organisation
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import Actor
from frontline.tickets.models import (
    CannedResponse,
    CustomField,
    SideConversation,
    Ticket,
    TicketLink,
    TimeEntry,
)
from tests.factories import (
    CannedResponseFactory,
    CustomFieldFactory,
    TeamFactory,
    TimeEntryFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db

ADMIN, SUPERVISOR, AGENT_A, AGENT_B = "admin", "supervisor", "agent_a", "agent_b"
LIGHT_INVITED, LIGHT_OTHER, CUSTOMER_X, CUSTOMER_OTHER = (
    "light_invited",
    "light_other",
    "customer_x",
    "customer_other",
)
ANONYMOUS, ADMIN_READ = "anonymous", "admin_read"
SIGNED_IN = (
    ADMIN,
    SUPERVISOR,
    AGENT_A,
    AGENT_B,
    LIGHT_INVITED,
    LIGHT_OTHER,
    CUSTOMER_X,
    CUSTOMER_OTHER,
)
ROLES = (*SIGNED_IN, ANONYMOUS, ADMIN_READ)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
MISSING_ID = 987_654_321


# --------------------------------------------------------------------------- the world


def _ticket(requester: Customer, subject: str, team: Team | None) -> Ticket:
    ticket = ticket_services.ticket_create(
        requester=requester, subject=subject, channel="email", team=team
    )
    ticket_services.message_add(
        ticket=ticket, actor=Actor.for_customer(requester), text=f"About {subject}"
    )
    return ticket


class World:
    """The fixture data of one test, built with the factories and the services.

    Each part is made on first use, so a test pays only for what its request touches (the
    acting user, ticket X, ...): 400+ matrix cases each build their own world quickly.
    """

    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self.spare_tokens: dict[str, int] = {}  # role -> a token of theirs to revoke

    def user(self, role: str) -> User:
        if role not in self._users:
            self._users[role] = self._make_user(role)
        return self._users[role]

    def _make_user(self, role: str) -> User:
        if role == ADMIN:
            return UserFactory(role=Role.ADMIN, username="admin", is_staff=True, is_superuser=True)
        if role == SUPERVISOR:
            return UserFactory(role=Role.SUPERVISOR, username="supervisor")
        if role in (AGENT_A, AGENT_B):
            agent = UserFactory(role=Role.AGENT, username=role)
            agent.teams.add(self.team_a if role == AGENT_A else self.team_b)
            return agent
        if role in (LIGHT_INVITED, LIGHT_OTHER):
            light = UserFactory(role=Role.LIGHT_AGENT, username=role)
            if role == LIGHT_INVITED:
                ticket_services.ticket_collaborator_add(ticket=self.ticket_x, user=light)
            return light
        if role == CUSTOMER_X:
            return customer_user(self.requester_x, username=role)
        if role == CUSTOMER_OTHER:
            return customer_user(username=role)
        raise AssertionError(role)

    @cached_property
    def team_a(self) -> Team:
        return TeamFactory(name="Team A", slug="a")

    @cached_property
    def team_b(self) -> Team:
        return TeamFactory(name="Team B", slug="b")

    @cached_property
    def requester_x(self) -> Customer:
        return customer_services.customer_create(name="Requester of X")

    @cached_property
    def stranger(self) -> Customer:
        return customer_services.customer_create(name="Stranger")

    @cached_property
    def ticket_x(self) -> Ticket:
        """Team A's, requested by customer_x; light_invited collaborates on it."""
        return _ticket(self.requester_x, "Ticket X", self.team_a)

    @cached_property
    def ticket_b(self) -> Ticket:
        return _ticket(self.stranger, "Ticket B", self.team_b)

    @cached_property
    def ticket_n(self) -> Ticket:
        """No team: every agent sees it."""
        return _ticket(self.stranger, "Ticket N", None)

    def all_tickets(self) -> dict[int, str]:
        if LIGHT_INVITED not in self._users:
            self.user(LIGHT_INVITED)  # ticket X always has its invited light agent
        return {self.ticket_x.pk: "X", self.ticket_b.pk: "B", self.ticket_n.pk: "N"}

    @cached_property
    def ticket_dup(self) -> Ticket:
        """Team A's duplicate of ticket X, to merge into it."""
        return _ticket(self.stranger, "Ticket X again", self.team_a)

    @cached_property
    def second_message_id(self) -> int:
        """A second customer message on ticket X, to split off."""
        return ticket_services.message_add(
            ticket=self.ticket_x, actor=Actor.for_customer(self.requester_x), text="Also this"
        ).pk

    @cached_property
    def link(self) -> TicketLink:
        return ticket_services.ticket_link(
            from_ticket=self.ticket_x,
            to_ticket=self.ticket_n,
            kind="related",
            actor=Actor("system"),
        )

    def own_time_entry(self, role: str, *, running: bool = False) -> TimeEntry:
        """An entry of the caller on ticket X (the admin's for callers without a user)."""
        owner = self.user(ADMIN if role in (ANONYMOUS, ADMIN_READ) else role)
        return TimeEntryFactory(ticket=self.ticket_x, user=owner, running=running)

    @cached_property
    def conversation(self) -> SideConversation:
        return ticket_services.side_conversation_start(
            ticket=self.ticket_x,
            actor=Actor.for_user(self.user(SUPERVISOR)),
            subject="Ask a specialist",
            participants=[],
        )

    @cached_property
    def canned_shared(self) -> CannedResponse:
        return CannedResponseFactory(title="Shared")

    def canned_own(self, role: str) -> CannedResponse:
        owner = self.user(ADMIN if role in (ANONYMOUS, ADMIN_READ) else role)
        return CannedResponseFactory(title="Mine", owner=owner)

    @cached_property
    def custom_field(self) -> CustomField:
        return CustomFieldFactory(key="order-number", type="number")

    @cached_property
    def customer(self) -> Customer:
        """A customer with an email identity and an order."""
        customer = customer_services.customer_create(
            name="Plain",
            identities=[customer_services.IdentityInput("email", "plain@example.com")],
        )
        customer_services.order_create(customer=customer, product="Boots", amount="120.00")
        return customer

    @cached_property
    def identity(self) -> Identity:
        return self.customer.identities.get()

    @cached_property
    def deletable(self) -> Customer:
        return customer_services.customer_create(name="No tickets")

    @cached_property
    def merge_source(self) -> Customer:
        return customer_services.customer_create(name="Source")

    @cached_property
    def merge_target(self) -> Customer:
        return customer_services.customer_create(name="Target")

    @cached_property
    def merge(self) -> CustomerMerge:
        """An earlier merge, ready to revert."""
        return customer_services.customer_merge(
            source=customer_services.customer_create(name="Old source"),
            target=customer_services.customer_create(name="Old target"),
        )

    @cached_property
    def organisation(self) -> Organisation:
        return customer_services.organisation_create(name="Acme")


# --------------------------------------------------------------------------- the rows


def expect(
    admin: int,
    supervisor: int,
    agent_a: int,
    agent_b: int,
    light_invited: int,
    light_other: int,
    customer_x: int,
    customer_other: int,
) -> dict[str, int]:
    """The status for each signed-in role (anonymous is always 401; a read token gets what
    the admin gets on GET and 403 on anything else)."""
    return dict(
        zip(
            SIGNED_IN,
            (
                admin,
                supervisor,
                agent_a,
                agent_b,
                light_invited,
                light_other,
                customer_x,
                customer_other,
            ),
            strict=True,
        )
    )


def staff(ok: int) -> dict[str, int]:
    """Admins, supervisors and agents; never light agents or customers."""
    return expect(ok, ok, ok, ok, 403, 403, 403, 403)


def admin_only(ok: int) -> dict[str, int]:
    return expect(ok, 403, 403, 403, 403, 403, 403, 403)


def everyone(ok: int) -> dict[str, int]:
    return expect(ok, ok, ok, ok, ok, ok, ok, ok)


Ids = Callable[[World, str], dict[str, Any]]
Body = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    name: str  # the operation (its URL name in api.urls)
    method: str
    route: str  # as in the OpenAPI document
    statuses: dict[str, int]
    ids: Ids = lambda w, role: {}
    body: Body | None = None
    variant: str = ""
    ticket_param: str = ""  # a path parameter naming a ticket: 404s must not leak existence

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.variant}]" if self.variant else "")

    def expected(self, role: str) -> int:
        if role == ANONYMOUS:
            return 401
        if role == ADMIN_READ:
            return self.statuses[ADMIN] if self.method in SAFE_METHODS else 403
        return self.statuses[role]


def _x(w: World, role: str) -> dict[str, Any]:
    return {"ticket_id": w.ticket_x.pk}


def _customer(w: World, role: str) -> dict[str, Any]:
    return {"customer_id": w.customer.pk}


def _org(w: World, role: str) -> dict[str, Any]:
    return {"organisation_id": w.organisation.pk}


def _new_ticket(w: World, role: str) -> dict[str, Any]:
    return {
        "subject": "Printer on fire",
        "text": "Please help",
        "requester": {"identities": [{"kind": "email", "value": "new@example.com"}]},
    }


TICKETS = "/api/tickets/{ticket_id}"
ROWS: tuple[Row, ...] = (
    # customers
    Row("customer_me", "GET", "/api/customers/me", expect(404, 404, 404, 404, 404, 404, 200, 200)),
    Row(
        "customer_lookup",
        "GET",
        "/api/customers/lookup",
        staff(200),
        body=lambda w, r: {"kind": "email", "value": w.identity.value.upper()},
    ),
    Row("customer_list", "GET", "/api/customers", staff(200)),
    Row(
        "customer_create",
        "POST",
        "/api/customers",
        staff(201),
        body=lambda w, r: {"name": "New", "identities": [{"kind": "phone", "value": "4155550199"}]},
    ),
    Row("customer_get", "GET", "/api/customers/{customer_id}", staff(200), _customer),
    Row(
        "customer_update",
        "PATCH",
        "/api/customers/{customer_id}",
        staff(200),
        _customer,
        lambda w, r: {"tier": "vip"},
    ),
    Row(
        "customer_delete",
        "DELETE",
        "/api/customers/{customer_id}",
        expect(204, 204, 403, 403, 403, 403, 403, 403),
        lambda w, r: {"customer_id": w.deletable.pk},
    ),
    Row(
        "identity_add",
        "POST",
        "/api/customers/{customer_id}/identities",
        staff(201),
        _customer,
        lambda w, r: {"kind": "chat", "value": "visitor-1"},
    ),
    Row(
        "identity_remove",
        "DELETE",
        "/api/customers/{customer_id}/identities/{identity_id}",
        staff(204),
        lambda w, r: {"customer_id": w.customer.pk, "identity_id": w.identity.pk},
    ),
    Row(
        "customer_merge",
        "POST",
        "/api/customers/{customer_id}/merge",
        staff(201),
        lambda w, r: {"customer_id": w.merge_target.pk},
        lambda w, r: {"source_id": w.merge_source.pk},
    ),
    Row(
        "customer_merge_revert",
        "POST",
        "/api/customers/merges/{merge_id}/revert",
        staff(200),
        lambda w, r: {"merge_id": w.merge.pk},
    ),
    Row("order_list", "GET", "/api/customers/{customer_id}/orders", staff(200), _customer),
    Row(
        "order_create",
        "POST",
        "/api/customers/{customer_id}/orders",
        staff(201),
        _customer,
        lambda w, r: {"product": "Socks", "amount": "9.50", "currency": "EUR"},
    ),
    # organisations
    Row("organisation_list", "GET", "/api/organisations", staff(200)),
    Row(
        "organisation_create",
        "POST",
        "/api/organisations",
        staff(201),
        body=lambda w, r: {"name": "Globex", "domains": ["globex.example"]},
    ),
    Row("organisation_get", "GET", "/api/organisations/{organisation_id}", staff(200), _org),
    Row(
        "organisation_update",
        "PATCH",
        "/api/organisations/{organisation_id}",
        staff(200),
        _org,
        lambda w, r: {"shared_tickets": True},
    ),
    Row(
        "organisation_member_add",
        "POST",
        "/api/organisations/{organisation_id}/members",
        staff(201),
        _org,
        lambda w, r: {"customer_id": w.customer.pk, "primary": True},
    ),
    # tickets
    Row("ticket_list", "GET", "/api/tickets", everyone(200)),
    Row(
        "ticket_create",
        "POST",
        "/api/tickets",
        expect(201, 201, 201, 201, 403, 403, 201, 201),
        body=_new_ticket,
    ),
    Row(
        "ticket_get",
        "GET",
        TICKETS,
        expect(200, 200, 200, 404, 200, 404, 200, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "ticket_get",
        "GET",
        TICKETS,
        expect(200, 200, 200, 200, 404, 404, 404, 404),
        lambda w, r: {"ticket_id": w.ticket_n.pk},
        variant="ticket without a team: every agent",
        ticket_param="ticket_id",
    ),
    Row(
        "ticket_get",
        "GET",
        TICKETS,
        expect(200, 200, 404, 200, 404, 404, 404, 404),
        lambda w, r: {"ticket_id": w.ticket_b.pk},
        variant="team B ticket",
        ticket_param="ticket_id",
    ),
    Row(
        "ticket_get",
        "GET",
        TICKETS,
        expect(404, 404, 404, 404, 404, 404, 404, 404),
        lambda w, r: {"ticket_id": MISSING_ID},
        variant="no such ticket",
    ),
    Row(
        "ticket_update",
        "PATCH",
        TICKETS,
        expect(200, 200, 200, 404, 403, 404, 403, 404),
        _x,
        lambda w, r: {"priority": "high"},
        ticket_param="ticket_id",
    ),
    Row(
        "message_list",
        "GET",
        TICKETS + "/messages",
        expect(200, 200, 200, 404, 200, 404, 200, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "message_create",
        "POST",
        TICKETS + "/messages",
        expect(201, 201, 201, 404, 403, 404, 201, 404),
        _x,
        lambda w, r: {"text": "A public reply", "visibility": "public"},
        variant="public reply",
        ticket_param="ticket_id",
    ),
    Row(
        "message_create",
        "POST",
        TICKETS + "/messages",
        expect(201, 201, 201, 404, 201, 404, 403, 404),
        _x,
        lambda w, r: {"text": "An internal note", "visibility": "internal"},
        variant="internal note",
        ticket_param="ticket_id",
    ),
    Row(
        "ticket_event_list",
        "GET",
        TICKETS + "/events",
        expect(200, 200, 200, 404, 200, 404, 403, 403),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "collaborator_add",
        "POST",
        TICKETS + "/collaborators",
        expect(201, 201, 201, 404, 403, 404, 403, 404),
        _x,
        lambda w, r: {"user_id": w.user(LIGHT_OTHER).pk},
        ticket_param="ticket_id",
    ),
    # merge, split, links
    Row(
        "ticket_merge",
        "POST",
        TICKETS + "/merge",
        expect(200, 200, 200, 404, 403, 404, 403, 404),
        _x,
        lambda w, r: {"source_ids": [w.ticket_dup.pk]},
        ticket_param="ticket_id",
    ),
    Row(
        "message_split",
        "POST",
        TICKETS + "/messages/{message_id}/split",
        expect(201, 201, 201, 404, 403, 404, 403, 404),
        lambda w, r: {"ticket_id": w.ticket_x.pk, "message_id": w.second_message_id},
        ticket_param="ticket_id",
    ),
    Row(
        "link_list",
        "GET",
        TICKETS + "/links",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "link_create",
        "POST",
        TICKETS + "/links",
        expect(201, 201, 201, 404, 403, 404, 403, 404),
        _x,
        lambda w, r: {"to_ticket_id": w.ticket_n.pk, "kind": "related"},
        ticket_param="ticket_id",
    ),
    Row(
        "link_delete",
        "DELETE",
        TICKETS + "/links/{link_id}",
        expect(204, 204, 204, 404, 403, 404, 403, 404),
        lambda w, r: {"ticket_id": w.ticket_x.pk, "link_id": w.link.pk},
        ticket_param="ticket_id",
    ),
    # time tracking
    Row(
        "time_entry_list",
        "GET",
        TICKETS + "/time-entries",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "time_entry_create",
        "POST",
        TICKETS + "/time-entries",
        expect(201, 201, 201, 404, 201, 404, 403, 404),
        _x,
        lambda w, r: {"minutes": 15, "note": "Phone call"},
        ticket_param="ticket_id",
    ),
    Row(
        "timer_start",
        "POST",
        TICKETS + "/time-entries/start",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "timer_stop",
        "POST",
        TICKETS + "/time-entries/stop",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        lambda w, r: {"ticket_id": w.own_time_entry(r, running=True).ticket_id},
        ticket_param="ticket_id",
    ),
    Row(
        "time_entry_delete",
        "DELETE",
        TICKETS + "/time-entries/{entry_id}",
        expect(204, 204, 204, 404, 204, 404, 403, 404),
        lambda w, r: {"ticket_id": w.ticket_x.pk, "entry_id": w.own_time_entry(r).pk},
        variant="own entry",
        ticket_param="ticket_id",
    ),
    Row(
        "time_entry_delete",
        "DELETE",
        TICKETS + "/time-entries/{entry_id}",
        expect(204, 204, 403, 404, 403, 404, 403, 404),
        lambda w, r: {
            "ticket_id": w.ticket_x.pk,
            "entry_id": TimeEntryFactory(ticket=w.ticket_x, user=UserFactory()).pk,
        },
        variant="a colleague's entry",
        ticket_param="ticket_id",
    ),
    Row("time_entry_export", "GET", "/api/tickets/time-entries/export.csv", staff(200)),
    # swarming, side conversations, experts
    Row(
        "swarm_request",
        "POST",
        TICKETS + "/swarm",
        expect(200, 200, 200, 404, 403, 404, 403, 404),
        _x,
        lambda w, r: {"note": "Help!"},
        ticket_param="ticket_id",
    ),
    Row(
        "swarm_resolve",
        "DELETE",
        TICKETS + "/swarm",
        expect(200, 200, 200, 404, 403, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "side_conversation_list",
        "GET",
        TICKETS + "/side-conversations",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    Row(
        "side_conversation_create",
        "POST",
        TICKETS + "/side-conversations",
        expect(201, 201, 201, 404, 201, 404, 403, 404),
        _x,
        lambda w, r: {"subject": "Warranty?", "participant_ids": [w.user(SUPERVISOR).pk]},
        ticket_param="ticket_id",
    ),
    Row(
        "side_message_create",
        "POST",
        TICKETS + "/side-conversations/{conversation_id}/messages",
        expect(201, 201, 201, 404, 201, 404, 403, 404),
        lambda w, r: {"ticket_id": w.ticket_x.pk, "conversation_id": w.conversation.pk},
        lambda w, r: {"text": "Any news?"},
        ticket_param="ticket_id",
    ),
    Row(
        "side_conversation_close",
        "POST",
        TICKETS + "/side-conversations/{conversation_id}/close",
        expect(200, 200, 200, 404, 200, 404, 403, 404),
        lambda w, r: {"ticket_id": w.ticket_x.pk, "conversation_id": w.conversation.pk},
        ticket_param="ticket_id",
    ),
    Row(
        "expert_list",
        "GET",
        TICKETS + "/experts",
        expect(200, 200, 200, 404, 403, 404, 403, 404),
        _x,
        ticket_param="ticket_id",
    ),
    # the caller's notifications
    Row("notification_list", "GET", "/api/tickets/notifications", everyone(200)),
    Row(
        "notifications_read",
        "POST",
        "/api/tickets/notifications/read",
        everyone(200),
        body=lambda w, r: {"all": True},
    ),
    # canned responses
    Row(
        "canned_response_list",
        "GET",
        "/api/tickets/canned-responses",
        expect(200, 200, 200, 200, 200, 200, 403, 403),
    ),
    Row(
        "canned_response_create",
        "POST",
        "/api/tickets/canned-responses",
        expect(201, 201, 201, 201, 201, 201, 403, 403),
        body=lambda w, r: {"title": "Thanks", "body": "Thanks {{requester.name}}!"},
        variant="personal",
    ),
    Row(
        "canned_response_update",
        "PATCH",
        "/api/tickets/canned-responses/{canned_id}",
        expect(200, 200, 403, 403, 403, 403, 403, 403),
        lambda w, r: {"canned_id": w.canned_shared.pk},
        lambda w, r: {"body": "Hello!"},
        variant="shared",
    ),
    Row(
        "canned_response_update",
        "PATCH",
        "/api/tickets/canned-responses/{canned_id}",
        expect(200, 200, 200, 200, 200, 200, 403, 403),
        lambda w, r: {"canned_id": w.canned_own(r).pk},
        lambda w, r: {"body": "Hello!"},
        variant="own",
    ),
    Row(
        "canned_response_delete",
        "DELETE",
        "/api/tickets/canned-responses/{canned_id}",
        expect(204, 204, 403, 403, 403, 403, 403, 403),
        lambda w, r: {"canned_id": w.canned_shared.pk},
        variant="shared",
    ),
    # custom field definitions
    Row(
        "custom_field_list",
        "GET",
        "/api/tickets/custom-fields",
        expect(200, 200, 200, 200, 200, 200, 403, 403),
    ),
    Row(
        "custom_field_create",
        "POST",
        "/api/tickets/custom-fields",
        admin_only(201),
        body=lambda w, r: {"key": "size", "label": "Size", "type": "dropdown", "options": ["S"]},
    ),
    Row(
        "custom_field_update",
        "PATCH",
        "/api/tickets/custom-fields/{field_id}",
        admin_only(200),
        lambda w, r: {"field_id": w.custom_field.pk},
        lambda w, r: {"required_on_solve": True},
    ),
    Row(
        "custom_field_delete",
        "DELETE",
        "/api/tickets/custom-fields/{field_id}",
        admin_only(204),
        lambda w, r: {"field_id": w.custom_field.pk},
    ),
    # the event feed
    Row("event_list", "GET", "/api/events", expect(200, 200, 403, 403, 403, 403, 403, 403)),
    # users and teams
    Row("user_list", "GET", "/api/users", admin_only(200)),
    Row(
        "user_create",
        "POST",
        "/api/users",
        admin_only(201),
        body=lambda w, r: {"username": "newbie", "role": "agent", "team_ids": [w.team_a.pk]},
    ),
    Row(
        "user_get",
        "GET",
        "/api/users/{user_id}",
        admin_only(200),
        lambda w, r: {"user_id": w.user(AGENT_A).pk},
    ),
    Row(
        "user_update",
        "PATCH",
        "/api/users/{user_id}",
        admin_only(200),
        lambda w, r: {"user_id": w.user(AGENT_B).pk},
        lambda w, r: {"display_name": "Bee"},
    ),
    Row("team_list", "GET", "/api/teams", admin_only(200)),
    Row("team_create", "POST", "/api/teams", admin_only(201), body=lambda w, r: {"name": "VIP"}),
    Row(
        "team_update",
        "PATCH",
        "/api/teams/{team_id}",
        admin_only(200),
        lambda w, r: {"team_id": w.team_a.pk},
        lambda w, r: {"description": "First line"},
    ),
    # the caller's own tokens
    Row("token_list", "GET", "/api/tokens", everyone(200)),
    Row(
        "token_revoke",
        "DELETE",
        "/api/tokens/{token_id}",
        everyone(204),
        lambda w, r: {"token_id": w.spare_tokens[r]},
        variant="own token",
    ),
)

CASES = [pytest.param(row, role, id=f"{row.id} as {role}") for row in ROWS for role in ROLES]


# --------------------------------------------------------------------------- requests


def _client(world: World, role: str) -> tuple[Client, dict[str, str]]:
    if role == ANONYMOUS:
        return Client(), {}
    user = world.user(ADMIN if role == ADMIN_READ else role)
    secret = api_token_create(
        user=user, name="matrix", scope="read" if role == ADMIN_READ else "write"
    ).secret
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def send(client: Client, headers: dict[str, str], method: str, path: str, body: Any) -> Any:
    if method == "GET":
        return client.get(path, body or {}, **headers)
    if method == "DELETE":
        return client.delete(path, **headers)
    call = client.post if method == "POST" else client.patch
    return call(path, body or {}, content_type="application/json", **headers)


@pytest.mark.parametrize(("row", "role"), CASES)
def test_permission_matrix(row: Row, role: str) -> None:
    world = World()
    client, headers = _client(world, role)
    if row.name == "token_revoke":
        owner = world.user(ADMIN if role in (ANONYMOUS, ADMIN_READ) else role)
        world.spare_tokens[role] = api_token_create(user=owner, name="spare").token.pk
    ids = row.ids(world, role)
    body = row.body(world, role) if row.body else None

    response = send(client, headers, row.method, row.route.format(**ids), body)

    expected = row.expected(role)
    assert response.status_code == expected, response.content
    if expected == 204:
        assert response.content == b""
        return
    if response.get("Content-Type", "").startswith("text/csv"):
        assert expected == 200
        assert b"".join(response.streaming_content).startswith(b"entry_id,")
        return
    data = response.json()
    if expected >= 400:
        assert set(data) == {"error"}
        assert data["error"]["code"] == ERROR_CODES[expected]
        assert data["error"]["message"]
    else:
        assert "error" not in data
    if expected == 404 and row.ticket_param:
        # Indistinguishable from a ticket that does not exist: nothing leaks.
        missing = send(
            client,
            headers,
            row.method,
            row.route.format(**{**ids, row.ticket_param: MISSING_ID}),
            body,
        )
        assert (missing.status_code, missing.json()) == (404, data)


def _url_names() -> set[str]:
    patterns, _, _ = api.urls
    not_operations = {"openapi-json", "openapi-view", "api-root", "api-not-found"}
    names = {getattr(p, "name", None) for p in patterns}
    return {name for name in names if name and name not in not_operations}


def test_matrix_covers_every_route() -> None:
    """A new endpoint without a matrix row fails here."""
    assert {row.name for row in ROWS} == _url_names()
    schema = api.get_openapi_schema(path_prefix="/api/")
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    assert {(row.method, row.route) for row in ROWS} == operations
    assert len({row.id for row in ROWS}) == len(ROWS), "two rows with the same id"


# --------------------------------------------------------------------------- who sees what


VISIBLE = {
    ADMIN: {"X", "B", "N"},
    SUPERVISOR: {"X", "B", "N"},
    AGENT_A: {"X", "N"},
    AGENT_B: {"B", "N"},
    LIGHT_INVITED: {"X"},
    LIGHT_OTHER: set(),
    CUSTOMER_X: {"X"},
    CUSTOMER_OTHER: set(),
    ADMIN_READ: {"X", "B", "N"},
}


def _listed(world: World, role: str, **params: Any) -> set[str]:
    world.all_tickets()
    client, headers = _client(world, role)
    response = client.get("/api/tickets", params, **headers)
    assert response.status_code == 200, response.content
    names = world.all_tickets()
    return {names[item["id"]] for item in response.json()["items"]}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_ticket_list_shows_exactly_the_visible_tickets(role: str) -> None:
    world = World()
    assert _listed(world, role) == VISIBLE[role]


def test_agents_see_every_ticket_when_the_setting_is_on(settings: Any) -> None:
    settings.AGENTS_SEE_ALL_TICKETS = True
    world = World()
    assert _listed(world, AGENT_A) == {"X", "B", "N"}
    client, headers = _client(world, AGENT_B)
    assert client.get(f"/api/tickets/{world.ticket_x.pk}", **headers).status_code == 200
    # light agents and customers are not agents
    assert _listed(world, LIGHT_OTHER) == set()
    assert _listed(world, CUSTOMER_OTHER) == set()


def test_agent_outside_the_team_sees_tickets_assigned_to_or_shared_with_them() -> None:
    world = World()
    agent_b = world.user(AGENT_B)
    ticket_services.ticket_update(ticket=world.ticket_x, assignee=agent_b)
    assert _listed(world, AGENT_B) == {"X", "B", "N"}
    ticket_services.ticket_update(ticket=world.ticket_x, assignee=None)
    assert _listed(world, AGENT_B) == {"B", "N"}
    ticket_services.ticket_collaborator_add(ticket=world.ticket_x, user=agent_b)
    assert _listed(world, AGENT_B) == {"X", "B", "N"}


def test_customers_of_an_organisation_sharing_tickets_see_each_others() -> None:
    world = World()
    org = customer_services.organisation_create(name="Shared Inc")
    for role in (CUSTOMER_X, CUSTOMER_OTHER):
        customer_services.customer_organisation_add(
            customer=world.user(role).customer, organisation=org
        )
    assert _listed(world, CUSTOMER_OTHER) == set()  # sharing is off by default
    customer_services.organisation_update(organisation=org, shared_tickets=True)
    assert _listed(world, CUSTOMER_OTHER) == {"X"}
    client, headers = _client(world, CUSTOMER_OTHER)
    assert client.get(f"/api/tickets/{world.ticket_x.pk}", **headers).status_code == 200
    # still not staff: no changes, no timeline
    patch = client.patch(
        f"/api/tickets/{world.ticket_x.pk}",
        {"priority": "urgent"},
        content_type="application/json",
        **headers,
    )
    assert patch.status_code == 403


def test_invited_light_agent_reads_and_notes_but_never_replies_or_changes() -> None:
    world = World()
    client, headers = _client(world, LIGHT_INVITED)
    url = f"/api/tickets/{world.ticket_x.pk}"

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(path, body, content_type="application/json", **headers)

    note = post(f"{url}/messages", {"text": "Looks like a firmware bug", "visibility": "internal"})
    assert note.status_code == 201
    assert note.json()["visibility"] == "internal"
    reply = post(f"{url}/messages", {"text": "Dear customer", "visibility": "public"})
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "permission_denied"
    assert world.ticket_x.messages.filter(visibility="public").count() == 1  # only the customer's
    created = post("/api/tickets", _new_ticket(world, LIGHT_INVITED))
    assert created.status_code == 403


def test_deactivated_users_token_stops_working() -> None:
    world = World()
    client, headers = _client(world, AGENT_A)
    assert client.get("/api/tickets", **headers).status_code == 200
    User.objects.filter(pk=world.user(AGENT_A).pk).update(is_active=False)
    response = client.get("/api/tickets", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
