"""The ticket list as a working queue: views and counts per role, filters, sorts, pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.tickets.models import Tag, Ticket
from frontline.web import selectors
from tests.factories import (
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    """Ticket ids in the list, in order."""
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-href="/tickets/(\d+)/"', response.content.decode())]


def nav_counts(response) -> dict[str, int]:
    html = response.content.decode()
    pairs = re.findall(
        r'href="/tickets/\?view=([\w-]+)"[^>]*>.*?<span class="nav-count"[^>]*>(\d+)(\+?)</span>',
        html,
        flags=re.S,
    )
    return {key: int(n) + (1 if more else 0) for key, n, more in pairs}  # "3+" -> 4


@pytest.fixture
def world():
    """Two teams; an agent in team A; tickets in every corner the views care about."""
    team_a, team_b = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    agent = UserFactory(role=Role.AGENT, username="agent")
    team_a.members.add(agent)
    other = UserFactory(role=Role.AGENT, username="other")
    light = UserFactory(role=Role.LIGHT_AGENT, username="light")
    t = {
        "a_open": TicketFactory(subject="A open", team=team_a, status="open"),
        "a_new": TicketFactory(subject="A new", team=team_a, status="new"),
        "a_pending": TicketFactory(subject="A pending", team=team_a, status="pending"),
        "a_solved": TicketFactory(subject="A solved", team=team_a, status="solved"),
        "b_open": TicketFactory(subject="B open secret", team=team_b, status="open"),
        "b_mine": TicketFactory(subject="B mine", team=team_b, status="open", assignee=agent),
        "none_new": TicketFactory(subject="No team new", status="new"),
        "other_on_hold": TicketFactory(subject="Other's on hold", status="on_hold", assignee=other),
        "closed": TicketFactory(subject="Closed long ago", status="closed", team=team_a),
    }
    t["b_open"].collaborators.add(light)
    return {"team_a": team_a, "team_b": team_b, "agent": agent, "other": other, "light": light, **t}


def ids(world, *names) -> set[int]:
    return {world[n].pk for n in names}


def test_admin_sees_every_view_and_both_team_queues(world, admin_user):
    client = logged_in(admin_user)
    page = client.get("/tickets/?view=all")
    assert set(listed(page)) == {t.pk for t in Ticket.objects.all()}
    counts = nav_counts(page)
    a, b = world["team_a"].pk, world["team_b"].pk
    assert counts == {
        "mine": 0,
        "unassigned": 4,  # new/open without assignee: a_open, a_new, b_open, none_new
        "open": 5,
        "chats": 0,
        "swarm": 0,
        f"team-{a}": 2,
        f"team-{b}": 2,
        "pending": 2,
        "solved": 2,
        "all": 9,
    }
    html = page.content.decode()
    html = html[html.index('id="view-nav"') :]
    assert html.index("My open tickets") < html.index("Unassigned") < html.index("Billing")
    assert html.index("Shipping") < html.index("Pending") < html.index("All tickets")
    assert set(listed(client.get(f"/tickets/?view=team-{a}"))) == ids(world, "a_open", "a_new")


def test_agent_sees_own_teams_unteamed_and_assigned_tickets(world):
    client = logged_in(world["agent"])
    visible = ids(
        world, "a_open", "a_new", "a_pending", "a_solved", "b_mine", "none_new", "other_on_hold"
    ) | ids(world, "closed")
    page = client.get("/tickets/?view=all")
    assert set(listed(page)) == visible
    counts = nav_counts(page)
    assert f"team-{world['team_a'].pk}" in counts
    assert f"team-{world['team_b'].pk}" not in counts  # not a member: no queue
    assert counts["mine"] == 1 and counts["all"] == len(visible)
    assert set(listed(client.get("/tickets/?view=mine"))) == ids(world, "b_mine")
    assert set(listed(client.get("/tickets/?view=unassigned"))) == ids(
        world, "a_open", "a_new", "none_new"
    )
    assert set(listed(client.get("/tickets/?view=pending"))) == ids(
        world, "a_pending", "other_on_hold"
    )
    assert set(listed(client.get("/tickets/?view=solved"))) == ids(world, "a_solved", "closed")
    # a team queue the agent may not see falls back to the default view
    assert b"B open secret" not in client.get(f"/tickets/?view=team-{world['team_b'].pk}").content


def test_light_agent_sees_only_invited_tickets_and_no_bulk_bar(world):
    page = logged_in(world["light"]).get("/tickets/?view=all")
    assert listed(page) == [world["b_open"].pk]
    counts = nav_counts(page)
    assert counts["all"] == 1 and not any(k.startswith("team-") for k in counts)
    html = page.content.decode()
    assert 'name="ids"' not in html and "bulk-bar" not in html


@pytest.mark.parametrize("who", ["admin", "agent", "light"])
def test_every_nav_count_equals_what_the_view_lists(world, admin_user, who):
    user = admin_user if who == "admin" else world[who]
    client = logged_in(user)
    counts = nav_counts(client.get("/tickets/"))
    assert counts
    for key, count in counts.items():
        assert len(listed(client.get(f"/tickets/?view={key}"))) == count, key


def test_counts_for_filters_on_tags_text_and_requester_match_the_list(world, admin_user):
    """Saved views may use any filter; their count goes through the list's own filter."""
    requester = CustomerFactory()
    IdentityFactory(customer=requester, value="ana@example.com")
    tagged = TicketFactory(subject="Refund please", requester=requester, status="open")
    tagged.tags.add(Tag.objects.create(name="refund"))
    views = [
        selectors.QueueView("t", "t", "tag", selectors.WorkspaceFilters(tag="refund")),
        selectors.QueueView("q", "q", "tag", selectors.WorkspaceFilters(q="refund")),
        selectors.QueueView(
            "r", "r", "tag", selectors.WorkspaceFilters(requester="ana@example.com")
        ),
        selectors.QueueView(
            "p", "p", "tag", selectors.WorkspaceFilters(priority=("normal",), channel="email")
        ),
    ]
    counts = selectors.view_counts(admin_user, views)
    assert counts == {"t": 1, "q": 1, "r": 1, "p": Ticket.objects.count()}


def test_list_and_counts_take_a_bounded_number_of_queries(
    world, admin_user, django_assert_max_num_queries
):
    client = logged_in(admin_user)
    client.get("/tickets/")  # warm the session
    tag = Tag.objects.create(name="vip")
    for i in range(50):
        ticket = TicketFactory(subject=f"Load {i}", status="open", assignee=world["other"])
        ticket.tags.add(tag)
    for extra_team in range(3):
        TeamFactory(name=f"Extra {extra_team}")
    with django_assert_max_num_queries(12):
        page = client.get("/tickets/?view=all")
    assert len(listed(page)) == selectors.PAGE_SIZE
    agent_client = logged_in(world["agent"])
    with django_assert_max_num_queries(12):
        page = agent_client.get("/tickets/?view=open&sort=priority")
    assert len(listed(page)) > 40


def test_filters_combine_and_replace_the_view(world, admin_user):
    client = logged_in(admin_user)
    ana = CustomerFactory(name="Ana")
    IdentityFactory(customer=ana, value="ana@example.com")
    urgent = TicketFactory(
        subject="Urgent chat", requester=ana, channel="chat", priority="urgent", status="open"
    )
    urgent.tags.add(Tag.objects.create(name="vip"))
    assert listed(client.get("/tickets/?f=1&priority=urgent")) == [urgent.pk]
    assert listed(client.get("/tickets/?f=1&channel=chat&status=open")) == [urgent.pk]
    assert listed(client.get("/tickets/?f=1&tag=VIP")) == [urgent.pk]
    assert listed(client.get("/tickets/?f=1&requester=Ana@Example.com")) == [urgent.pk]
    assert listed(client.get(f"/tickets/?f=1&requester={ana.pk}")) == [urgent.pk]
    assert set(listed(client.get("/tickets/?f=1&status=pending&status=on_hold"))) == ids(
        world, "a_pending", "other_on_hold"
    )
    assert listed(client.get(f"/tickets/?f=1&assignee={world['other'].pk}")) == [
        world["other_on_hold"].pk
    ]
    assert set(listed(client.get(f"/tickets/?f=1&team={world['team_b'].pk}"))) == ids(
        world, "b_open", "b_mine"
    )
    assert set(listed(logged_in(world["agent"]).get("/tickets/?f=1&assignee=me"))) == ids(
        world, "b_mine"
    )
    # f=1 replaces the view's filters; without it a parameter refines the view
    assert world["a_solved"].pk in listed(client.get("/tickets/?view=open&f=1&q=A+solved"))
    assert listed(client.get("/tickets/?view=open&q=A+solved")) == []
    page = client.get("/tickets/?view=open&f=1&priority=urgent")
    assert b"filtered" in page.content
    assert b'name="priority" value="urgent" checked' in page.content


def test_top_bar_search_searches_every_ticket(world, admin_user):
    page = logged_in(admin_user).get("/tickets/?q=solved")
    assert listed(page) == [world["a_solved"].pk]
    assert b'value="solved"' in page.content  # kept in the search box


@pytest.mark.parametrize(
    "query, field",
    [
        ("f=1&status=bogus", "status"),
        ("f=1&priority=extreme", "priority"),
        ("f=1&channel=pigeon", "channel"),
        ("f=1&assignee=999999", "assignee"),
        ("f=1&assignee=someone", "assignee"),
        ("f=1&team=999999", "team"),
        ("f=1&requester=not%20an%20address", "requester"),
        ("sort=sideways", "sort"),
        ("f=1&q=" + "x" * 201, "q"),
    ],
)
def test_bad_filters_explain_themselves_instead_of_failing(world, admin_user, query, field):
    page = logged_in(admin_user).get(f"/tickets/?view=open&{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'role="alert"' in html and f"<li>{field}:" in html
    assert set(listed(page)) == ids(world, "a_open", "a_new", "b_open", "b_mine", "none_new")


def test_agent_assignee_must_be_an_agent(world, admin_user):
    customer_like = UserFactory(role=Role.LIGHT_AGENT)
    page = logged_in(admin_user).get(f"/tickets/?f=1&assignee={customer_like.pk}")
    assert b"no agent with id" in page.content


def _age(ticket, **changes):
    Ticket.objects.filter(pk=ticket.pk).update(**changes)


def test_sorts(admin_user):
    now = timezone.now()
    low = TicketFactory(subject="low", priority="low", status="open")
    urgent = TicketFactory(subject="urgent", priority="urgent", status="open")
    high = TicketFactory(subject="high", priority="high", status="open")
    normal = TicketFactory(subject="normal", priority="normal", status="open")
    _age(low, updated_at=now - timedelta(hours=1), last_customer_message_at=now - timedelta(days=3))
    _age(urgent, updated_at=now - timedelta(hours=4), last_customer_message_at=None)
    _age(high, updated_at=now - timedelta(hours=2), last_customer_message_at=now)
    _age(normal, updated_at=now - timedelta(hours=3), last_customer_message_at=now - timedelta(1))
    client = logged_in(admin_user)
    order = {
        "priority": [urgent, high, normal, low],
        "waiting": [low, normal, high, urgent],  # oldest customer message first; none last
        "updated": [low, high, normal, urgent],
        "created": [normal, high, urgent, low],
    }
    for sort, expected in order.items():
        assert listed(client.get(f"/tickets/?view=open&sort={sort}")) == [t.pk for t in expected]
    page = client.get("/tickets/?view=open&sort=waiting")
    assert b'<option value="waiting" selected>' in page.content
    assert b"3 d" in page.content  # the waiting column


def test_pages_keyset_for_updated_and_offset_for_other_sorts(admin_user):
    for i in range(selectors.PAGE_SIZE + 5):
        TicketFactory(subject=f"T{i}", status="open", priority="high" if i % 2 else "low")
    client = logged_in(admin_user)
    first = client.get("/tickets/?view=open")
    cursor = re.search(r'href="\?([^"]*cursor=[^"]+)"', first.content.decode()).group(1)
    second = client.get("/tickets/?" + cursor.replace("&amp;", "&"))
    assert len(listed(first)) == selectors.PAGE_SIZE and len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    by_priority = client.get("/tickets/?view=open&sort=priority")
    assert b"page=2" in by_priority.content
    page_two = client.get("/tickets/?view=open&sort=priority&page=2")
    assert len(listed(page_two)) == 5
    assert not set(listed(by_priority)) & set(listed(page_two))
    assert b"Previous" in page_two.content
    # a forged cursor or page does not fail
    assert len(listed(client.get("/tickets/?view=open&cursor=garbage"))) == selectors.PAGE_SIZE
    assert client.get("/tickets/?view=open&sort=priority&page=99999999").status_code == 200


def test_rows_show_what_an_agent_needs(world, admin_user):
    Ticket.objects.filter(pk=world["a_new"].pk).update(
        last_customer_message_at=timezone.now() - timedelta(days=2), priority="urgent"
    )
    html = logged_in(admin_user).get("/tickets/?view=open").content.decode()
    row = re.search(
        rf'<tr class="ticket-row is-new"[^>]*data-href="/tickets/{world["a_new"].pk}/".*?</tr>',
        html,
        flags=re.S,
    ).group(0)
    for part in [
        "A new",
        "badge badge-status-new",
        "prio prio-urgent",
        "icon-mail",
        "Billing",
        "waiting-long",
        "2 d",
        "<time datetime=",
        f'aria-label="Select ticket #{world["a_new"].pk}: A new"',
    ]:
        assert part in row, part
    mine_row = re.search(
        rf'<tr class="ticket-row"[^>]*data-href="/tickets/{world["b_mine"].pk}/".*?</tr>',
        html,
        flags=re.S,
    ).group(0)
    assert 'class="avatar avatar-c' in mine_row and "agent" in mine_row


def test_htmx_requests_get_the_same_page_with_the_swap_targets(world, admin_user):
    page = logged_in(admin_user).get("/tickets/?view=open", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'id="queue"' in html and 'id="view-nav"' in html and 'id="flash-region"' in html
    assert 'hx-select="#queue"' in html
    assert 'method="get" action="/tickets/"' in html  # works without JavaScript too


def test_empty_view_shows_an_empty_state(admin_user):
    html = logged_in(admin_user).get("/tickets/?view=mine").content.decode()
    assert "empty-state" in html and "No tickets here" in html


def test_views_registry_is_extensible(world, admin_user):
    extra = selectors.view_register(
        selectors.QueueView(
            "urgent", "Urgent", "triangle-alert", selectors.WorkspaceFilters(priority=("urgent",))
        )
    )
    try:
        TicketFactory(subject="On fire", priority="urgent", status="open")
        page = logged_in(admin_user).get("/tickets/?view=urgent")
        assert nav_counts(page)["urgent"] == 1 and len(listed(page)) == 1
    finally:
        selectors.VIEWS.pop(extra.key)


def test_shortcuts_script_has_the_registry_and_the_list_keys():
    from pathlib import Path

    from django.contrib.staticfiles import finders

    source = Path(finders.find("frontline/js/shortcuts.js")).read_text(encoding="utf-8")
    assert "window.Frontline.shortcuts" in source
    for key in ['"j"', '"k"', '"Enter"', '"o"', '"x"', '"/"', '"?"']:
        assert f"register({key}," in source, key
    assert "isTyping" in source


def test_counts_are_capped_so_big_views_stay_cheap(admin_user, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        TicketFactory(status="open")
    page = logged_in(admin_user).get("/tickets/?view=all")
    assert nav_counts(page)["unassigned"] == 4  # the cap plus one: "more than 3"
    html = page.content.decode()
    assert '<span class="nav-count" aria-label="3+ tickets">3+</span>' in html
    assert '<span class="count" aria-label="3+ tickets">3+</span>' in html
    assert len(listed(page)) == 5


def test_my_live_chats_and_asking_for_help_views(agent):
    from django.utils import timezone

    mine = TicketFactory(channel="chat", status="open", assignee=agent, subject="Chat A")
    TicketFactory(channel="chat", status="open", subject="Someone else's chat")
    TicketFactory(channel="email", status="open", assignee=agent, subject="Email")
    TicketFactory(channel="chat", status="solved", assignee=agent, subject="Done chat")
    help_me = TicketFactory(status="open", swarm_requested_at=timezone.now(), subject="Help")
    client = logged_in(agent)
    assert set(listed(client.get("/tickets/?view=chats"))) == {mine.pk}
    assert set(listed(client.get("/tickets/?view=swarm"))) == {help_me.pk}
    counts = nav_counts(client.get("/tickets/?view=chats"))
    assert counts["chats"] == 1 and counts["swarm"] == 1
    assert client.get("/tickets/?swarm=2").status_code in (200, 400)
