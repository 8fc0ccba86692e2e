"""The inspector's search page: the caller's events whose text matches, best first.

One ``search`` of the caller's view of the store (a ``TenantStore``, so another tenant's events
never show) per page. Each hit links to its event on its session's page (``#event-<id>``), where
the script loads the event, marks it and scrolls it into view. A snippet's matched words come
in ``[brackets]``; they are shown as ``<mark>`` elements, every piece of text escaped first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from ...exceptions import InvalidInputError, InvalidSessionOperation
from ...storage import SearchHit, SearchPage
from ..tenancy import TenantStore
from .templates import moment_text, page, search_form, session_href, text

__all__ = [
    "PAGE_SIZE",
    "SearchOutcome",
    "event_href",
    "marked_snippet",
    "run_search",
    "search_page",
]

PAGE_SIZE = 20
"""Hits per page."""
_MARKED = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class SearchOutcome:
    """What a search page shows: the hits (None before a search or after a problem), the
    problem in words, and the HTTP status that goes with it."""

    found: SearchPage | None = None
    problem: str = ""
    status: int = 200


async def run_search(
    store: TenantStore, query: str | None, user: str, after: str | None
) -> SearchOutcome:
    """The outcome of searching ``store`` for ``query`` (None: nothing asked yet): a bad
    query or page link is a 422 and a store that cannot search a 409, each with a message."""
    if query is None:
        return SearchOutcome()
    where = {"user_id": user} if user else None
    try:
        found = await store.search(query, where, limit=PAGE_SIZE, cursor=after)
    except InvalidInputError as exc:
        return SearchOutcome(problem=f"Cannot search: {exc}", status=422)
    except InvalidSessionOperation as exc:
        return SearchOutcome(problem=str(exc), status=409)
    return SearchOutcome(found)


def marked_snippet(snippet: str) -> str:
    """``snippet`` as HTML: each ``[word]`` as ``<mark>word</mark>``, all text escaped."""
    pieces: list[str] = []
    last = 0
    for match in _MARKED.finditer(snippet):
        pieces.append(text(snippet[last : match.start()]))
        pieces.append(f"<mark>{text(match.group(1))}</mark>")
        last = match.end()
    pieces.append(text(snippet[last:]))
    return "".join(pieces)


def event_href(session_id: str, event_id: str) -> str:
    """The inspector's URL of an event: its session's page, scrolled to the event."""
    return f"{session_href(session_id)}#event-{quote(event_id, safe='')}"


def search_page(outcome: SearchOutcome, wanted: Mapping[str, str], *, signed_in: bool) -> str:
    """The search page: the form, then the problem or the hits with a link to the next page."""
    problem = outcome.problem
    message = f'<p class="problem" role="alert">{text(problem)}</p>' if problem else ""
    body = (
        '<h1>Search events</h1><p class="links"><a href="/">All sessions</a></p>'
        f"{search_form(wanted)}{message}"
    )
    if outcome.found is not None:
        body += _hits(outcome.found.items) + _next_link(outcome.found, wanted)
    return page("Search", body, signed_in=signed_in, main_attributes=' id="search-page"')


def _hits(hits: list[SearchHit]) -> str:
    if not hits:
        return '<p class="empty">No events match.</p>'
    items = "".join(_hit(hit) for hit in hits)
    return f'<ol class="hits">{items}</ol>'


def _hit(hit: SearchHit) -> str:
    when = moment_text(hit.created_at)
    user = f'<span class="hit-user">user {text(hit.user_id)}</span>' if hit.user_id else ""
    return (
        f'<li class="hit" data-event-id="{text(hit.event_id)}">'
        f'<a class="hit-link" href="{text(event_href(hit.session_id, hit.event_id))}">'
        f'<span class="hit-session">{text(hit.session_id)}</span></a> '
        f'<span class="hit-meta">{text(hit.event_type)} · {text(when)} UTC</span> {user}'
        f'<p class="snippet">{marked_snippet(hit.snippet)}</p></li>'
    )


def _next_link(found: SearchPage, wanted: Mapping[str, str]) -> str:
    shown = f"<span>{len(found.items)} hits</span>"
    if found.next_cursor is None:
        return f'<nav class="pager" aria-label="pages">{shown}</nav>'
    kept = {k: v for k, v in wanted.items() if v and k != "after"}
    query = urlencode({**kept, "after": found.next_cursor})
    link = f'<a href="/search?{text(query)}" rel="next">next</a>'
    return f'<nav class="pager" aria-label="pages">{shown} {link}</nav>'
