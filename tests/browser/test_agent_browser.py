"""An agent's day in a real browser: log in, work the queue, open a ticket, reply, write a note
that mentions a colleague; and two agents on one ticket see each other (collision)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from frontline.accounts.models import Notification, Role
from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.tickets.models import Message
from tests.browser.conftest import login
from tests.factories import UserFactory


def _email_ticket(subject: str, text: str) -> int:
    result = inbound_message_ingest(
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value="ana@example.com"),
            sender_name="Ana Lima",
            subject=subject,
            text=text,
        )
    )
    return result.ticket_id


def test_agent_works_the_queue_replies_and_mentions(live_server_asgi, new_page, screenshot):
    live = live_server_asgi
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")
    bob = UserFactory(role=Role.AGENT, username="bob", first_name="Bob", last_name="Builder")
    _email_ticket("Broken zipper", "The zipper of my bag broke after a week.")
    _email_ticket("Invoice copy", "Could you send the invoice again?")

    page = new_page()
    page.goto(f"{live.url}/tickets/")
    expect(page).to_have_url(re.compile("/login/"))
    screenshot(page, "login")
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/?view=unassigned")
    expect(page.get_by_role("link", name=re.compile("Broken zipper"))).to_be_visible()
    screenshot(page, "queue")
    page.get_by_role("link", name=re.compile("Broken zipper")).click()
    expect(page.get_by_role("heading", name=re.compile("Broken zipper"))).to_be_visible()
    expect(page.get_by_text("The zipper of my bag broke")).to_be_visible()

    page.get_by_label("Your message").fill("Sorry about that! A replacement is on its way.")
    page.get_by_label("Send as").select_option("public")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("A replacement is on its way.")).to_be_visible()

    page.get_by_label("Your message").fill("@bob can you check the warehouse stock?")
    page.get_by_label("Send as").select_option("internal")
    page.get_by_role("button", name="Send").click()
    note = page.locator("article.internal", has_text="warehouse stock")
    expect(note).to_be_visible()
    screenshot(page, "ticket-after-reply-and-note")

    reply = Message.objects.get(text__startswith="Sorry about that")
    assert reply.visibility == "public" and reply.direction == "outbound"
    assert Notification.objects.filter(user=bob, kind="mentioned").exists()


def test_second_agent_sees_the_collision_warning(live_server_asgi, new_page, screenshot):
    live = live_server_asgi
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")
    UserFactory(role=Role.AGENT, username="bob", first_name="Bob", last_name="Builder")
    ticket_id = _email_ticket("Refund please", "I'd like a refund for order 7.")

    ann = new_page()
    login(ann, live.url, "ann")
    ann.goto(f"{live.url}/tickets/{ticket_id}/")
    bob = new_page()
    login(bob, live.url, "bob")
    bob.goto(f"{live.url}/tickets/{ticket_id}/")

    # each sees the other on the ticket
    expect(ann.locator("#collision")).to_contain_text("Bob Builder is viewing", timeout=15_000)
    expect(bob.locator("#collision")).to_contain_text("Ann Agent is viewing", timeout=15_000)

    # Ann starts a reply; Bob sees her typing
    ann.get_by_label("Your message").press_sequentially("Hi Ana, ")
    expect(bob.locator("#collision")).to_contain_text("Ann Agent is typing a reply")
    screenshot(bob, "sees-ann-typing")

    # Bob answers first: Ann's page shows his reply live and warns her
    bob.get_by_label("Your message").fill("Refund issued, Ana.")
    bob.get_by_role("button", name="Send").click()
    expect(ann.get_by_text("Refund issued, Ana.")).to_be_visible()
    expect(ann.locator("#collision")).to_contain_text("while you were writing")
    screenshot(ann, "warned-live")

    # and if she sends anyway, the server holds it back once and keeps her draft
    ann.get_by_label("Your message").fill("Hi Ana, I'll refund you now.")
    ann.get_by_role("button", name="Send").click()
    expect(
        ann.get_by_role("alert").filter(has_text="Bob Builder wrote on this ticket")
    ).to_be_visible()
    expect(ann.get_by_label("Your message")).to_have_value("Hi Ana, I'll refund you now.")
    screenshot(ann, "warned-before-sending")
    assert not Message.objects.filter(text__startswith="Hi Ana").exists()
    ann.get_by_role("button", name="Send").click()
    expect(ann.locator("article", has_text="I'll refund you now")).to_be_visible()
    assert Message.objects.filter(text__startswith="Hi Ana").count() == 1


def test_mention_notifies_the_colleague_live_and_presence_toggles(
    live_server_asgi, new_page, screenshot
):
    from frontline.accounts.models import AgentProfile

    live = live_server_asgi
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")
    UserFactory(role=Role.AGENT, username="bob", first_name="Bob", last_name="Builder")
    ticket_id = _email_ticket("Damaged box", "The box arrived crushed.")

    bob = new_page()
    login(bob, live.url, "bob")
    bob.goto(f"{live.url}/tickets/")
    expect(bob.locator("html[data-live=on]")).to_have_count(1)
    bob.get_by_label("Your status").select_option("online")
    expect(bob.locator(".presence-dot.presence-online")).to_have_count(1)

    ann = new_page()
    login(ann, live.url, "ann")
    ann.goto(f"{live.url}/tickets/{ticket_id}/")
    ann.get_by_label("Your message").fill("@bob please look at the photos")
    ann.get_by_label("Send as").select_option("internal")
    ann.get_by_role("button", name="Send").click()

    expect(bob.locator("#notif-count")).to_have_text("1")
    expect(bob.get_by_role("status").filter(has_text="mentioned")).to_be_visible()
    screenshot(bob, "notified")
    bob.get_by_role("link", name="Notifications").click()
    expect(bob.get_by_role("link", name="mentioned", exact=False).first).to_be_visible()
    assert AgentProfile.objects.get(user__username="bob").presence == "online"
