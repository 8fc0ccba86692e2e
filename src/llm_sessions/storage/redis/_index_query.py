"""``find_sessions`` and ``usage`` on Redis, answered through the index (see ``redis_index``).

A page walks one sorted set in the query's order from its cursor: the user's or the model's
set when the query names one and orders by ``updated_at``, else the global set of its order.
Each step reads the next entries, then their summary hashes, and keeps the rows that match
the whole query (the shared ``SessionQuery`` checks), until the page is full. A query that
names a user or a model but orders by something else reads that set's sessions whole and
finishes in Python. ``usage`` reads the sessions of the ``updated_at`` range (of the user's
set when it names one). Before answering, sessions whose hashes await a recount are recounted
(their cost and tokens may be wrong in the sets), and an index never built is built.
"""

from __future__ import annotations

from datetime import datetime

from .._fleet_query import (
    SessionPage,
    SessionQuery,
    UsageQuery,
    UsageRow,
    find_in,
    usage_in,
)
from .._summaries import SessionSummary
from ._client import _text
from ._index import RANGE_SCRIPT, index_values, micros, sort_score
from ._listing import RedisSummaries
from ._usage import USAGE_SCRIPT, UsageTally, tally_answers, tally_user

__all__ = ["RedisIndexQueries"]

_MAX_STEP = 1000
_TALLY_BATCH = 2000
"""Sessions a usage script adds up per call (a longer script would hold up the server)."""
_RECOUNT_ROUNDS = 3
_BUILT = "1"


class RedisIndexQueries(RedisSummaries):
    """The Redis store's listings and totals, read through its index of sorted sets."""

    async def _find(self, query: SessionQuery) -> SessionPage:
        if not self._keeps_summary_rows():
            return await super()._find(query)
        self._ensure_open()
        await self._prepare_index()
        user = query.filter.where.get("user_id")
        narrow = None
        if isinstance(user, str):
            narrow = "u:" + user
        elif query.filter.model is not None:
            narrow = "m:" + query.filter.model
        if narrow is not None and query.key != "updated_at":
            members = await self._call(
                "list sessions under",
                self.key_prefix,
                self.client.zrange(self._index_key(narrow), 0, -1),
            )
            rows = await self._read_rows(_text(member) for member in members)
            return find_in((row for row, _ in rows.values()), query)
        return await self._walk(narrow or "o:" + query.key, query)

    async def _usage(self, query: UsageQuery) -> list[UsageRow]:
        if not self._keeps_summary_rows():
            return await super()._usage(query)
        self._ensure_open()
        await self._prepare_index()
        user = query.filter.where.get("user_id")
        key = self._index_key("u:" + user if isinstance(user, str) else "o:updated_at")
        low, high = _window(query.filter.since, query.filter.until)
        wanted = None if self._cluster else tally_user(query)
        if wanted is not None:
            found = await self._tally(key, low, high, query, wanted)
            if found is not None:
                return found
        members = await self._call(
            "total sessions under", self.key_prefix, self.client.zrangebyscore(key, low, high)
        )
        rows = await self._read_rows(_text(member) for member in members)
        return usage_in((row for row, _ in rows.values()), query)

    async def _tally(
        self, key: str, low: str, high: str, query: UsageQuery, wanted: str
    ) -> list[UsageRow] | None:
        """The totals ``USAGE_SCRIPT`` adds up over the set ``key`` from ``low`` to ``high``,
        a batch at a time; None when a session must be counted the slow way."""
        script = self.client.register_script(USAGE_SCRIPT)
        tally = UsageTally(query)
        split = "1" if "model" in query.group_by else ""
        after: tuple[str, str] | None = ("", "")
        while after is not None:
            args = [self.key_prefix, split, wanted, query.filter.prefix, low, high, *after]
            call = script(keys=[key], args=[*args, str(_TALLY_BATCH)])
            reply = await self._call("total sessions under", self.key_prefix, call)
            gone, slow, after = tally_answers(reply, tally)
            if gone:
                await self._unindex(gone)
            if slow:
                return None
        return tally.rows()

    async def rebuild_index(self) -> int:
        """Build the index of sorted sets afresh from the sessions' summary hashes (``vacuum``
        does; a store whose database has none builds it on its first listing).

        Returns:
            The number of sessions indexed.
        """
        self._ensure_open()
        base = self._index_key("")
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in base) + "*"

        async def drop() -> None:
            async for key in self.client.scan_iter(match=pattern, count=1000):
                await self.client.unlink(key)

        await self._call("drop the index under", self.key_prefix, drop())
        return await self._build_index()

    async def _build_index(self) -> int:
        rows = await self._read_rows(await self.list_sessions(), reindex=True)
        await self._call(
            "mark the index under", self.key_prefix, self.client.set(self._index_key("built"), 1)
        )
        return len(rows)

    async def _prepare_index(self) -> None:
        """Build the index if it never was; recount the sessions marked stale."""
        for _ in range(_RECOUNT_ROUNDS):
            pipe = self._pipeline()
            pipe.get(self._index_key("built"))
            pipe.smembers(self._index_key("stale"))
            built, stale = await self._call("read the index under", self.key_prefix, pipe.execute())
            if built is None or _text(built) != _BUILT:
                await self._build_index()
            elif not stale:
                return
            else:
                await self._read_rows((_text(member) for member in stale), reindex=True)

    async def _walk(self, name: str, query: SessionQuery) -> SessionPage:
        """The page of ``query``, walking the sorted set ``name`` from the cursor on."""
        low, high = ("-inf", "+inf")
        if query.key == "updated_at":
            low, high = _window(query.filter.since, query.filter.until)
        last: tuple[float, str] | None = None
        if query.after is not None:
            last = (sort_score(query.key, query.after[0]), query.after[1])
            if not _within(last[0], low, high):
                if _before_window(last[0], low, high, query.descending):
                    last = None
                else:
                    return SessionPage()
        wanted = step = query.limit + 1
        found: list[SessionSummary] = []
        while len(found) < wanted:
            start = high if query.descending else low
            reply = await self._range(name, query.descending, start, last, step)
            entries = [e for e in reply if _within(e[1], low, high)]
            moved = False
            for member, score in entries:
                if last is None or _beyond((score, member), last, query.descending):
                    last, moved = (score, member), True
            found += await self._matching(entries, query)
            if len(entries) < len(reply) or len(reply) < step:
                break  # past the window, or the end of the set
            step = min(step * 2, _MAX_STEP) if moved else step * 2
        return query.page(found[:wanted])

    async def _range(
        self, name: str, descending: bool, start: str, last: tuple[float, str] | None, step: int
    ) -> list[tuple[str, float]]:
        """Up to ``step`` entries of the set ``name`` after ``last`` (from ``start`` on
        without one), as (member, score)."""
        script = self.client.register_script(RANGE_SCRIPT)
        after = ["", ""] if last is None else [repr(last[0]), last[1]]
        args = ["1" if descending else "", start, *after, str(step)]
        call = script(keys=[self._index_key(name)], args=args)
        reply = await self._call("list sessions under", self.key_prefix, call)
        return [(_text(reply[n]), float(reply[n + 1])) for n in range(0, len(reply), 2)]

    async def _matching(
        self, entries: list[tuple[str, float]], query: SessionQuery
    ) -> list[SessionSummary]:
        """The rows of ``entries`` that ``query`` keeps, in order; an entry that disagrees
        with its session's hashes (written by an older version, or a Cluster write whose
        index call has not landed yet) is rewritten from them and its row left out."""
        rows = await self._read_rows(member for member, _ in entries)
        kept: list[SessionSummary] = []
        stale: list[str] = []
        for member, score in entries:
            held = rows.get(member)
            if held is None:
                continue
            row, revision = held
            if sort_score(query.key, query.keyset(row)[0]) != score:
                stale += index_values(row, revision, stale=False)
            elif query.filter.matches(row) and query.after_cursor(row):
                kept.append(row)
        await self._index(stale)
        return kept


def _window(since: datetime | None, until: datetime | None) -> tuple[str, str]:
    """The score range of ``since`` (inclusive) to ``until`` (exclusive) on ``updated_at``."""
    low = "-inf" if since is None else str(micros(since))
    high = "+inf" if until is None else "(" + str(micros(until))
    return low, high


def _within(score: float, low: str, high: str) -> bool:
    if low != "-inf" and score < float(low):
        return False
    return not (high != "+inf" and score >= float(high[1:]))


def _beyond(entry: tuple[float, str], last: tuple[float, str], descending: bool) -> bool:
    return entry < last if descending else entry > last


def _before_window(score: float, low: str, high: str, descending: bool) -> bool:
    """Whether a cursor outside the window lies before its start (in the walk's order)."""
    if descending:
        return high != "+inf" and score >= float(high[1:])
    return low != "-inf" and score < float(low)
