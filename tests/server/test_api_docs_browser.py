"""``/docs`` in the system Chromium with every request to another host refused: Swagger UI
still renders the API's operations, and nothing breaks the page's security policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from server_helpers import server_process

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
WAIT_MS = 20_000  # generous: the machine may be busy; nothing here measures time
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store_url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}"
    with server_process(store_url) as url:
        yield url


@pytest.fixture
def offline_page(chromium_executable: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """(a page that reaches loopback only, the requests it refused, its console messages)."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    console: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(WAIT_MS)
        context.route("**/*", only_loopback)
        page = context.new_page()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        yield page, refused, console
        browser.close()


def test_the_docs_render_the_operations_with_the_network_blocked(
    base_url: str, offline_page: tuple[Any, list[str], list[str]]
) -> None:
    from playwright.sync_api import expect

    page, refused, console = offline_page
    page.goto(f"{base_url}/docs")
    fork = page.locator(".opblock-summary-path", has_text="/v1/sessions/{session_id}/fork")
    expect(fork).to_have_count(1, timeout=WAIT_MS)
    assert page.locator(".opblock").count() > 20
    expect(page.locator(".info .title")).to_contain_text("llm-sessions")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "api-docs.png")
    page.locator(".opblock-summary", has=fork).click()
    expect(page.locator(".opblock-body").first).to_contain_text("at_event_id")
    assert refused == []
    violations = [line for line in console if "Content Security Policy" in line]
    assert violations == []
