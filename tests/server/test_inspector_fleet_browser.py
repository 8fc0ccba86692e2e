"""The inspector over many sessions in a real browser (system Chromium, Playwright) against a
real server process: 2,000 sessions of 20 users on a SQLite file. The sessions page becomes
interactive, shows each row's user and properties, filters, sorts by every column and pages
by cursor; the usage page's charts add up to the store's own totals; it all fits a phone.

Screenshots go to the test's ``tmp_path`` and are checked there: the expected size, and not
blank. (How fast the page is at 100,000 sessions is measured by ``bench_inspector.py``.)
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import FITS, PHONE, WIDE, run, waiting_expect
from fleet_seed import START, USERS, fill
from server_helpers import server_process

from llm_sessions.storage import SQLiteSessionStore, UsageRow

pytestmark = pytest.mark.slow
SESSIONS = 2_000
SINCE, UNTIL = "2026-11-01", "2026-11-10"


async def _seed(path: Path) -> list[UsageRow]:
    store = SQLiteSessionStore(str(path), synchronous="off")
    try:
        await fill(store, SESSIONS)
        return await store.usage(group_by=(), since=SINCE, until="2026-11-11")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, UsageRow]]:
    """(base URL, the window's totals) of a keyless server over the seeded SQLite file."""
    path = tmp_path_factory.mktemp("fleet") / "fleet.db"
    (total,) = run(_seed(path))
    with server_process(f"sqlite:///{path}") as base_url:
        yield base_url, total


def _shot(page: Any, path: Path, width: int) -> None:
    """A full-page screenshot at ``path``: a PNG of ``width`` px, with more than a few
    colours (decoded by the browser on a blank page of its own)."""
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    shot_width, shot_height = struct.unpack(">II", data[16:24])
    assert shot_width == width and shot_height >= 400
    viewer = page.context.new_page()
    colours = viewer.evaluate(
        """async (url) => {
          const image = new Image();
          image.src = url;
          await image.decode();
          const canvas = document.createElement("canvas");
          canvas.width = image.width;
          canvas.height = image.height;
          const context = canvas.getContext("2d");
          context.drawImage(image, 0, 0);
          const pixels = context.getImageData(0, 0, image.width, image.height).data;
          const seen = new Set();
          for (let i = 0; i < pixels.length; i += 4 * 97) {
            seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
          }
          return seen.size;
        }""",
        "data:image/png;base64," + base64.b64encode(data).decode(),
    )
    viewer.close()
    assert colours > 20, path


ONE_LINE = """elements => elements.every(element => {
  const range = document.createRange();
  range.selectNodeContents(element);
  return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size === 1;
})"""
"""Whether each element's text is on one line (a wrapped text has boxes at two heights)."""


def _ready(page: Any, page_id: str = "sessions") -> None:
    waiting_expect()(page.locator(f"#{page_id}[data-ready=true]")).to_have_count(1)


def _follow(page: Any, selector: str) -> None:
    """Click a link and wait for the page it opens to become interactive."""
    with page.expect_navigation():
        page.click(selector)
    _ready(page)


def _column(page: Any, cell: str) -> list[str]:
    return [text.strip() for text in page.locator(f"tr.session td.{cell}").all_inner_texts()]


def _numbers(texts: list[str]) -> list[float]:
    return [float(text.split()[0].replace(",", "")) for text in texts]


def test_the_sessions_page_lists_filters_sorts_and_pages(
    page: Any, fleet: tuple[str, UsageRow], tmp_path: Path
) -> None:
    expect = waiting_expect()
    base_url, _ = fleet
    page.goto(base_url + "/")
    _ready(page)
    rows = page.locator("tr.session")
    expect(rows).to_have_count(50)
    assert _column(page, "id a")[0] == f"fleet-{SESSIONS - 1:06d}"  # newest first
    users = _column(page, "user")
    assert all(user.startswith("user-") for user in users)
    assert all("team=" in one and "tier=" in one for one in _column(page, "properties"))
    assert page.evaluate(FITS)
    assert page.locator("tr.session td.models .model").count() >= 50
    for words in ("tr.session td.user", "tr.session td.models .model"):
        assert page.locator(words).evaluate_all(ONE_LINE), words
    _shot(page, tmp_path / "sessions-wide.png", WIDE["width"])

    page.fill("input[name=user]", "user-07")
    page.fill("input[name=property]", "team=gold")
    _follow(page, "form.filters button[type=submit]")
    assert set(_column(page, "user")) == {"user-07"}
    assert all("team=gold" in one for one in _column(page, "properties"))
    assert len(_column(page, "user")) == 50  # 100 sessions match: two pages

    _follow(page, "th.col-cost a.sort")
    assert "order=-cost" in page.url
    costs = _numbers(_column(page, "cost"))
    assert costs == sorted(costs, reverse=True)
    _follow(page, "th.col-cost a.sort")
    assert "order=cost" in page.url and "user=user-07" in page.url
    ascending = _numbers(_column(page, "cost"))
    assert ascending == sorted(ascending) and ascending[0] < costs[0]
    assert page.locator("th.col-cost").get_attribute("aria-sort") == "ascending"

    first_ids = _column(page, "id a")
    _follow(page, "a[rel=next]")
    following = _column(page, "id a")
    assert len(following) == 50 and not set(following) & set(first_ids)
    _follow(page, "a[rel=prev]")
    assert _column(page, "id a") == first_ids


def test_least_cost_model_and_token_sort(page: Any, fleet: tuple[str, UsageRow]) -> None:
    base_url, _ = fleet
    page.goto(f"{base_url}/?model=o3-mini&min_cost=0.0001&order=tokens")
    _ready(page)
    assert set(_column(page, "models")) == {"o3-mini"}
    assert min(_numbers(_column(page, "cost"))) >= 0.0001
    tokens = _numbers(_column(page, "token-count"))
    assert tokens == sorted(tokens) and len(tokens) == 50
    page.goto(f"{base_url}/?order=created_at")
    _ready(page)
    assert _column(page, "id a")[0] == "fleet-000000"


def test_the_usage_page_charts_the_stores_totals(
    page: Any, fleet: tuple[str, UsageRow], tmp_path: Path
) -> None:
    base_url, total = fleet
    page.goto(base_url + "/")
    with page.expect_navigation():
        page.click("text=Usage by day")
    page.fill("input[name=since]", SINCE)
    page.fill("input[name=until]", UNTIL)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    _ready(page, "usage-page")
    totals = page.locator("p.totals")
    assert int(totals.get_attribute("data-sessions") or 0) == total.sessions == SESSIONS
    assert int(totals.get_attribute("data-tokens") or 0) == total.tokens
    for by in ("by-model", "by-user"):
        cost = float(page.locator(f"svg#{by}-usd").get_attribute("data-total") or "nan")
        tokens = float(page.locator(f"svg#{by}-tokens").get_attribute("data-total") or "nan")
        assert cost == pytest.approx(total.cost_usd) and tokens == total.tokens
        assert page.locator(f"svg#{by}-usd rect").count() > 10  # bars on every day
    assert page.locator("#by-user table.usage-data tbody tr").count() == USERS
    assert page.locator("#by-model ul.legend li").count() == 5
    assert page.evaluate(FITS)
    _shot(page, tmp_path / "usage-wide.png", WIDE["width"])
    assert page.failed == []
    day = START.date().isoformat()
    assert page.locator(f"svg#by-model-usd rect title:text-matches('^{day}')").count() == 5


def test_both_pages_fit_a_phone(page: Any, fleet: tuple[str, UsageRow], tmp_path: Path) -> None:
    base_url, _ = fleet
    page.set_viewport_size(PHONE)
    page.goto(f"{base_url}/?order=-tokens")
    _ready(page)
    assert page.evaluate(FITS)
    waiting_expect()(page.locator("select[name=order]")).to_be_visible()
    assert page.locator("select[name=order]").input_value() == "-tokens"
    _shot(page, tmp_path / "sessions-phone.png", PHONE["width"])
    page.goto(f"{base_url}/usage?since={SINCE}&until={UNTIL}")
    _ready(page, "usage-page")
    assert page.evaluate(FITS)
    _shot(page, tmp_path / "usage-phone.png", PHONE["width"])
