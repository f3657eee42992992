"""The design system: the styleguide page, the base layout, the vendored assets and the tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import Client

from frontline.accounts.models import Role
from frontline.web.templatetags import ui
from tests.factories import UserFactory, customer_user

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "frontline" / "web" / "static"
VENDORED = [
    "vendor/htmx.org/htmx.min.js",
    "vendor/htmx.org/LICENSE",
    "vendor/fontsource-variable-inter/inter-latin-wght-normal.woff2",
    "vendor/fontsource-variable-inter/LICENSE",
    "vendor/lucide-static/LICENSE",
    "vendor/VENDORED.md",
    "frontline/css/frontline.css",
    "frontline/js/shortcuts.js",
    "frontline/js/queue.js",
]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_styleguide_renders_every_component(agent):
    page = logged_in(agent).get("/styleguide/")
    assert page.status_code == 200
    html = page.content.decode()
    for cls in [
        "btn btn-primary",
        "btn btn-secondary",
        "btn btn-ghost",
        "btn btn-danger",
        "btn-sm",
        "field-help",
        "field-error",
        "card-header",
        "queue-table",
        "badge badge-status-on_hold",
        "prio prio-urgent",
        "avatar avatar-c",
        "avatar-empty",
        'class="tabs"',
        "dropdown-menu",
        "flash flash-error",
        '<dialog class="modal"',
        "empty-state",
        "<kbd>",
        "timeline-item is-note",
        "timeline-event",
        'class="split"',
        "msg internal",
        "pill status-",
    ]:
        assert cls in html, cls
    # every vendored icon is shown, inline, hidden from assistive technology
    icons = sorted(p.stem for p in (STATIC / "vendor/lucide-static/icons").glob("*.svg"))
    assert len(icons) >= 30
    for name in icons:
        assert f'class="icon icon-{name}"' in html


def test_styleguide_is_for_staff_only():
    assert Client().get("/styleguide/").status_code == 302
    assert logged_in(customer_user()).get("/styleguide/").status_code == 403


def test_base_layout_landmarks_and_assets(agent):
    html = logged_in(agent).get("/styleguide/").content.decode()
    assert '<html lang="en">' in html
    assert html.index('class="skip-link" href="#main"') < html.index('class="topbar"')
    assert html.index('class="topbar"') < html.index('id="view-nav"') < html.index('id="main"')
    assert 'id="topbar-live"' in html
    assert 'role="search"' in html and 'name="q"' in html and 'action="/tickets/"' in html
    assert 'id="flash-region"' in html and 'aria-live="polite"' in html
    assert "/static/vendor/htmx.org/htmx.min.js" in html
    assert "/static/frontline/css/frontline.css" in html
    assert "/static/frontline/js/shortcuts.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert 'href="/admin/"' not in html  # admins only
    admin = UserFactory(role=Role.ADMIN)
    assert 'href="/admin/"' in logged_in(admin).get("/styleguide/").content.decode()


def test_login_page_uses_the_design_system():
    html = Client().get("/login/").content.decode()
    assert "frontline.css" in html and 'class="card"' in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert 'id="view-nav"' not in html  # no workspace chrome before logging in


@pytest.mark.parametrize("path", VENDORED)
def test_static_asset_exists_and_is_served(path, settings):
    assert finders.find(path), path
    # whitenoise serves from the finders when told to (production serves collected files)
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get(f"/static/{path}")
    assert response.status_code == 200, path
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == (STATIC / path).read_bytes()


def test_vendored_md_lists_every_vendored_file():
    listed = (STATIC / "vendor/VENDORED.md").read_text()
    for path in (STATIC / "vendor").rglob("*"):
        if path.is_file() and path.parent.name != "icons" and path.name != "VENDORED.md":
            assert f"{path.parent.name}/{path.name}" in listed, path
    for icon in (STATIC / "vendor/lucide-static/icons").glob("*.svg"):
        assert re.search(rf"\b{re.escape(icon.stem)}\b", listed), icon.stem
    assert "npm pack" in listed


def test_css_font_url_points_at_the_vendored_file():
    css = (STATIC / "frontline/css/frontline.css").read_text()
    url = re.search(r'url\("([^"]+\.woff2)"\)', css).group(1)
    assert (STATIC / "frontline/css" / url).resolve() == (
        STATIC / "vendor/fontsource-variable-inter/inter-latin-wght-normal.woff2"
    ).resolve()


def test_icon_and_avatar_tags():
    html = Template('{% load ui %}{% icon "tag" class="icon-sm" %}|{% avatar name %}').render(
        Context({"name": "Ana Lima"})
    )
    svg, avatar = html.split("|")
    assert svg.startswith('<svg class="icon icon-tag icon-sm"') and 'aria-hidden="true"' in svg
    assert "<path" in svg and "license" not in svg
    assert ">AL<" in avatar and 'aria-label="Ana Lima"' in avatar
    assert ui.initials("madonna") == "MA" and ui.initials("ana.lima@example.com") == "AL"
    assert "avatar-empty" in ui.avatar(None)
    with pytest.raises(ValueError, match="unknown icon"):
        ui.icon("no-such-icon")
    with pytest.raises(ValueError, match="bad icon name"):
        ui.icon("../../etc/passwd")


def test_relative_time_filters():
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    assert ui.ago(now) == "just now"
    assert ui.ago(now - timedelta(minutes=5, seconds=3)) == "5 min ago"
    assert ui.ago(now - timedelta(hours=3, minutes=10)) == "3 h ago"
    assert ui.ago(now - timedelta(days=2, hours=1)) == "2 d ago"
    assert ui.waited(now - timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert ui.waited(now - timedelta(days=3, hours=4, minutes=2)) == "3 d 4 h"
    assert ui.waited(None) == "" and ui.ago(None) == ""
    assert 23.9 < ui.hours_since(now - timedelta(hours=24)) < 24.1
