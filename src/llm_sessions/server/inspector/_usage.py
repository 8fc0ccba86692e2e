"""The inspector's usage page: cost and tokens per day, by model and by user, as inline SVG.

Read from ``usage`` only (the stores' summary rows, never events), scoped to the caller's
tenant: one rollup by day and model, one by day and user. Each chart stacks a bar per day of
the window, one colour per model or user (the costliest ``MAX_SERIES`` - 1, then "others");
the numbers are in a table under the charts. The SVG is drawn on the server: no script and no
style attribute (colours come from the stylesheet's classes), so the page passes the
inspector's Content-Security-Policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ...exceptions import InvalidInputError
from ...storage._fleet_query import UsageRow
from ..tenancy import TenantStore
from .templates import page, text

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "UsageTotals", "UsageWindow", "usage_page", "usage_totals"]

DEFAULT_DAYS = 7
MAX_DAYS = 366
MAX_SERIES = 8
"""Colours a chart shows: the costliest series, then one for all the others."""
_OTHERS = "others"
_WIDTH, _HEIGHT = 560, 220
_LEFT, _TOP, _BOTTOM = 64, 12, 28


@dataclass(frozen=True)
class UsageWindow:
    """The days charted (UTC, both inclusive)."""

    since: date
    until: date

    @classmethod
    def parse(cls, since: str, until: str, today: date) -> UsageWindow:
        """The window from query text: ``DEFAULT_DAYS`` up to ``today`` by default; a bad
        date, or a window that is backwards or longer than ``MAX_DAYS``, raises
        ``InvalidInputError`` naming it."""
        end = _date("until", until) or today
        start = _date("since", since) or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise InvalidInputError("until", until, f"must not be before since={start}")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInputError(
                "since", since, f"must be at most {MAX_DAYS} days before until={end}"
            )
        return cls(start, end)

    def days(self) -> list[str]:
        """Every day of the window, oldest first, as ``YYYY-MM-DD``."""
        count = (self.until - self.since).days + 1
        return [(self.since + timedelta(days=n)).isoformat() for n in range(count)]


@dataclass
class Series:
    """One model's or user's totals: per day, and over the window."""

    name: str
    cost: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    unpriced: bool = False

    @property
    def total_cost(self) -> float:
        """The cost over every day."""
        return sum(self.cost.values())

    @property
    def total_tokens(self) -> int:
        """The tokens over every day."""
        return sum(self.tokens.values())


@dataclass(frozen=True)
class UsageTotals:
    """What the page shows: the window, the series by model and by user, and the totals."""

    window: UsageWindow
    by_model: list[Series]
    by_user: list[Series]
    sessions: int
    tokens: int
    cost_usd: float


async def usage_totals(store: TenantStore, window: UsageWindow) -> UsageTotals:
    """The tenant's totals over ``window``: two ``usage`` rollups, by day and model and by
    day and user."""
    since = datetime.combine(window.since, time(), UTC)
    until = datetime.combine(window.until + timedelta(days=1), time(), UTC)
    models = await store.usage(group_by=("day", "model"), since=since, until=until)
    users = await store.usage(group_by=("day", "user_id"), since=since, until=until)
    return UsageTotals(
        window=window,
        by_model=_series(models, "model", "(no model)"),
        by_user=_series(users, "user_id", "(no user)"),
        sessions=sum(row.sessions for row in users),
        tokens=sum(row.tokens for row in users),
        cost_usd=sum(row.cost_usd for row in users),
    )


def _series(rows: list[UsageRow], name: str, nobody: str) -> list[Series]:
    """Series per value of ``name``, costliest (then most tokens) first; a series with no
    tokens and no cost (events without usage) is left out."""
    found: dict[str, Series] = {}
    for row in rows:
        label = str(row.key[name]) if row.key[name] is not None else nobody
        series = found.setdefault(label, Series(label))
        day = str(row.key["day"])
        series.cost[day] = series.cost.get(day, 0.0) + row.cost_usd
        series.tokens[day] = series.tokens.get(day, 0) + row.tokens
        series.sessions += row.sessions
        series.unpriced = series.unpriced or bool(row.unpriced_models)
    kept = [one for one in found.values() if one.total_tokens or one.total_cost]
    return sorted(kept, key=lambda one: (-one.total_cost, -one.total_tokens, one.name))


def _charted(series: list[Series]) -> list[Series]:
    """At most ``MAX_SERIES`` series: the first ones, then the rest added up as "others"."""
    if len(series) <= MAX_SERIES:
        return series
    others = Series(_OTHERS)
    for one in series[MAX_SERIES - 1 :]:
        for day, cost in one.cost.items():
            others.cost[day] = others.cost.get(day, 0.0) + cost
        for day, tokens in one.tokens.items():
            others.tokens[day] = others.tokens.get(day, 0) + tokens
        others.sessions += one.sessions
        others.unpriced = others.unpriced or one.unpriced
    return [*series[: MAX_SERIES - 1], others]


def _nice(largest: float) -> float:
    """The top of a chart's scale: 1, 2, 2.5 or 5 times a power of ten, at least ``largest``."""
    if largest <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= largest)


def _amount(value: float, unit: str) -> str:
    if unit == "USD":
        # Three significant digits below a dollar: a tick at 0.0125 must not read 0.01.
        return "$0" if value == 0 else f"${value:.3g}" if value < 1 else f"${value:,.2f}"
    return f"{round(value):,}"


def _chart(ident: str, title: str, unit: str, series: list[Series], days: list[str]) -> str:
    """A stacked bar chart of one measure (``unit``: USD or tokens) per day."""
    measure = [one.cost if unit == "USD" else one.tokens for one in series]
    totals = [sum(values.get(day, 0) for values in measure) for day in days]
    top = _nice(max(totals, default=0.0))
    plot_w, plot_h = _WIDTH - _LEFT - 8, _HEIGHT - _TOP - _BOTTOM
    step = plot_w / max(len(days), 1)
    parts = [f'<title id="{ident}-title">{text(title)}</title>']
    for fraction in (0, 0.5, 1):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{text(_amount(top * fraction, unit))}</text>"
        )
    for n, day in enumerate(days):
        x, base = _LEFT + n * step, 0.0
        for index, values in enumerate(measure):
            value = values.get(day, 0)
            if value <= 0:
                continue
            height = plot_h * value / top
            y = _TOP + plot_h * (1 - (base + value) / top)
            label = f"{day} · {series[index].name}: {_amount(value, unit)}"
            parts.append(
                f'<rect class="series-{index}" x="{x + step * 0.1:.1f}" y="{y:.1f}" '
                f'width="{step * 0.8:.1f}" height="{max(height, 0.5):.1f}">'
                f"<title>{text(label)}</title></rect>"
            )
            base += value
        if n in _labelled(len(days)):
            parts.append(
                f'<text class="axis" x="{x + step / 2:.1f}" y="{_HEIGHT - 8}" '
                f'text-anchor="middle">{text(day[5:])}</text>'
            )
    return (
        f'<svg class="chart" id="{ident}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title" data-total="{sum(totals)!r}">{"".join(parts)}</svg>'
    )


def _labelled(count: int) -> set[int]:
    """Which days get a date under their bar: about six, always the first and the last."""
    every = max(1, math.ceil(count / 6))
    shown = set(range(0, count - every // 2, every))
    return {*shown, count - 1}


def _legend(series: list[Series]) -> str:
    items = "".join(
        f'<li><span class="swatch series-{index}" aria-hidden="true"></span>{text(one.name)}</li>'
        for index, one in enumerate(series)
    )
    return f'<ul class="legend">{items}</ul>'


def _table(caption: str, series: list[Series], sessions: int) -> str:
    """The numbers behind a pair of charts: one row per model or user, and the total."""
    rows = "".join(
        f'<tr><th scope="row">{text(one.name)}</th><td class="num">{one.sessions:,}</td>'
        f'<td class="num">{one.total_tokens:,}</td>'
        f'<td class="num">{one.total_cost:.6f}{" + unpriced" if one.unpriced else ""}</td></tr>'
        for one in series
    )
    cost = sum(one.total_cost for one in series)
    tokens = sum(one.total_tokens for one in series)
    return (
        f'<table class="usage-data"><caption>{text(caption)}</caption><thead><tr>'
        '<th scope="col">name</th><th scope="col">sessions</th><th scope="col">tokens</th>'
        f'<th scope="col">cost (USD)</th></tr></thead><tbody>{rows}</tbody><tfoot><tr>'
        f'<th scope="row">total</th><td class="num">{sessions:,}</td>'
        f'<td class="num">{tokens:,}</td><td class="num">{cost:.6f}</td></tr></tfoot></table>'
    )


def _section(ident: str, label: str, series: list[Series], totals: UsageTotals) -> str:
    days = totals.window.days()
    charted = _charted(series)
    head = f'<section class="panel" id="{ident}"><h2>By {label}</h2>'
    if not charted:
        return f'{head}<p class="empty">No usage.</p></section>'
    figures = ""
    for unit, title in (("USD", "Cost (USD)"), ("tokens", "Tokens")):
        caption = f"{title} per day by {label}"
        chart = _chart(f"{ident}-{unit.lower()}", caption, unit, charted, days)
        figures += f'<figure class="chart"><figcaption>{caption}</figcaption>{chart}</figure>'
    caption = f"Totals by {label}, {days[0]} to {days[-1]}"
    table = _table(caption, series, totals.sessions)
    return f"{head}{_legend(charted)}{figures}{table}</section>"


def usage_page(
    totals: UsageTotals | None, wanted: Mapping[str, str], *, signed_in: bool, problem: str = ""
) -> str:
    """The usage page: the date range form, the totals and a section per model and per user
    (``totals`` None: only the problem)."""
    message = f'<p class="problem" role="alert">{text(problem)}</p>' if problem else ""
    since = totals.window.since.isoformat() if totals else wanted.get("since", "")
    until = totals.window.until.isoformat() if totals else wanted.get("until", "")
    form = (
        '<form method="get" action="/usage" class="filters">'
        f'<label>from <input type="date" name="since" value="{text(since)}"></label>'
        f'<label>to <input type="date" name="until" value="{text(until)}"></label>'
        '<button type="submit">Show</button></form>'
    )
    body = f'<h1>Usage</h1><p class="links"><a href="/">All sessions</a></p>{form}{message}'
    if totals is not None:
        body += (
            f'<p class="totals" data-sessions="{totals.sessions}" data-tokens="{totals.tokens}"'
            f' data-cost="{totals.cost_usd!r}">{totals.sessions:,} sessions, '
            f"{totals.tokens:,} tokens, {totals.cost_usd:.6f} USD (priced)</p>"
            + _section("by-model", "model", totals.by_model, totals)
            + _section("by-user", "user", totals.by_user, totals)
        )
    return page("Usage", body, signed_in=signed_in, main_attributes=' id="usage-page"')


def _date(name: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(name, value, "must be a date written YYYY-MM-DD") from None
