"""Browser tests of the console: real headless Chromium (Debian's ``/usr/bin/chromium``, or ``$CHROMIUM``)
driven by Playwright, against a live twin with a manual clock. Run with ``make e2e`` (which installs what they
need); ``make test`` leaves this directory out. Each test signs in through the console's own form."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import LiveServer, OPERATOR, OPERATOR_HEADERS, PASSWORD, start_server

playwright_sync = pytest.importorskip("playwright.sync_api", reason="make e2e installs Playwright (the e2e extra)")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
C = "/_callyard/console"


@pytest.fixture(scope="module")
def twin() -> Iterator[LiveServer]:
    with start_server(clock="manual") as live:
        yield live


@pytest.fixture
def api(twin: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client of the same twin, reset to the tenant baseline before each test."""
    with httpx.Client(base_url=twin.url, timeout=10) as client:
        assert client.post("/_callyard/reset", headers=OPERATOR_HEADERS).status_code == 200
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make e2e` as root (it installs Debian's chromium)")
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, twin: LiveServer, api: httpx.Client) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=twin.url)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], errors


def sign_in_operator(page: Any) -> None:
    page.goto(f"{C}/login")
    page.get_by_label("Operator token").fill(OPERATOR)
    page.locator("form:has(#operator-token)").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{C}/switchboard")


def sign_in_admin(page: Any, email: str) -> None:
    page.goto(f"{C}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form:has(#username)").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{C}/switchboard")


def shot(page: Any, name: str) -> None:
    """A screenshot for docs/console.md (every e2e run takes them again)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
