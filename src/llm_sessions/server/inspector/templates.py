"""The inspector's HTML, written as small string templates: every value goes through ``text``.

There is no template engine among the server's dependencies, and the pages are few and plain;
``text`` escapes ``& < > " '`` so a value is safe in element content and in quoted attributes.
Pages carry no inline script or style: behaviour lives in ``static/pages.js`` (every page) and
``static/inspector.js`` (a session's page).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import quote, urlencode

from ...prompting import PromptStrategy
from ...tokens.pricing import cost_text
from .assets import ASSET_PREFIX, asset_url
from .listing import DEFAULT_ORDER, SessionPage, SessionRow

__all__ = [
    "ASSET_PREFIX",
    "error_page",
    "login_page",
    "moment_text",
    "page",
    "search_form",
    "session_href",
    "session_page",
    "sessions_page",
    "text",
]

_NEXT = "next"
"""The prompt form's default choice: what ``get_messages_for_llm`` sends (no strategy)."""


def text(value: object) -> str:
    """``value`` as HTML text (also safe inside a quoted attribute)."""
    return html.escape(str(value), quote=True)


def session_href(session_id: str) -> str:
    """The inspector's URL of a session."""
    return f"/sessions/{quote(session_id, safe='')}"


_SECTIONS = (
    ("/", "Sessions"),
    ("/search", "Search"),
    ("/usage", "Usage"),
    ("/audit", "Audit log"),
)


def page(
    title: str,
    body: str,
    *,
    signed_in: bool,
    main_attributes: str = "",
    nav: bool = True,
    scripts: tuple[str, ...] = ("pages.js",),
) -> str:
    """A whole page: ``body`` (already HTML) under the inspector's header (with the links to
    the other pages unless ``nav`` is False), with the static ``scripts`` (deferred, in order)."""
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{href}"{current if name == title else ""}>{name}</a>' for href, name in _SECTIONS
    )
    sections = f'<nav class="sections" aria-label="pages">{links}</nav>' if nav else ""
    logout = (
        '<form method="post" action="/logout" class="logout">'
        '<button type="submit">Log out</button></form>'
        if signed_in
        else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)} · llm-sessions</title>"
        '<link rel="icon" href="/favicon.ico" type="image/x-icon">'
        f'<link rel="stylesheet" href="{asset_url("inspector.css")}">'
        + "".join(f'<script src="{asset_url(name)}" defer></script>' for name in scripts)
        + "</head><body>"
        f'<header class="top"><a href="/" class="brand">llm-sessions</a>{sections}{logout}'
        "</header>"
        f"<main{main_attributes}>{body}</main></body></html>"
    )


def login_page(next_path: str, problem: str = "") -> str:
    """The form that asks for an API key once."""
    message = f'<p class="problem" role="alert">{text(problem)}</p>' if problem else ""
    body = (
        "<h1>Sign in</h1>"
        "<p>Enter an API key of this server. It is kept in a cookie scripts cannot read.</p>"
        f"{message}"
        '<form method="post" action="/login" class="login">'
        f'<input type="hidden" name="next" value="{text(next_path)}">'
        '<label>API key <input type="password" name="key" autocomplete="current-password" '
        "required autofocus></label>"
        '<button type="submit">Open the inspector</button></form>'
    )
    return page("Sign in", body, signed_in=False, nav=False)


def error_page(title: str, message: str, *, signed_in: bool) -> str:
    """A page that says what went wrong."""
    body = f'<h1>{text(title)}</h1><p class="problem" role="alert">{text(message)}</p>'
    body += '<p><a href="/">All sessions</a></p>'
    return page(title, body, signed_in=signed_in)


def sessions_page(
    listing: SessionPage | None, wanted: Mapping[str, str], *, signed_in: bool, problem: str = ""
) -> str:
    """The sessions page: the filter form and the table (``listing`` None: only the problem)."""
    message = f'<p class="problem" role="alert">{text(problem)}</p>' if problem else ""
    order = listing.order if listing is not None else wanted.get("order", "") or DEFAULT_ORDER
    table = _sessions_table(listing.rows, wanted, order) if listing is not None else ""
    pager = _pager(listing, wanted) if listing is not None else ""
    links = (
        '<p class="links"><a href="/usage">Usage by day: cost and tokens</a> · '
        '<a href="/search">Search events</a></p>'
    )
    search = search_form({}, with_user=False)
    body = f"<h1>Sessions</h1>{links}{search}{_filter_form(wanted, order)}{message}{table}{pager}"
    return page("Sessions", body, signed_in=signed_in, main_attributes=' id="sessions"')


def search_form(wanted: Mapping[str, str], *, with_user: bool = True) -> str:
    """The search form: words and (``with_user``) a user; the sessions page shows the words
    only."""
    query = text(_valid(wanted.get("q", "")))
    user = text(_valid(wanted.get("user", "")))
    user_field = f'<label>user <input type="text" name="user" value="{user}"></label>'
    return (
        '<form method="get" action="/search" class="search" role="search">'
        '<label>search events <input type="search" name="q" '
        f'value="{query}" placeholder="words or &quot;a phrase&quot;"></label>'
        f"{user_field if with_user else ''}"
        '<button type="submit">Search</button></form>'
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid(value: str) -> str:
    """``value`` with any lone surrogate (which no page can encode) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


_ORDER_NAMES = {
    "updated_at": "last updated",
    "created_at": "created",
    "cost": "cost",
    "tokens": "tokens",
}


def _filter_form(wanted: Mapping[str, str], order: str) -> str:
    def field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        value = text(wanted.get(name, ""))
        return f'<label>{label} <input type="{kind}" name="{name}" value="{value}"{extra}></label>'

    choices = "".join(
        f'<option value="{sign}{key}"{" selected" if sign + key == order else ""}>'
        f"{name}, {'highest or newest' if sign else 'lowest or oldest'} first</option>"
        for key, name in _ORDER_NAMES.items()
        for sign in ("-", "")
    )
    return (
        '<form method="get" action="/" class="filters">'
        + field("prefix", "id starts with")
        + field("since", "updated from", "date")
        + field("until", "to", "date")
        + field("model", "model")
        + field("user", "user")
        + field("property", "property KEY=VALUE")
        + field("min_cost", "cost at least (USD)", "number", ' min="0" step="any"')
        + f'<label>sort by <select name="order">{choices}</select></label>'
        + '<button type="submit">Filter</button> <a href="/">clear</a></form>'
    )


_COLUMNS = (
    ("id", "id", None),
    ("created", "created (UTC)", "created_at"),
    ("updated", "updated (UTC)", "updated_at"),
    ("events", "events", None),
    ("tokens", "tokens", "tokens"),
    ("cost", "cost (USD)", "cost"),
    ("models", "models", None),
    ("user", "user", None),
    ("properties", "properties", None),
)


def _head(wanted: Mapping[str, str], order: str, columns: Iterable[str]) -> str:
    """The heads of ``columns``; a sortable one links to its order, the other way round when
    the page is already sorted by it (highest or newest first otherwise)."""
    kept = {k: v for k, v in wanted.items() if v and k not in ("order", "after", "before")}
    cells = []
    shown = set(columns)
    for name, label, key in _COLUMNS:
        if name not in shown:
            continue
        if key is None:
            cells.append(f'<th class="col-{name}">{label}</th>')
            continue
        current = order.removeprefix("-") == key
        descending = order.startswith("-")
        target = (key if descending else f"-{key}") if current else f"-{key}"
        href = text("/?" + urlencode({**kept, "order": target}))
        sort = ""
        mark = ""
        if current:
            sort = f' aria-sort="{"descending" if descending else "ascending"}"'
            mark = f'<span aria-hidden="true">{" ▼" if descending else " ▲"}</span>'
        cells.append(
            f'<th class="col-{name}"{sort}><a href="{href}" class="sort" data-order="{target}">'
            f"{label}{mark}</a></th>"
        )
    return "".join(cells)


def _sessions_table(rows: Iterable[SessionRow], wanted: Mapping[str, str], order: str) -> str:
    listed = list(rows)
    if not listed:
        return '<p class="empty">No sessions.</p>'
    # A column no row of the page fills is left out: its room goes to the others.
    optional = {"user": any(row.user_id for row in listed)}
    optional["properties"] = any(row.properties for row in listed)
    columns = [name for name, _, _ in _COLUMNS if optional.get(name, True)]
    lines = "".join(_row_html(row, optional["user"], optional["properties"]) for row in listed)
    return (
        f'<table class="sessions"><thead><tr>{_head(wanted, order, columns)}</tr></thead>'
        f"<tbody>{lines}</tbody></table>"
    )


def _row_html(row: SessionRow, user: bool, properties: bool) -> str:
    identifier = text(row.id)
    cost = text(cost_text(row.priced_cost_usd, row.unpriced_models))
    if row.unpriced_models:  # the names may wrap, the figure not
        cost += f'<span class="unpriced"> ({text(", ".join(row.unpriced_models))})</span>'
    return (
        '<tr class="session">'
        f'<td class="id"><a href="{text(session_href(row.id))}">{identifier}</a> '
        f'<button type="button" class="copy" data-copy="{identifier}">copy</button>'
        f"{_segments(row.segments)}</td>"
        f'<td class="created">{text(moment_text(row.created))}</td>'
        f'<td class="updated">{text(moment_text(row.updated))}</td>'
        f'<td class="num event-count">{_count(row.events, "event")}</td>'
        f'<td class="num token-count">{_count(row.tokens, "token")}</td>'
        f'<td class="num cost">{cost}</td>'
        f'<td class="models">{", ".join(_model(name) for name in row.models)}</td>'
        + (f'<td class="user">{text(row.user_id or "")}</td>' if user else "")
        + (f'<td class="properties">{_properties(row)}</td>' if properties else "")
        + "</tr>"
    )


def _model(name: str) -> str:
    return f'<span class="model">{text(name)}</span>'


def _properties(row: SessionRow) -> str:
    shown = []
    for name, value in row.properties:
        whole = f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        cut = whole if len(whole) <= _SHOWN_CHARS else whole[: _SHOWN_CHARS - 1] + "…"
        shown.append(f'<span class="property" title="{text(whole)}">{text(cut)}</span>')
    return " ".join(shown)


_SHOWN_CHARS = 40
"""A property longer than this shows its start (and whole in its tooltip)."""


def _segments(ids: tuple[str, ...]) -> str:
    """The segments of a conversation's row, oldest first, behind a summary of their count."""
    if not ids:
        return ""
    links = "".join(f'<li><a href="{text(session_href(one))}">{text(one)}</a></li>' for one in ids)
    return (
        f'<details class="segments"><summary>{len(ids)} segments</summary><ol>{links}</ol>'
        "</details>"
    )


def _pager(listing: SessionPage, wanted: Mapping[str, str]) -> str:
    kept = {k: v for k, v in wanted.items() if v and k not in ("order", "after", "before")}
    kept["order"] = listing.order
    links = []
    if listing.previous_cursor is not None:
        links.append(f'<a href="/?{text(urlencode(kept))}" rel="first">first page</a>')
        query = urlencode({**kept, "before": listing.previous_cursor})
        links.append(f'<a href="/?{text(query)}" rel="prev">previous</a>')
    if listing.next_cursor is not None:
        query = urlencode({**kept, "after": listing.next_cursor})
        links.append(f'<a href="/?{text(query)}" rel="next">next</a>')
    shown = f"<span>{len(listing.rows)} rows</span>"
    return f'<nav class="pager" aria-label="pages">{shown} {" ".join(links)}</nav>'


def session_page(session_id: str, *, signed_in: bool) -> str:
    """A session's page; its script fills the panels from the JSON API."""
    identifier = text(session_id)
    options = f'<option value="{_NEXT}">what get_messages_for_llm sends</option>' + "".join(
        f'<option value="{strategy.value}">{strategy.value}</option>' for strategy in PromptStrategy
    )
    export_base = f"/v1/sessions/{text(quote(session_id, safe=''))}/export"
    body = (
        f'<h1>Session <span class="id">{identifier}</span> '
        f'<button type="button" class="copy" data-copy="{identifier}">copy</button></h1>'
        '<p id="position" class="position"></p>'
        '<p id="forked-from" class="forked-from" hidden></p>'
        '<div class="actions">'
        '<button type="button" id="fork">Fork</button> '
        f'<a href="{export_base}?format=jsonl" download>Export JSONL</a> '
        f'<a href="{export_base}?format=openai" download>Export OpenAI messages</a> '
        '<span id="live" class="live">connecting…</span></div>'
        '<section class="panel conversation"><h2>Events</h2>'
        '<div id="events" class="events">'
        '<button type="button" id="older" hidden>Load older events</button>'
        '<ol id="tree" class="tree"></ol><p id="next-segment" hidden></p></div></section>'
        '<section class="panel"><h2>Runs</h2><div id="runs">loading…</div></section>'
        '<section class="panel"><h2>Tokens and cost</h2><div id="usage">loading…</div></section>'
        '<section class="panel"><h2>The prompt the model would get next</h2>'
        '<form id="prompt-form" class="filters">'
        f'<label>strategy <select name="strategy">{options}</select></label>'
        '<label>token budget <input type="number" name="max_tokens" min="1" '
        'placeholder="none"></label>'
        '<label>model <input type="text" name="model" value="gpt-4o-mini"></label>'
        '<button type="submit">Build</button></form><div id="prompt"></div></section>'
    )
    return page(
        f"Session {session_id}",
        body,
        signed_in=signed_in,
        main_attributes=f' id="session" data-session-id="{identifier}"',
        scripts=("pages.js", "inspector.js"),
    )


def _count(number: int, unit: str) -> str:
    """``number``, and its unit for a narrow window, where the column heads are hidden."""
    plural = "" if number == 1 else "s"
    return f'{number:,}<span class="unit"> {unit}{plural}</span>'


def moment_text(moment: datetime) -> str:
    """A time as every inspector page shows it (UTC, to the second)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")
