"""The ticket page in a real browser: shortcuts, a canned response, the timer, asking for help
and inviting a suggested expert, merging a duplicate through the dialog; screenshots at desktop
(1280x800) and tablet (820x1180) sizes."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from frontline.accounts.models import Role
from frontline.tickets.models import Ticket, TimeEntry
from tests.browser.conftest import login
from tests.browser.test_agent_browser import _email_ticket
from tests.factories import CannedResponseFactory, UserFactory, agent_skill


def test_agent_works_a_ticket_with_the_sidebar(live_server_asgi, new_page, screenshot):
    live = live_server_asgi
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")
    zoe = UserFactory(role=Role.AGENT, username="zoe", first_name="Zoe", last_name="Zip")
    agent_skill(zoe, "zipper", 4)
    CannedResponseFactory(
        title="Zipper apology",
        shortcut="zip",
        body="Hi {{requester.name}}, sorry about the zipper.",
    )
    ticket_id = _email_ticket("Broken zipper", "The zipper of my bag broke after a week.")
    duplicate_id = _email_ticket("Zipper broken again", "Writing again about my bag.")

    page = new_page()
    login(page, live.url, "ann")
    page.goto(f"{live.url}/tickets/{ticket_id}/")
    expect(page.get_by_role("heading", name=re.compile("Broken zipper"))).to_be_visible()
    composer = page.locator("[data-composer]")
    visibility = page.get_by_label("Send as")

    # n: an internal note, r: a public reply; both put the cursor in the message
    page.locator("body").press("n")
    expect(visibility).to_have_value("internal")
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(composer).to_have_class(re.compile("is-note"))
    expect(page.get_by_role("tab", name=re.compile("Internal note"))).to_have_attribute(
        "aria-selected", "true"
    )
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(visibility).to_have_value("public")
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(composer).not_to_have_class(re.compile("is-note"))

    # a canned response, rendered for this ticket, goes in at the cursor
    page.get_by_label("Your message").fill("Hello!")
    page.get_by_label("Canned response").fill("Zipper apology")
    page.get_by_role("button", name="Insert").click()
    expect(page.get_by_label("Your message")).to_have_value(
        "Hello!\nHi Ana Lima, sorry about the zipper."
    )
    screenshot(page, "composer-with-canned-response")

    # the timer: start, watch it run, stop
    page.get_by_role("button", name="Start timer").click()
    expect(page.get_by_role("button", name="Stop timer")).to_be_visible()
    expect(page.locator("[data-timer-since]")).to_have_text(re.compile(r"^0:00:0\d$"))
    page.get_by_role("button", name="Stop timer").click()
    expect(page.locator("#flash-region")).to_contain_text("Timer stopped")
    expect(page.get_by_role("button", name="Start timer")).to_be_visible()
    assert TimeEntry.objects.filter(running=False, ticket_id=ticket_id).count() == 1
    # the swap kept the draft
    expect(page.get_by_label("Your message")).to_have_value(re.compile("sorry about the zipper"))

    # ask for help; a suggested expert is invited from the list
    page.get_by_label("What do you need help with?").fill("Which zipper model is this?")
    page.get_by_role("button", name="Ask for help").click()
    expect(page.get_by_role("button", name="Resolve swarm")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("asked for help")
    experts = page.get_by_role("list", name="Suggested experts")
    expect(experts).to_contain_text("skill zipper (level 4)")
    experts.get_by_role("button", name="Invite Zoe Zip").click()
    expect(page.get_by_role("list", name="Collaborators")).to_contain_text("Zoe Zip")
    expect(page.get_by_role("list", name="Suggested experts")).to_contain_text("invited")
    assert Ticket.objects.get(pk=ticket_id).collaborators.filter(pk=zoe.pk).exists()
    page.evaluate("window.scrollTo(0, 0)")  # sticky bars draw where the page is scrolled
    screenshot(page, "desktop-1280")
    page.set_viewport_size({"width": 820, "height": 1180})
    expect(page.get_by_role("complementary", name="Ticket details")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "tablet-820")
    page.set_viewport_size({"width": 1280, "height": 800})

    # the duplicate is merged into this ticket through the dialog
    page.goto(f"{live.url}/tickets/{duplicate_id}/")
    opener = page.get_by_role("button", name="Merge into…").first
    opener.click()
    dialog = page.get_by_role("dialog", name="Merge this ticket into another")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Target ticket number")).to_be_focused()
    dialog.get_by_label("Target ticket number").fill(f"#{ticket_id}")
    screenshot(page, "merge-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()  # focus goes back to the button that opened it
    opener.click()
    dialog.get_by_label("Target ticket number").fill(str(ticket_id))
    dialog.get_by_role("button", name="Merge", exact=True).click()
    expect(page).to_have_url(f"{live.url}/tickets/{ticket_id}/")
    expect(page.locator("#flash-region")).to_contain_text(f"#{duplicate_id} was merged")
    expect(page.get_by_text("Writing again about my bag.")).to_be_visible()
    assert Ticket.objects.get(pk=duplicate_id).merged_into_id == ticket_id

    # e solves, after a confirmation
    page.once("dialog", lambda d: d.accept())
    page.locator("body").press("e")
    expect(page.locator(".ticket-facts .badge").first).to_have_text("solved")
    assert Ticket.objects.get(pk=ticket_id).status == "solved"
