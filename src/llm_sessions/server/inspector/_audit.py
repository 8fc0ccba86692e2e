"""The inspector's audit log page: the caller's erasures (retention's among them), read only.

What ``store.audit_log()`` keeps is shown and nothing more: who, when, the filter and the
counts, never content. Newest first; a tenant sees the erasures asked within its namespace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...storage import AuditRecord
from .templates import moment_text, page, text

__all__ = ["MAX_SHOWN", "audit_page"]

MAX_SHOWN = 500
"""The most records the page lists (the newest)."""
_KINDS = ("sessions", "events", "vectors", "blobs")


def audit_page(records: Sequence[AuditRecord], *, signed_in: bool) -> str:
    """The audit log page over ``records`` (oldest first, as ``audit_log`` gives them)."""
    newest = list(reversed(records))[:MAX_SHOWN]
    count = len(records)
    shown = f"the newest {MAX_SHOWN} of {count:,}" if count > MAX_SHOWN else f"{count:,}"
    intro = (
        "<p>Every erasure done on this store (by a person, or by the retention policy): who, "
        f"when, the filter and the counts, never what was erased. {shown} "
        f"{'record' if count == 1 else 'records'}.</p>"
    )
    if not newest:
        table = '<p class="empty">No erasures recorded.</p>'
    else:
        head = "".join(f"<th>{name}</th>" for name in ("finished", "actor", "filter", *_KINDS))
        rows = "".join(_row(record) for record in newest)
        table = f'<table class="audit"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    body = f"<h1>Audit log</h1>{intro}{table}"
    return page("Audit log", body, signed_in=signed_in, main_attributes=' id="audit-page"')


def _row(record: AuditRecord) -> str:
    finished = f"{moment_text(record.finished_at)} UTC"
    when = f'<time datetime="{text(record.finished_at.isoformat())}">{text(finished)}</time>'
    chosen = json.dumps(record.filter, ensure_ascii=False, sort_keys=True)
    counts = "".join(
        f'<td class="num" data-label="{kind}">{record.counts.get(kind, 0):,}</td>'
        for kind in _KINDS
    )
    return (
        f'<tr data-erasure="{text(record.erasure_id)}">'
        f'<td class="when" data-label="finished">{when}</td>'
        f'<td data-label="actor">{text(record.actor or "")}</td>'
        f'<td class="filter" data-label="filter"><code>{text(chosen)}</code></td>{counts}</tr>'
    )
