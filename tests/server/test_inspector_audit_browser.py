"""The audit log page in a real browser: the system Chromium driven by Playwright against a
real server process over a SQLite file, reached from the nav, tenant-scoped and read only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import FITS, PHONE, run, screenshot, sign_in, waiting_expect
from inspector_seed import put_dated_session
from server_helpers import KEY_A, KEYS, server_process

from llm_sessions.server import TenantStore
from llm_sessions.storage import Retention, open_store

pytestmark = pytest.mark.slow


async def _seed(store_url: str) -> None:
    async with open_store(store_url) as store:
        for session_id in ("alpha.kept", "alpha.stale", "alpha.asked", "beta.stale"):
            await put_dated_session(
                store, session_id, days_ago=200 if "kept" not in session_id else 0
            )
        await TenantStore(store, "alpha").erase(
            session_ids=["alpha.asked"], actor="dpo@example.com"
        )
        await TenantStore(store, "alpha").apply_retention(Retention(max_age="90d"))
        await TenantStore(store, "beta").apply_retention(Retention(max_age="90d"))


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store_url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'audit.db'}"
    run(_seed(store_url))
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(store_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url


def test_the_audit_log_is_reached_from_the_nav_and_shows_the_tenants_erasures(
    page: Any, keyed: str
) -> None:
    sign_in(page, keyed, KEY_A, "/")
    expect = waiting_expect()
    with page.expect_navigation():
        page.click("nav.sections >> text=Audit log")
    assert page.url.endswith("/audit")
    expect(page.locator("h1")).to_have_text("Audit log")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("retention")
    expect(rows.nth(0).locator("td.filter")).to_contain_text('"max_age": "90d"')
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("dpo@example.com")
    expect(page.locator("main")).not_to_contain_text("beta")
    expect(page.locator("main form, main button, main input")).to_have_count(0)
    expect(page.locator('nav.sections a[aria-current="page"]')).to_have_text("Audit log")
    screenshot(page, "inspector-audit")
    assert page.failed == []


def test_the_audit_log_fits_a_phone(browser: Any, keyed: str) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        phone = context.new_page()
        sign_in(phone, keyed, KEY_A, "/audit")
        waiting_expect()(phone.locator("table.audit tbody tr")).to_have_count(2)
        assert phone.evaluate(FITS), "the audit log scrolls sideways on a phone"
        screenshot(phone, "inspector-audit-phone")
        for path in ("/", "/usage"):
            phone.goto(keyed + path)
            assert phone.evaluate(FITS), f"{path} scrolls sideways on a phone"
    finally:
        context.close()
