"""A visitor chats from a customer's site; an agent sees it live and answers; the network
drops mid-chat and nothing is lost or doubled."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from frontline.accounts.models import Role
from frontline.channels.chat.services import widget_create
from frontline.tickets.models import Message, Ticket
from tests.browser.conftest import login
from tests.factories import UserFactory

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Acme shop</h1><p>Our products.</p>
<script src="{server}/chat/widget.js" data-site-key="{key}" async></script></body></html>"""


def _site(customer_site, live, **widget_options):
    origin, root = customer_site
    widget = widget_create(name="Acme help", allowed_origins=[origin], **widget_options)
    (root / "index.html").write_text(PAGE.format(server=live.url, key=widget.site_key))
    return widget, f"{origin}/index.html"


def _widget(page):
    """The widget lives in a shadow root; Playwright's CSS locators pierce it."""
    return page.locator("#frontline-chat")


def test_visitor_chats_and_agent_answers_live(
    live_server_asgi, customer_site, new_page, screenshot
):
    live = live_server_asgi
    _, shop_url = _site(customer_site, live)
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann")

    agent = new_page()
    login(agent, live.url, "ann")
    agent.goto(f"{live.url}/tickets/?view=all")
    screenshot(agent, "agent-queue-empty")

    visitor = new_page()
    visitor.goto(shop_url)
    chat = _widget(visitor)
    chat.get_by_role("button", name="Open chat").click()
    expect(chat.get_by_role("dialog", name="Chat with us")).to_be_visible()
    expect(chat.get_by_text("Hi! How can we help?")).to_be_visible()
    chat.get_by_label("Type your message").fill("Where is my parcel?")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".msg.visitor:not(.pending)")).to_have_text("Where is my parcel?")
    screenshot(visitor, "visitor-sent")

    # the agent's queue shows the new chat without a reload
    row = agent.get_by_role("link", name=re.compile("Where is my parcel"))
    expect(row).to_be_visible(timeout=15_000)
    screenshot(agent, "agent-queue-live")
    row.click()
    expect(agent.get_by_text("Where is my parcel?").first).to_be_visible()
    expect(agent.locator("#ticket-page[data-watching]")).to_have_count(1)  # live
    expect(chat.locator(".meta")).to_have_text("Seen")  # the agent has read it

    # the visitor types; the agent sees it
    chat.get_by_label("Type your message").press_sequentially("It was")
    expect(agent.locator("#collision")).to_contain_text("The customer is typing")

    agent.get_by_label("Your message").fill("It arrives tomorrow morning.")
    agent.get_by_role("button", name="Send").click()
    expect(chat.locator(".msg.agent").last).to_contain_text("It arrives tomorrow morning.")
    expect(chat.locator(".msg.agent").last).to_contain_text("Ann")
    screenshot(visitor, "visitor-got-answer")
    # the visitor had the chat open: the agent's reply shows as read on the ticket page
    reply = Message.objects.get(text="It arrives tomorrow morning.")
    expect(agent.locator(f"[data-delivery-for='{reply.pk}']")).to_have_text("Read", timeout=15_000)
    screenshot(agent, "agent-ticket-chat")
    assert Ticket.objects.filter(channel="chat").count() == 1


def test_network_cut_mid_chat_loses_and_doubles_nothing(
    live_server_asgi, customer_site, new_page, screenshot
):
    live = live_server_asgi
    _, shop_url = _site(customer_site, live)
    visitor = new_page()
    visitor.goto(shop_url)
    chat = _widget(visitor)
    chat.get_by_role("button", name="Open chat").click()
    box = chat.get_by_label("Type your message")
    box.fill("first")
    box.press("Enter")
    expect(chat.locator(".msg.visitor:not(.pending)")).to_have_count(1)

    live.stop()  # every connection drops; nothing listens any more
    expect(chat.locator("header")).to_contain_text("reconnecting", timeout=10_000)
    box.fill("second, while offline")
    box.press("Enter")
    box.fill("third, while offline")
    box.press("Enter")
    expect(chat.locator(".msg.visitor.pending")).to_have_count(2)
    screenshot(visitor, "offline-pending")

    # a reload while offline keeps the unsent messages (local outbox)
    visitor.reload()
    chat = _widget(visitor)
    chat.get_by_role("button", name="Open chat").click()
    expect(chat.locator(".msg.visitor.pending")).to_have_count(2)

    live.start()  # same port: the widget reconnects and resends
    expect(chat.locator(".msg.visitor.pending")).to_have_count(0, timeout=20_000)
    expect(chat.locator(".msg.visitor")).to_have_text(
        ["first", "second, while offline", "third, while offline"]
    )
    screenshot(visitor, "reconnected")
    texts = list(Message.objects.order_by("id").values_list("text", flat=True))
    assert texts == ["first", "second, while offline", "third, while offline"]


def test_offline_widget_takes_a_message_that_becomes_an_email_ticket(
    live_server_asgi, customer_site, new_page, screenshot
):
    live = live_server_asgi
    closed_all_week = {"timezone": "UTC", "days": {"mon": [["00:00", "00:01"]]}}
    _, shop_url = _site(customer_site, live, business_hours=closed_all_week)
    visitor = new_page()
    visitor.goto(shop_url)
    chat = _widget(visitor)
    chat.get_by_role("button", name="Open chat").click()
    expect(chat.get_by_text("We're away right now")).to_be_visible()
    chat.get_by_label("Name", exact=True).fill("Zoe")
    chat.get_by_label("Email", exact=True).fill("zoe@example.com")
    chat.get_by_label("Message", exact=True).fill("Do you ship to Norway?")
    chat.get_by_role("button", name="Send message").click()
    expect(chat.get_by_text("We'll answer by email at zoe@example.com")).to_be_visible()
    screenshot(visitor, "offline-form-sent")
    ticket = Ticket.objects.get()
    assert ticket.channel == "email" and ticket.requester.name == "Zoe"
    assert ticket.messages.get().text == "Do you ship to Norway?"


def test_pre_chat_form_and_file_upload(live_server_asgi, customer_site, new_page, tmp_path):
    live = live_server_asgi
    _, shop_url = _site(customer_site, live, pre_chat_form=True, require_email=True)
    visitor = new_page()
    visitor.goto(shop_url)
    chat = _widget(visitor)
    chat.get_by_role("button", name="Open chat").click()
    chat.get_by_label("Name", exact=True).fill("Yan")
    chat.get_by_label("Email", exact=True).fill("yan@example.com")
    chat.get_by_role("button", name="Start chat").click()
    box = chat.get_by_label("Type your message")
    box.fill("Here is the receipt")
    box.press("Enter")
    expect(chat.locator(".msg.visitor:not(.pending)")).to_have_count(1)
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("order 42")
    with visitor.expect_file_chooser() as chooser:
        chat.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(str(receipt))
    expect(chat.get_by_role("link", name=re.compile("receipt.txt"))).to_be_visible()
    ticket = Ticket.objects.get()
    assert ticket.requester.identities.filter(kind="email", value="yan@example.com").exists()
    assert ticket.messages.count() == 2
    assert ticket.messages.last().attachments.get().filename == "receipt.txt"
