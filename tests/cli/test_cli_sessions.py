"""list, show and delete as a user meets them: full ids at any width, newest first, pages,
id prefixes, whole infinite conversations, and the demo's closing hint."""

from __future__ import annotations

import json
import shlex

import pytest
from cli_helpers import invoke, put_sessions

from llm_sessions.cli.demo_command import closing_hint

LONG_ID = "customer-support-conversation-with-a-rather-long-identifier-0042"


@pytest.mark.parametrize("columns", [80, 200])
def test_list_prints_every_id_whole_at_any_width(store_url: str, columns: int) -> None:
    ids = ["1f0c3a52-7d4e-4b0a-9c55-0e2f8d1b6a77", LONG_ID, "short"]
    put_sessions(store_url, dict.fromkeys(ids, "gpt-4o-mini"))
    result = invoke("list", "--store", store_url, columns=columns)
    assert result.exit_code == 0, result.output
    assert all(session_id in result.output for session_id in ids)
    assert max(len(line) for line in result.output.splitlines()) <= columns


def test_list_is_newest_first_with_limit_and_offset(store_url: str) -> None:
    put_sessions(
        store_url, {"alpha-1": "gpt-4o-mini", "bravo-2": "gpt-4o-mini", "charlie-3": "gpt-4o"}
    )
    listed = json.loads(invoke("list", "--store", store_url, "--json").stdout)
    assert [row["id"] for row in listed] == ["charlie-3", "bravo-2", "alpha-1"]
    page = invoke("list", "--store", store_url, "--json", "--limit", "1", "--offset", "1")
    assert [row["id"] for row in json.loads(page.stdout)] == ["bravo-2"]
    table = invoke("list", "--store", store_url, "--limit", "2").output
    assert "sessions 1–2 of 3" in table
    assert table.index("charlie-3") < table.index("bravo-2") and "alpha-1" not in table


def test_list_counts_one_session_in_the_singular(store_url: str) -> None:
    put_sessions(store_url, {"only": "gpt-4o-mini"})
    assert "1 session in" in invoke("list", "--store", store_url).output


def test_list_cost_column_shows_unpriced_usage(store_url: str) -> None:
    put_sessions(store_url, {"openai": "gpt-4o-mini", "local": "local-llama-3-8b"})
    table = invoke("list", "--store", store_url, columns=200).output
    local_row = next(line for line in table.splitlines() if "local" in line)
    openai_row = next(line for line in table.splitlines() if "openai" in line)
    assert "+ unpriced" in local_row and "unpriced" not in openai_row
    rows = {r["id"]: r for r in json.loads(invoke("list", "--store", store_url, "--json").stdout)}
    assert rows["local"]["unpriced_models"] == ["local-llama-3-8b"]
    assert rows["openai"]["unpriced_models"] == []


def test_show_export_and_delete_take_a_unique_prefix(store_url: str) -> None:
    put_sessions(store_url, {"abc12345-rest": "gpt-4o-mini", "abd00000-rest": "gpt-4o-mini"})
    shown = invoke("show", "abc12345", "--store", store_url)
    assert shown.exit_code == 0 and "abc12345-rest" in shown.output
    exported = invoke("export", "abc1", "--store", store_url)
    assert exported.exit_code == 0 and len(exported.stdout.splitlines()) == 3  # header + 2
    assert invoke("delete", "abd", "--store", store_url).exit_code == 0
    remaining = json.loads(invoke("list", "--store", store_url, "--json").stdout)
    assert [row["id"] for row in remaining] == ["abc12345-rest"]


def test_an_ambiguous_prefix_lists_the_ids_it_matches(store_url: str) -> None:
    put_sessions(store_url, {"abc1-one": "gpt-4o-mini", "abc2-two": "gpt-4o-mini"})
    for command in ("show", "export", "delete"):
        result = invoke(command, "abc", "--store", store_url)
        assert result.exit_code == 1
        assert "abc1-one" in result.output and "abc2-two" in result.output
    assert len(json.loads(invoke("list", "--store", store_url, "--json").stdout)) == 2


def _demo_chain(store_url: str) -> list[str]:
    """The demo's two segments, oldest first."""
    assert invoke("demo", "--store", store_url).exit_code == 0
    rows = json.loads(invoke("list", "--store", store_url, "--json").stdout)
    return [row["id"] for row in sorted(rows, key=lambda row: row["parent_id"] is not None)]


def test_show_of_a_segment_says_where_it_is_in_the_conversation(store_url: str) -> None:
    first, second = _demo_chain(store_url)
    shown = invoke("show", first, "--store", store_url).output
    assert "segment 1 of 2" in shown and "--all-segments" in shown
    assert second not in shown
    everything = invoke("show", second, "--store", store_url, "--all-segments").output
    assert "segment 1 of 2" in everything and "segment 2 of 2" in everything
    assert first in everything and second in everything
    as_json = json.loads(invoke("show", second, "--store", store_url, "--json").stdout)
    assert [(s["id"], s["segment"]) for s in as_json] == [(second, "segment 2 of 2")]


def test_show_last_n_shows_only_the_newest_events(store_url: str) -> None:
    first, _ = _demo_chain(store_url)
    full = json.loads(invoke("show", first, "--store", store_url, "--json").stdout)[0]
    last = json.loads(invoke("show", first, "--store", store_url, "--json", "--last", "1").stdout)
    assert full["events_total"] > 1 and len(last[0]["events"]) == 1
    assert last[0]["events"][0]["id"] == full["events"][-1]["id"]
    text = invoke("show", first, "--store", store_url, "--last", "1").output
    assert f"last 1 of {full['events_total']} events" in text


def test_deleting_a_segment_asks_first(store_url: str) -> None:
    first, second = _demo_chain(store_url)
    refused = invoke("delete", second, "--store", store_url, input="n\n")
    assert refused.exit_code == 1 and "nothing deleted" in refused.output
    unanswered = invoke("delete", second, "--store", store_url)
    assert unanswered.exit_code == 1 and "--yes" in unanswered.output
    assert len(json.loads(invoke("list", "--store", store_url, "--json").stdout)) == 2
    confirmed = invoke("delete", second, "--store", store_url, input="y\n")
    assert confirmed.exit_code == 0 and f"deleted {second}" in confirmed.output
    rows = json.loads(invoke("list", "--store", store_url, "--json").stdout)
    assert [row["id"] for row in rows] == [first]


def test_delete_chain_removes_every_segment(store_url: str) -> None:
    first, second = _demo_chain(store_url)
    result = invoke("delete", first, "--store", store_url, "--chain", "--yes")
    assert result.exit_code == 0
    assert f"deleted {first}" in result.output and f"deleted {second}" in result.output
    assert json.loads(invoke("list", "--store", store_url, "--json").stdout) == []


def test_the_demo_hint_names_a_non_default_store(store_url: str) -> None:
    output = invoke("demo", "--store", store_url, columns=400).output
    hint = next(line for line in output.splitlines() if line.startswith("show it again"))
    command = hint.split(": ", 1)[1].split()
    assert command[:2] == ["llm-sessions", "show"] and command[-2:] == ["--store", store_url]
    shown = invoke(*command[1:])
    assert shown.exit_code == 0 and "segment 2 of 2" in shown.output


def test_the_demo_ends_with_how_to_open_it_in_the_inspector(store_url: str) -> None:
    output = invoke("demo", "--store", store_url, columns=400).output
    lines = output.splitlines()
    assert lines[-1].startswith("open it in the inspector: run ")
    show_hint = next(line for line in lines if line.startswith("show it again"))
    newest_segment = show_hint.split(": ", 1)[1].split()[2]  # llm-sessions show <id> ...
    serve, page = lines[-1].split(": run ", 1)[1].split(" and visit ")
    assert shlex.split(serve) == ["llm-sessions", "serve", "--store", store_url]
    assert page == f"http://127.0.0.1:8000/sessions/{newest_segment}"


def test_the_demo_hint_on_the_default_store_needs_no_store_option() -> None:
    assert "--store" not in closing_hint("abc", "sqlite:///llm-sessions.db")


def test_the_demo_on_memory_says_the_session_is_gone() -> None:
    output = invoke("demo", "--store", "memory://", columns=400).output
    assert "gone" in output and "llm-sessions show" not in output


def test_demo_json_is_an_array_of_its_segments(store_url: str) -> None:
    result = invoke("demo", "--store", store_url, "--json")
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)
    assert [s["segment"] for s in segments] == ["segment 1 of 2", "segment 2 of 2"]
    assert all(s["events"] and s["total_tokens"] > 0 for s in segments)
    assert segments[1]["unpriced_models"] == ["local-llama-3-8b"]
