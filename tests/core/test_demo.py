"""`frontline demo`: varied, realistic, written through the services, and idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from frontline.accounts.models import AgentProfile, AgentSkill, Role, Team, User
from frontline.core import bus
from frontline.core.demo import DEMO_PREFIX, build_plan
from frontline.core.models import DomainEvent
from frontline.customers.models import (
    Customer,
    CustomerOrganisation,
    Identity,
    Order,
    Organisation,
)
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Attachment, Message, Tag, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

SMALL = {"customers": 8, "tickets": 30}
COUNTED = (
    User,
    Team,
    AgentProfile,
    AgentSkill,
    Customer,
    Identity,
    Organisation,
    CustomerOrganisation,
    Order,
    Ticket,
    Message,
    Attachment,
    Tag,
    TicketEvent,
    DomainEvent,
)


def run(**options):
    out = StringIO()
    call_command("demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def check_statuses_and_channels():
    assert Ticket.objects.count() == 30
    assert set(Ticket.objects.values_list("status", flat=True)) == {s.value for s in Status}
    channels = set(Ticket.objects.values_list("channel", flat=True))
    assert len(channels) >= 6
    assert {"email", "chat", "portal"} <= channels


def check_staff_teams_skills_and_portal_user():
    assert set(Team.objects.values_list("name", flat=True)) == {
        "Tier 1 Support",
        "Billing",
        "Technical",
    }
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.check_password("frontline-demo")
    assert User.objects.filter(role=Role.AGENT).count() == 8
    assert User.objects.filter(role=Role.SUPERVISOR).count() == 1
    assert User.objects.filter(role=Role.LIGHT_AGENT).count() == 1
    for team in Team.objects.all():
        assert team.members.count() >= 3
    agent = User.objects.get(username="lukas.berger")
    assert agent.check_password("frontline-demo")
    profile = agent.agent_profile
    assert "de" in profile.languages and profile.capacity["email"] > 0
    levels = list(AgentSkill.objects.values_list("level", flat=True))
    assert levels and all(1 <= level <= 5 for level in levels)
    portal = Customer.objects.get(user__isnull=False)
    assert portal.user.role == Role.CUSTOMER
    assert portal.user.check_password("frontline-demo")


def check_customers():
    customers = Customer.objects.all()
    assert customers.count() == 8
    for customer in customers:
        assert customer.identities.filter(kind="email").exists()
    kinds = set(Identity.objects.values_list("kind", "network"))
    assert {("phone", ""), ("chat", ""), ("external", "shop")} <= kinds
    assert {("social", "facebook"), ("social", "instagram"), ("social", "twitter")} <= kinds
    phones = Identity.objects.filter(kind="phone").values_list("value", flat=True)
    assert all(p.startswith("+") and p[1:].isdigit() for p in phones)
    assert Customer.objects.filter(orders__isnull=False).distinct().count() >= 6
    order = Order.objects.first()
    assert order.product and order.sku and order.amount > 0 and len(order.currency) == 3
    assert CustomerOrganisation.objects.filter(is_primary=True).exists()


def check_conversations_went_through_the_spine():
    inbound = Message.objects.filter(direction="inbound")
    assert inbound.exists()
    assert Message.objects.filter(direction="outbound").exists()
    assert Message.objects.filter(direction="internal").exists()
    # every customer message came through the ingest service with a stable dedupe key
    assert not inbound.filter(provider_message_id="").exists()
    first_ids = []
    for ticket in Ticket.objects.order_by("id"):
        first = ticket.messages.order_by("created_at", "id").first()
        assert first.direction == "inbound"
        first_ids.append(first.provider_message_id)
        assert 2 <= ticket.message_count <= 6
    # one planned conversation per ticket, in order (ids differ from plan numbers on
    # PostgreSQL, whose sequences are not reset between tests)
    assert first_ids == [f"{DEMO_PREFIX}{n}" for n in range(1, len(first_ids) + 1)]
    assert TicketEvent.objects.filter(kind="created").count() == 30


def check_timestamps_spread_over_the_past():
    now = timezone.now()
    tickets = Ticket.objects.all()
    assert not tickets.filter(created_at__gt=now).exists()
    assert not Message.objects.filter(created_at__gt=now).exists()
    oldest = tickets.order_by("created_at").first().created_at
    assert now - timedelta(days=70) < oldest < now - timedelta(days=5)
    for ticket in tickets.filter(status__in=["solved", "closed"]):
        assert ticket.solved_at is not None and ticket.solved_at <= now
    for ticket in tickets.filter(status="closed"):
        assert ticket.closed_at is not None and ticket.solved_at is not None
        assert ticket.closed_at >= ticket.solved_at
    # timeline rows moved with their tickets instead of all saying "just now"
    recent = now - timedelta(minutes=1)
    for model in (TicketEvent, DomainEvent, Attachment):
        assert model.objects.filter(created_at__gt=recent).count() < model.objects.count() / 10


def test_demo_seeds_a_varied_helpdesk():
    output = run()
    assert output.strip().endswith(
        "Log in at http://127.0.0.1:8000/login/ as admin / frontline-demo"
    )
    check_statuses_and_channels()
    check_staff_teams_skills_and_portal_user()
    check_customers()
    check_conversations_went_through_the_spine()
    check_timestamps_spread_over_the_past()
    assert bus._handlers.get("message.created"), "subscribers are back after seeding"
    from frontline.channels.selectors import mailbox_for_address

    assert mailbox_for_address("Support+t1@Example.com") is not None  # mail it and see


def test_running_again_changes_nothing():
    run()
    before = counts()
    output = run()
    assert counts() == before
    assert "0 tickets and 0 messages created (30 tickets already there)" in output

    output = run(once=True, tickets=60, customers=20)
    assert counts() == before
    assert "already present" in output
    assert output.strip().endswith(
        "Log in at http://127.0.0.1:8000/login/ as admin / frontline-demo"
    )


def test_once_seeds_an_empty_database():
    output = run(once=True, customers=3, tickets=8)
    assert Ticket.objects.count() == 8
    assert "Log in at" in output


def test_login_hint_uses_url_and_password():
    output = run(customers=2, tickets=6, url="http://demo.local:9000/", admin_password="s3cret-pw")
    assert output.strip().splitlines()[-1] == (
        "Log in at http://demo.local:9000/login/ as admin / s3cret-pw"
    )
    assert User.objects.get(username="admin").check_password("s3cret-pw")


def test_existing_admin_keeps_its_password():
    User.objects.create_user(username="admin", password="the-real-one", role=Role.ADMIN)
    output = run(customers=1, tickets=0)
    assert User.objects.get(username="admin").check_password("the-real-one")
    assert "as admin (with its existing password)" in output


def test_short_password_is_refused():
    with pytest.raises(CommandError):
        run(admin_password="short")


def test_plan_is_deterministic_and_seed_dependent():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def fingerprint(seed):
        plan = build_plan(seed=seed, customers=12, tickets=40, now=now)
        return (
            [(c.name, c.email, c.phone, len(c.orders)) for c in plan.customers],
            [(t.channel, t.status, t.subject, [s.text for s in t.steps]) for t in plan.tickets],
        )

    assert fingerprint(7) == fingerprint(7)
    assert fingerprint(7) != fingerprint(8)


def test_plan_scales_and_stays_in_the_past():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    plan = build_plan(seed=42, customers=50, tickets=300, now=now)
    assert len(plan.customers) == 50 and len(plan.tickets) == 300
    assert {t.status for t in plan.tickets} == {s.value for s in Status}
    assert len({t.channel for t in plan.tickets}) == 11
    assert {c.language for c in plan.customers} >= {"en", "es", "de", "fr", "pt"}
    assert len({t.language for t in plan.tickets}) == 5
    assert all(s.at < now for t in plan.tickets for s in t.steps)
    assert min(t.steps[0].at for t in plan.tickets) > now - timedelta(days=61)
    emails = [c.email for c in plan.customers]
    assert len(set(emails)) == len(emails)


def test_demo_offers_a_chat_widget_on_its_own_address():
    from io import StringIO

    from django.core.management import call_command

    from frontline.channels.models import ChatWidget

    out = StringIO()
    call_command(
        "demo", "--customers", "2", "--tickets", "0", "--url", "http://h.test:9000", stdout=out
    )
    call_command("demo", "--once", "--url", "http://other.test", stdout=out)
    widget = ChatWidget.objects.get()
    assert widget.allowed_origins == ["http://h.test:9000", "http://other.test"]
    assert "http://other.test/chat/trailpeak-demo/try" in out.getvalue()
