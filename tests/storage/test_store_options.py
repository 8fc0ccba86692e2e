"""The options every durable store shares are one ``StoreOptions``, checked in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_sessions import Session
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.storage import FileSessionStore, SQLiteSessionStore
from llm_sessions.storage._options import StoreOptions, take_options


def test_a_store_keeps_its_shared_options_as_one_value(tmp_path: Path) -> None:
    sqlite = SQLiteSessionStore(tmp_path / "s.db", Session, 60, max_event_bytes=10, timeout=2)
    files = FileSessionStore(tmp_path / "f", expiration_seconds=60, max_event_bytes=10, timeout=2)
    expected = StoreOptions(expiration_seconds=60, max_event_bytes=10, timeout=2)
    assert sqlite.options == expected
    assert files.options == expected
    assert sqlite.max_event_bytes == 10 and sqlite.timeout == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_event_bytes", 0), ("max_event_bytes", True), ("expiration_seconds", -1), ("timeout", 0)],
)
def test_a_bad_option_names_itself(field: str, value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        StoreOptions(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_take_options_leaves_the_other_settings() -> None:
    settings = {"timeout": 3.0, "redact": None, "command_timeout": 9}
    assert take_options(settings) == {"timeout": 3.0, "redact": None}
    assert settings == {"command_timeout": 9}
