"""Browser tests: Playwright driving the system Chromium against a real uvicorn (tests/live).

Playwright's own browser download does not work offline; `make test` installs Debian's
`chromium` (scripts/test-deps.sh) and we launch that. Screenshots of every screen go to
$FRONTLINE_ARTIFACTS (default var/test-artifacts/screens) for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.conftest import free_port, live_server_asgi  # noqa: F401  (fixture)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]
ARTIFACTS = Path(os.environ.get("FRONTLINE_ARTIFACTS", "var/test-artifacts")) / "screens"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is missing: run `bash scripts/test-deps.sh` (apt chromium) first")
    return path


@pytest.fixture(scope="package")
def browser(chromium_path):
    """One Chromium for the browser tests. Package-scoped on purpose: Playwright's sync API
    keeps an event loop running on the main thread while it is open, which would break the
    asyncio tests of other packages."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the main thread, which makes Django refuse
    # ORM calls from the test body (the server itself runs in its own thread). Django's docs
    # name this variable for exactly this case.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_page(browser):
    """Pages in separate contexts (separate cookies and storage: separate people)."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}--{name}.png"), full_page=True)

    return shoot


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def customer_site(tmp_path) -> Iterator[tuple[str, Path]]:
    """A customer's web site on another origin, where the widget is embedded."""
    port = free_port()
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", tmp_path
    server.shutdown()
    server.server_close()


def login(page, base_url: str, username: str, password: str = "password123") -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/tickets/**")
