"""Rich renderings of sessions for the terminal: the event tree and the token/cost table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..models import CountMethod, Session, SessionEvent, TokenSummary
from ..tokens.pricing import cost_text
from ..views import event_tree_data
from .chains import position_text

__all__ = ["cost_text", "counted_by", "event_tree", "session_json", "usage_table"]

_KIND_STYLE = {
    "user_message": "bold cyan",
    "llm_message": "bold green",
    "tool_call": "yellow",
    "summary": "magenta",
}
_STATUS = {
    "success": "[green]✓ success[/]",
    "cached": "[blue]✓ cached[/]",
    "error": "[red]✗ error[/]",
}


def _node_label(node: dict[str, Any]) -> str:
    kind = node["kind"]
    parts = [f"[{_KIND_STYLE.get(kind, 'white')}]{kind}[/]", f"[dim]{node['id'][:8]}[/]"]
    if node["tool"]:
        parts.append(f"{node['tool']}")
        parts.append(_STATUS.get(node["status"] or "", node["status"] or ""))
        if node["duration"] is not None:
            parts.append(f"{node['duration'] * 1000:.0f} ms")
        if node["attempts"] and node["attempts"] > 1:
            parts.append(f"[yellow]{node['attempts']} attempts[/]")
        if node["error"]:
            parts.append(f"[red]{_escape(node['error'])}[/]")
    else:
        parts.append(_escape(node["label"]))
    parts.append(f"[dim]{node['tokens']} tok[/]")
    return "  ".join(part for part in parts if part)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def event_tree(
    events: Session[Any] | Iterable[SessionEvent[Any]], title: str, *, failures: bool = False
) -> Tree:
    """Events as a tree: tool calls under the model reply that asked for them; with
    ``failures``, each failed attempt of a tool call (exception and traceback) under it."""
    tree = Tree(title)
    stack = [(tree, node) for node in reversed(event_tree_data(events, failures=failures))]
    while stack:
        parent, node = stack.pop()
        branch = parent.add(_node_label(node))
        for failure in node.get("failures", []):
            _add_failure(branch, failure)
        stack.extend((branch, child) for child in reversed(node["children"]))
    return tree


def _add_failure(branch: Tree, failure: dict[str, Any]) -> None:
    """One failed attempt: ``attempt N  Type: message``, its traceback beneath."""
    attempt = "attempt" if failure["attempt"] is None else f"attempt {failure['attempt']}"
    head = Text.assemble(
        (attempt, "red"), "  ", (f"{failure['exception_type']}: ", "bold red"), failure["message"]
    )
    below = branch.add(head)
    if failure["traceback"]:
        below.add(Text(failure["traceback"].rstrip(), style="dim"))


def counted_by(sessions: Iterable[Session[Any]]) -> dict[str, str]:
    """How each model's tokens in ``sessions`` were counted, for the "counted by" column.

    Counts from the model's tokenizer and counts the provider reported are both exact, so a mix
    of them is too; ``estimate`` appears only when some tokens were estimated, with how many.

    Args:
        sessions: The sessions whose events are summed.

    Returns:
        Model name -> ``tokenizer``, ``reported``, ``tokenizer + reported``, ``estimate`` (all
        of them) or ``estimate: N of M tokens``.
    """
    tokens: dict[str, dict[CountMethod, int]] = {}
    for session in sessions:
        for event in session.events:
            usage = event.token_usage
            if usage is not None and usage.total_tokens:
                methods = tokens.setdefault(usage.model, {})
                methods[usage.count_method] = (
                    methods.get(usage.count_method, 0) + usage.total_tokens
                )
    return {model: _methods_text(methods) for model, methods in tokens.items()}


def _methods_text(methods: dict[CountMethod, int]) -> str:
    estimated, total = methods.get(CountMethod.ESTIMATE, 0), sum(methods.values())
    if not estimated:
        exact = (CountMethod.TOKENIZER, CountMethod.REPORTED)
        return " + ".join(method.value for method in exact if methods.get(method))
    if estimated == total:
        return CountMethod.ESTIMATE.value
    return f"estimate: {estimated:,} of {total:,} tokens"


def usage_table(sessions: Iterable[Session[Any]]) -> Table:
    """Tokens and cost per model over ``sessions``; a model without a known price says so,
    once, under the table."""
    sessions = list(sessions)
    total = TokenSummary()
    for session in sessions:
        for usage in session.token_summary.usage_by_model.values():
            total.add(usage)
    methods = counted_by(sessions)
    table = Table(title="Tokens and cost by model", caption=_unpriced_caption(total))
    for column in ("model", "prompt", "completion", "total", "cost (USD)", "counted by"):
        table.add_column(column, justify="left" if column in ("model", "counted by") else "right")
    for model, usage in sorted(total.usage_by_model.items()):
        cost = "unpriced" if usage.estimated_cost_usd is None else f"{usage.estimated_cost_usd:.6f}"
        table.add_row(
            model or "(none)",
            f"{usage.prompt_tokens:,}",
            f"{usage.completion_tokens:,}",
            f"{usage.total_tokens:,}",
            cost,
            methods.get(model, usage.count_method.value),
        )
    table.add_section()
    table.add_row(
        "all",
        f"{total.total_prompt_tokens:,}",
        f"{total.total_completion_tokens:,}",
        f"{total.total_tokens:,}",
        cost_text(total.total_estimated_cost_usd, total.unpriced_models),
        "",
    )
    return table


def _unpriced_caption(total: TokenSummary) -> str | None:
    if not total.unpriced_models:
        return None
    names = ", ".join(model or "(none)" for model in total.unpriced_models)
    its = "its tokens are" if len(total.unpriced_models) == 1 else "their tokens are"
    return f"unpriced: no price is known for {names}; {its} not in the cost"


def session_json(
    session: Session[Any],
    chain_ids: list[str],
    events: Iterable[SessionEvent[Any]],
    *,
    failures: bool = False,
) -> dict[str, Any]:
    """What ``--json`` prints for one session: its place in its conversation, ``events`` as a
    tree (with each tool call's failed attempts when ``failures``), and its tokens and cost."""
    summary = session.token_summary
    return {
        "id": session.id,
        "segment": position_text(session.id, chain_ids) or None,
        "events_total": len(session.events),
        "events": event_tree_data(events, failures=failures),
        "total_tokens": session.total_tokens,
        "total_cost_usd": summary.total_estimated_cost_usd,
        "unpriced_models": list(summary.unpriced_models),
    }
