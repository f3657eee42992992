"""Automated accessibility checks (axe-core, WCAG 2 A/AA rules) on the screens agents and
visitors use, at desktop and tablet sizes. Serious and critical findings fail the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from frontline.accounts.models import Role
from frontline.channels.chat.services import widget_create
from tests.browser.conftest import login
from tests.browser.test_agent_browser import _email_ticket
from tests.factories import UserFactory

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
SIZES = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 820, "height": 1180}}


def violations(page, include: str | None = None) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        """async (include) => {
            const context = include ? { include: [include] } : document;
            const r = await axe.run(context, {
                runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
                resultTypes: ["violations"],
            });
            return r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.id} (${v.impact}): ` +
                    v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }""",
        include,
    )
    return list(result)


@pytest.mark.parametrize("size", list(SIZES))
def test_workspace_screens_have_no_serious_violations(live_server_asgi, new_page, screenshot, size):
    live = live_server_asgi
    UserFactory(role=Role.AGENT, username="ann", first_name="Ann", last_name="Agent")
    ticket_id = _email_ticket("Broken zipper", "The zipper of my bag broke after a week.")
    page = new_page(viewport=SIZES[size])
    page.goto(f"{live.url}/login/")
    assert violations(page) == []
    login(page, live.url, "ann")
    for path in ("/tickets/", f"/tickets/{ticket_id}/", "/notifications/"):
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        found = violations(page)
        screenshot(page, f"{size}-{path.strip('/').replace('/', '-') or 'home'}")
        assert found == [], f"{path}: {found}"


def test_chat_widget_has_no_serious_violations(live_server_asgi, customer_site, new_page):
    origin, root = customer_site
    widget = widget_create(name="Acme help", allowed_origins=[origin])
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>Shop</title></head><body><main><h1>Shop</h1>'
        f'</main><script src="{live_server_asgi.url}/chat/widget.js" '
        f'data-site-key="{widget.site_key}" async></script></body></html>'
    )
    page = new_page()
    page.goto(f"{origin}/index.html")
    chat = page.locator("#frontline-chat")
    chat.get_by_role("button", name="Open chat").click()
    expect(chat.get_by_role("dialog", name="Chat with us")).to_be_visible()
    assert violations(page, "#frontline-chat") == []
