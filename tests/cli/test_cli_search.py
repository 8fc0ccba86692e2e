"""``llm-sessions search``: hits as a table and as JSON, a user filter, and bad queries."""

from __future__ import annotations

import json

from cli_helpers import invoke
from test_cli_fleet import put_owned


def test_search_finds_a_users_events_as_json_and_as_a_table(store_url: str) -> None:
    put_owned(store_url)

    hits = json.loads(invoke("search", "hi", "--store", store_url, "--json").stdout)
    alice = json.loads(
        invoke("search", "hi", "--user", "alice", "--store", store_url, "--json").stdout
    )
    table = invoke("search", "hi", "--user", "bob", "--store", store_url).output
    none = invoke("search", "nothing-like-this", "--store", store_url).output

    assert len(hits) == 4 and {hit["user_id"] for hit in hits} == {"alice", "bob"}
    assert {hit["session_id"] for hit in alice} == {"a-old", "a-cheap", "a-dear"}
    assert all(hit["snippet"] == "[hi]" and hit["event_type"] == "message" for hit in alice)
    assert "1 hit for 'hi'" in table and "b-one" in table
    assert "no events match" in none


def test_search_refuses_a_bad_query_by_name(store_url: str) -> None:
    put_owned(store_url)

    result = invoke("search", "   ", "--store", store_url)

    assert result.exit_code == 1
    assert "query=" in result.output and "is empty" in result.output
