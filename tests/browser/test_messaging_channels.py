"""The messaging channels in a real browser: answering on WhatsApp after the 24-hour window
closed (a template), moving an email conversation to SMS (the segment counter, the preferred
channel), the public-reply warning on a public Facebook comment, the customer page (every
channel in one timeline, a suggested merge and its undo), and logging a call and ticking off a
task from the ticket sidebar. Replies go through sandbox accounts: the outbound path runs for
real (Celery is eager in tests) and writes the request to <data dir>/outbox/ instead of a
provider."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from frontline.accounts.models import Role
from frontline.channels.accounts import account_create
from frontline.channels.models import MessageTemplate
from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.customers.models import Customer, CustomerMerge
from frontline.customers.services import IdentityInput, customer_create, customer_merge
from frontline.customers.suggestions import suggestions_from_message
from frontline.tickets.models import Message, Ticket, TicketTask
from tests.browser.conftest import login
from tests.browser.test_accessibility import violations
from tests.factories import UserFactory

ANA_EMAIL = "ana@example.com"
ANA_PHONE = "+14155550100"
OTHER_PHONE = "+14155550199"
TEMPLATE_BODY = "Hi {{1}}, your order has shipped. Reply here with any questions."


# --------------------------------------------------------------------------- set-up


def _agent():
    return UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")


def _ana() -> Customer:
    """One customer reachable by email and by phone (SMS and WhatsApp)."""
    return customer_create(
        name="Ana Lima",
        identities=[IdentityInput("email", ANA_EMAIL), IdentityInput("phone", ANA_PHONE)],
    )


def _messaging_accounts():
    """Sandbox WhatsApp and SMS numbers, and one approved WhatsApp template."""
    whatsapp = account_create(
        provider="twilio_whatsapp",
        name="WhatsApp line",
        address="+14155550135",
        options={"sandbox": True},
    )
    account_create(
        provider="twilio_sms", name="SMS line", address="+14155550134", options={"sandbox": True}
    )
    template = MessageTemplate.objects.create(
        account=whatsapp,
        name="order_update",
        language="en",
        content_sid="HX0123456789abcdef",
        body=TEMPLATE_BODY,
        variables=["name"],
    )
    return whatsapp, template


def _whatsapp_message(account_id: int, text: str, *, hours_ago: float) -> Message:
    result = inbound_message_ingest(
        InboundMessage(
            channel="whatsapp",
            sender=SenderIdentity(kind="phone", value=ANA_PHONE),
            sender_name="Ana Lima",
            text=text,
            provider_message_id="SMwa-1",
            metadata={"account_id": account_id},
        )
    )
    # what a message that came in `hours_ago` looks like: the window counts from created_at
    Message.objects.filter(pk=result.message_id).update(
        created_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return Message.objects.get(pk=result.message_id)


def _email_message(text: str, *, subject: str = "Invoice for my tent") -> Message:
    result = inbound_message_ingest(
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value=ANA_EMAIL),
            sender_name="Ana Lima",
            subject=subject,
            text=text,
            provider_message_id="<invoice-1@example.com>",
        )
    )
    return Message.objects.get(pk=result.message_id)


def _outbox(settings, channel: str, message_id: int) -> dict:
    path = settings.DATA_DIR / "outbox" / channel / f"message-{message_id}.json"
    return json.loads(path.read_text())


def _no_serious_violations(page, where: str) -> None:
    page.wait_for_load_state("networkidle")
    found = violations(page)
    assert found == [], f"{where}: {found}"


@pytest.fixture
def outbox_dir(settings, tmp_path):
    """Sandbox sends are written under DATA_DIR: one per test, to read them back."""
    settings.DATA_DIR = tmp_path
    return settings


# --------------------------------------------------------------------------- WhatsApp


def test_whatsapp_reply_after_the_window_closed_goes_as_a_template(
    live_server_asgi, new_page, screenshot, outbox_dir
):
    live = live_server_asgi
    _agent()
    _ana()
    whatsapp, template = _messaging_accounts()
    inbound = _whatsapp_message(whatsapp.pk, "Is my tent shipped yet?", hours_ago=30)
    ticket_id = inbound.ticket_id

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{ticket_id}/")
    expect(page.locator("#timeline")).to_contain_text("Is my tent shipped yet?")

    # the conversation is on WhatsApp: it is the channel offered first, with its rules
    expect(page.get_by_label("Reply via")).to_have_value("whatsapp")
    rules = page.locator('[data-channel-only="whatsapp"]')
    expect(rules).to_be_visible()
    expect(rules.get_by_role("note")).to_contain_text("The 24-hour window has closed.")
    expect(rules).not_to_contain_text("window is open")
    picker = page.locator("[data-template-select]")
    expect(picker).to_be_visible()
    expect(picker).to_have_value("")
    expect(page.locator(f'[data-template-fields="{template.pk}"]')).to_be_hidden()
    screenshot(page, "window-closed")
    _no_serious_violations(page, "WhatsApp ticket, window closed")

    # free text is refused outside the window; the draft is kept
    page.get_by_label("Your message").fill("Yes, it left the warehouse today.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#flash-region")).to_contain_text("more than 24 hours old")
    expect(page.get_by_label("Your message")).to_have_value("Yes, it left the warehouse today.")
    assert not Message.objects.filter(ticket_id=ticket_id, direction="outbound").exists()

    # the agent picks the template and fills its variable: the message box is not used
    picker.select_option(label="order_update (en)")
    fields = page.locator(f'[data-template-fields="{template.pk}"]')
    expect(fields).to_be_visible()
    expect(fields).to_contain_text(TEMPLATE_BODY)
    expect(page.get_by_label("Your message")).to_be_disabled()
    variable = page.locator(f"#tvar-{template.pk}-1")
    expect(page.get_by_label(re.compile(r"^name"))).to_be_visible()
    variable.fill("Ana")
    screenshot(page, "template-picked")
    _no_serious_violations(page, "WhatsApp ticket, template picked")
    page.get_by_role("button", name="Send").click()

    expected = "Hi Ana, your order has shipped. Reply here with any questions."
    reply = page.locator("#timeline article.is-outbound", has_text=expected)
    expect(reply).to_be_visible()
    stored = Message.objects.get(ticket_id=ticket_id, direction="outbound")
    assert stored.text == expected
    assert stored.channel == "whatsapp" and stored.visibility == "public"
    assert stored.metadata["template"] == {
        "id": template.pk,
        "name": "order_update",
        "content_sid": "HX0123456789abcdef",
        "variables": {"1": "Ana"},
    }
    # the sandbox account "sent" it: the outbound path ran and the page shows the state
    expect(page.locator(f"[data-delivery-for='{stored.pk}']")).to_have_text("Sent")
    stored.refresh_from_db()
    assert stored.delivery_state == "sent"
    assert stored.provider_message_id == f"sandbox-{stored.pk}"
    request = _outbox(outbox_dir, "whatsapp", stored.pk)
    assert request["to"] == ANA_PHONE and request["account"] == whatsapp.key
    assert request["template"]["content_sid"] == "HX0123456789abcdef"
    assert request["template"]["variables"] == {"1": "Ana"}
    screenshot(page, "template-sent")


# --------------------------------------------------------------------------- SMS


def test_email_conversation_moves_to_sms_with_the_segment_counter(
    live_server_asgi, new_page, screenshot, outbox_dir
):
    live = live_server_asgi
    _agent()
    ana = _ana()
    whatsapp, _ = _messaging_accounts()
    _whatsapp_message(whatsapp.pk, "Is my tent shipped yet?", hours_ago=30)
    email = _email_message("Could you send the invoice for my tent again?")
    ticket_id = email.ticket_id

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{ticket_id}/")
    channel = page.get_by_label("Reply via")
    expect(channel).to_have_value("email")
    # every channel Ana can be reached on is offered, each with her address there
    options = channel.locator("option")
    expect(options).to_have_text(
        [f"Email · {ANA_EMAIL}", f"SMS · {ANA_PHONE}", f"WhatsApp · {ANA_PHONE}"]
    )
    counter = page.locator("[data-sms-counter]")
    expect(counter).to_be_hidden()

    channel.select_option("sms")
    expect(page.locator('[data-channel-only="sms"]')).to_be_visible()
    expect(page.locator('[data-channel-only="email"]')).to_be_hidden()
    expect(counter).to_be_visible()
    expect(counter).to_have_text("0 characters · 0 SMS parts")

    message = page.get_by_label("Your message")
    single = ("Your invoice is on its way by email. " * 5)[:160]
    message.fill(single)
    expect(counter).to_have_text("160 characters · 1 SMS part")
    message.fill(single + "!")
    expect(counter).to_have_text("161 characters · 2 SMS parts")
    message.fill("Sent! Tell us if the € amount looks wrong")  # € is two GSM units
    expect(counter).to_have_text("42 characters · 1 SMS part")
    message.fill("Thanks Ana 🙂")  # an emoji: Unicode, and it counts twice
    expect(counter).to_have_text("13 characters (Unicode) · 1 SMS part")
    screenshot(page, "sms-counter-unicode")
    _no_serious_violations(page, "email ticket, SMS chosen")

    text = "Hi Ana, the invoice is in your inbox again. Reply here if anything is missing."
    message.fill(text)
    expect(counter).to_have_text(f"{len(text)} characters · 1 SMS part")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline article.is-outbound", has_text=text)).to_be_visible()

    stored = Message.objects.get(ticket_id=ticket_id, direction="outbound")
    assert (stored.channel, stored.text, stored.visibility) == ("sms", text, "public")
    expect(page.locator(f"[data-delivery-for='{stored.pk}']")).to_have_text("Sent")
    stored.refresh_from_db()
    assert stored.delivery_state == "sent"
    assert _outbox(outbox_dir, "sms", stored.pk)["to"] == ANA_PHONE
    ana.refresh_from_db()
    assert ana.preferred_channel == "sms"
    assert Ticket.objects.get(pk=ticket_id).channel == "email"  # the ticket stays an email one

    page.reload()
    expect(page.locator("#card-customer")).to_contain_text("prefers SMS")
    # the conversation last happened by SMS: the composer offers it first now
    expect(page.get_by_label("Reply via")).to_have_value("sms")
    expect(counter).to_be_visible()
    screenshot(page, "after-sms-reply")


# --------------------------------------------------------------------------- public social


def test_public_facebook_comment_warns_that_the_reply_is_public(
    live_server_asgi, new_page, screenshot, outbox_dir
):
    live = live_server_asgi
    _agent()
    account_create(
        provider="meta_messenger", name="Tents page", address="1049", options={"sandbox": True}
    )
    customer_create(
        name="Ben Ortiz",
        identities=[
            IdentityInput("social", "7001", "facebook"),
            IdentityInput("email", "ben@example.com"),
        ],
    )
    result = inbound_message_ingest(
        InboundMessage(
            channel="facebook",
            sender=SenderIdentity(kind="social", value="7001", network="facebook"),
            sender_name="Ben Ortiz",
            text="Your tents leak in the rain!",
            provider_message_id="c_1",
            thread_key="post_1",
            metadata={"public": True, "comment_id": "c_1"},
            ticket_fields={"is_public": True},
        )
    )
    assert Ticket.objects.get(pk=result.ticket_id).is_public

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{result.ticket_id}/")
    channel = page.get_by_label("Reply via")
    expect(channel).to_have_value("facebook")
    expect(channel.locator("option:checked")).to_have_text("Messenger · 7001")
    warning = page.locator('[data-channel-only="facebook"]').get_by_role("note")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Public reply.")
    expect(warning).to_contain_text("everyone who can see the post")
    screenshot(page, "public-reply-warning")
    _no_serious_violations(page, "public Facebook ticket")

    # a private channel carries no such warning; back on Messenger it returns
    channel.select_option("email")
    expect(warning).to_be_hidden()
    channel.select_option("facebook")
    expect(warning).to_be_visible()
    # an internal note is not public either
    page.get_by_label("Send as").select_option("internal")
    expect(warning).to_be_hidden()


# --------------------------------------------------------------------------- the customer page


def test_customer_page_shows_every_channel_and_merges_a_suggested_duplicate(
    live_server_asgi, new_page, screenshot
):
    live = live_server_asgi
    _agent()
    ana = _ana()
    whatsapp, _ = _messaging_accounts()
    _whatsapp_message(whatsapp.pk, "Is my tent shipped yet?", hours_ago=3)
    email = _email_message("Please send the invoice again. My work phone is +1 415 555 0199.")
    Message.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(hours=1))

    # a second record of the same person: she once texted from her work phone
    other = customer_create(name="Ana L.", identities=[IdentityInput("phone", OTHER_PHONE)])
    texted = inbound_message_ingest(
        InboundMessage(
            channel="sms",
            sender=SenderIdentity(kind="phone", value=OTHER_PHONE),
            text="Hello, is the shop open on Sunday?",
            provider_message_id="SMsms-1",
        )
    )
    assert Ticket.objects.get(pk=texted.ticket_id).requester_id == other.pk
    made = suggestions_from_message(
        customer_id=ana.pk, text=email.text, message_id=email.pk, ticket_id=email.ticket_id
    )
    assert made == 1

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/customers/{ana.pk}/")
    expect(page.get_by_role("heading", name="Ana Lima", exact=True)).to_be_visible()
    timeline = page.get_by_role("list", name="Messages, newest first")
    items = timeline.locator(".customer-timeline-item")
    expect(items).to_have_count(2)
    # both channels, newest first
    expect(items.nth(0)).to_have_attribute("data-channel", "email")
    expect(items.nth(0)).to_contain_text("Please send the invoice again")
    expect(items.nth(0)).to_contain_text("Email")
    expect(items.nth(1)).to_have_attribute("data-channel", "whatsapp")
    expect(items.nth(1)).to_contain_text("Is my tent shipped yet?")
    expect(items.nth(1)).to_contain_text("WhatsApp")

    suggestion = page.locator(".suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("wrote a phone number that belongs to")
    expect(suggestion).to_contain_text(OTHER_PHONE)
    screenshot(page, "customer-with-suggestion")
    _no_serious_violations(page, "customer page with a suggested merge")

    suggestion.get_by_role("button", name="Merge Ana L. into this customer").click()
    expect(page).to_have_url(f"{live.url}/customers/{ana.pk}/")
    expect(page.locator("#flash-region")).to_contain_text("Customers merged")
    expect(page.locator(".suggestion")).to_have_count(0)
    other.refresh_from_db()
    assert other.merged_into_id == ana.pk
    assert Ticket.objects.get(pk=texted.ticket_id).requester_id == ana.pk
    # her SMS now belongs to the one timeline, on top (it is the newest)
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_attribute("data-channel", "sms")
    expect(items.nth(0)).to_contain_text("is the shop open on Sunday?")
    expect(page.get_by_role("complementary", name="Customer details")).to_contain_text(OTHER_PHONE)
    merged = page.get_by_role("region", name="Merged into this customer")
    expect(merged).to_contain_text("Ana L.")
    screenshot(page, "customer-merged")
    _no_serious_violations(page, "customer page after the merge")

    page.on("dialog", lambda dialog: dialog.accept())  # the undo may ask first
    merged.get_by_role("button", name="Undo merge").click()
    expect(page.locator("#flash-region")).to_contain_text(
        "Merge undone: Ana L. is a separate customer again."
    )
    expect(items).to_have_count(2)
    expect(page.get_by_role("region", name="Merged into this customer")).to_have_count(0)
    other.refresh_from_db()
    assert other.merged_into_id is None
    assert Ticket.objects.get(pk=texted.ticket_id).requester_id == other.pk
    assert CustomerMerge.objects.get(source=other).reverted_at is not None
    screenshot(page, "customer-merge-undone")


def test_undo_merge_asks_before_splitting_the_customers(live_server_asgi, new_page):
    live = live_server_asgi
    _agent()
    ana = _ana()
    other = customer_create(name="Ana L.", identities=[IdentityInput("phone", OTHER_PHONE)])
    merge = customer_merge(source=other, target=ana, actor="system")

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/customers/{ana.pk}/")
    asked: list[str] = []

    def answer_no(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer_no)
    merged = page.get_by_role("region", name="Merged into this customer")
    merged.get_by_role("button", name="Undo merge").click()
    page.wait_for_load_state("networkidle")
    merge.refresh_from_db()
    assert asked == ["Split Ana L. off again? What the merge moved goes back."]
    assert merge.reverted_at is None  # the agent said no: nothing was split
    expect(merged).to_be_visible()


# --------------------------------------------------------------------------- the sidebar


def test_agent_logs_a_call_and_ticks_off_a_task(live_server_asgi, new_page, screenshot):
    live = live_server_asgi
    ann = _agent()
    _ana()
    ticket_id = _email_message("Could you send the invoice for my tent again?").ticket_id

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{ticket_id}/")

    # a call taken on a desk phone, logged by hand
    calls = page.locator("#card-calls")
    calls.get_by_text("Log a call").click()
    calls.get_by_label("The customer called us").check()
    calls.get_by_label("Outcome").select_option("answered")
    calls.get_by_label("Minutes").fill("4")
    calls.get_by_label("Seconds").fill("30")
    calls.get_by_label("Notes").fill("Walked Ana through returning the tent.")
    screenshot(page, "call-log-form")
    _no_serious_violations(page, "ticket page, call log form open")
    calls.get_by_role("button", name="Log the call").click()
    expect(page.locator("#flash-region")).to_contain_text("Call logged.")
    call = page.locator("#timeline article.timeline-call")
    expect(call).to_be_visible()
    expect(call).to_contain_text("Walked Ana through returning the tent.")
    expect(call).to_contain_text("logged by hand")
    expect(call).to_contain_text("Ann Agent")
    logged = Message.objects.get(ticket_id=ticket_id, channel="phone")
    assert logged.text == "Walked Ana through returning the tent."
    assert logged.author_user_id == ann.pk and logged.visibility == "public"
    assert {k: logged.metadata["call"][k] for k in ("direction", "outcome", "duration")} == {
        "direction": "inbound",
        "outcome": "answered",
        "duration": 270,
    }
    assert logged.metadata["call"]["phone"] == ANA_PHONE  # the number on file
    assert logged.metadata["call"]["logged_by"] == ann.pk

    # a task: added, then ticked off
    tasks = page.locator("#card-tasks")
    tasks.get_by_text("Add a task").click()
    tasks.get_by_label("What to do").fill("Email the return label")
    tasks.get_by_role("button", name="Add task").click()
    expect(page.locator("#flash-region")).to_contain_text("Task added.")
    tasks = page.locator("#card-tasks")  # the sidebar was swapped
    expect(tasks.locator(".task")).to_have_count(1)
    expect(tasks.locator(".task")).to_contain_text("Email the return label")
    task = TicketTask.objects.get(ticket_id=ticket_id)
    assert task.title == "Email the return label" and task.done_at is None

    tasks.get_by_role("button", name="Mark done: Email the return label").click()
    expect(page.locator("#flash-region")).to_contain_text("Task done.")
    expect(
        page.locator("#card-tasks").get_by_role("button", name="Reopen: Email the return label")
    ).to_be_visible()
    expect(page.locator("#card-tasks .task")).to_have_class(re.compile("is-done"))
    expect(page.locator("#timeline")).to_contain_text("completed the task “Email the return label”")
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by_id == ann.pk
    screenshot(page, "call-and-task-done")
    _no_serious_violations(page, "ticket page after the call and the task")


def test_reply_after_logging_a_call_does_not_fail_on_a_stale_status(
    live_server_asgi, new_page, screenshot
):
    live = live_server_asgi
    _agent()
    _ana()
    ticket_id = _email_message("Could you send the invoice for my tent again?").ticket_id

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{ticket_id}/")
    calls = page.locator("#card-calls")
    calls.get_by_text("Log a call").click()
    calls.get_by_label("Notes").fill("Called Ana about the invoice.")
    calls.get_by_role("button", name="Log the call").click()
    expect(page.locator("#flash-region")).to_contain_text("Call logged.")
    assert Ticket.objects.get(pk=ticket_id).status == "open"

    page.get_by_label("Your message").fill("As promised on the phone: the invoice is attached.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline")).to_contain_text("As promised on the phone")
    screenshot(page, "reply-after-call")
    expect(page.locator("#flash-region .flash-error")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket_id).status == "open"
