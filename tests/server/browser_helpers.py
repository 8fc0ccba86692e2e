"""Helpers of the inspector's browser tests: a coroutine run beside Playwright's loop, signing
in through the form, and Playwright's ``expect`` with a generous timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
WAIT_MS = 10_000  # generous: the machine may be busy; nothing here measures time
WIDE = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
"""Whether the page fits the window's width (nothing to scroll sideways)."""


def run(work: Coroutine[Any, Any, _T]) -> _T:
    """Run ``work`` on an event loop of its own thread (Playwright's runs in this one)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


def sign_in(page: Any, base_url: str, key: str, path: str = "/") -> Any:
    """Open ``path``, which redirects to the login form, and sign in there with ``key``."""
    page.goto(base_url + path)
    assert "/login" in page.url
    page.fill("input[name=key]", key)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def waiting_expect() -> Any:
    """Playwright's ``expect``, waiting up to ``WAIT_MS``."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)
    return playwright_expect


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot in ``tests/artifacts/<name>.png``, to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
