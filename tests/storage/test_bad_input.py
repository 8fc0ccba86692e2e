"""Bad ids, bad values and damaged stored data: rejected or contained, never spread."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from stored import load

from llm_sessions.exceptions import CorruptSessionData, InvalidInputError, StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase

BAD_IDS = ["../../x", "a/b", "..", ".", "", "x" * 300, "a\\b", "nul\x00byte", "new\nline"]


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_session_cannot_have_a_bad_id(bad_id: str) -> None:
    with pytest.raises(ValueError, match="session_id"):
        Session(id=bad_id)


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_stores_reject_bad_ids_and_write_nothing(
    store_case: StoreCase, bad_id: str, tmp_path: Path
) -> None:
    store = store_case.open()
    await store.save(Session(id="existing"))
    before = tree(tmp_path)

    with pytest.raises(ValueError):
        await store.get(bad_id)
    with pytest.raises(ValueError):
        await store.delete(bad_id)
    if store_case.durable:
        with pytest.raises(ValueError):
            await store.set_expiration(bad_id, 10)

    assert tree(tmp_path) == before
    assert not (tmp_path.parent / "x").exists()
    assert await store.list_sessions() == ["existing"]


@pytest.mark.parametrize("bad_id", ["../../x", "a/b", ".."])
async def test_saving_a_session_with_a_forged_bad_id_is_refused(
    store_case: StoreCase, bad_id: str, tmp_path: Path
) -> None:
    # Validation at construction can be bypassed; the store must still refuse the id.
    store = store_case.open()
    session: Session[Any] = Session()
    session.__dict__["id"] = bad_id
    await session.add_event(SessionEvent(message="x"))
    before = tree(tmp_path)

    with pytest.raises(ValueError):
        await store.save(session)

    assert tree(tmp_path) == before
    assert await store.list_sessions() == []


async def test_non_json_values_are_refused_by_the_models(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    event: SessionEvent[Any] = SessionEvent(message="x")
    await session.add_event(event)
    await store.save(session)

    with pytest.raises(InvalidInputError, match="state"):
        await session.set_state("bad", object())
    with pytest.raises(InvalidInputError, match="metadata"):
        await session.metadata.set_property("bad", {1, 2})
    with pytest.raises(InvalidInputError, match="metadata"):
        await event.set_metadata("bad", float("nan"))
    with pytest.raises(ValueError):
        SessionEvent(message=object())

    assert session.state == {}
    assert session.metadata.properties == {}
    assert event.metadata == {}
    await session.add_event_and_save(SessionEvent(message="still usable"))
    loaded = await load(store_case.reader(store), session.id)
    assert [e.message for e in loaded.events] == ["x", "still usable"]


@pytest.mark.parametrize("where", ["state", "properties"])
async def test_a_non_json_value_set_in_place_is_refused_before_any_change(
    durable_case: StoreCase, where: str
) -> None:
    store = durable_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="saved"))
    await session.set_state("good", 1)
    await store.save(session)
    before = (await load(durable_case.open(), session.id)).model_dump(mode="json")
    target = session.state if where == "state" else session.metadata.properties
    with pytest.raises(InvalidInputError, match="bad"):
        target["bad"] = object()  # in-place edits are checked like any other
    assert "bad" not in target

    assert (await load(durable_case.open(), session.id)).model_dump(mode="json") == before
    await session.add_event(SessionEvent(message="pending"))
    await store.save(session)
    loaded = await load(durable_case.open(), session.id)
    assert [e.message for e in loaded.events] == ["saved", "pending"]
    assert loaded.state == {"good": 1}


# -- damaged files -----------------------------------------------------------------------------


async def saved_file_session(directory: Path, events: int = 3) -> tuple[Session[Any], Path]:
    store = FileSessionStore(directory)
    session: Session[Any] = Session(id="damaged")
    for n in range(events):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    await store.close()
    return session, directory / "damaged.events.jsonl"


async def test_a_corrupt_header_is_reported_listed_and_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await saved_file_session(tmp_path)
    header = tmp_path / "damaged.json"
    header.write_text("{ this is not json")
    store = FileSessionStore(tmp_path)

    with caplog.at_level(logging.WARNING), pytest.raises(CorruptSessionData):
        await store.get("damaged")

    assert str(header) in caplog.text
    assert await store.list_sessions() == ["damaged"]  # still visible, so it can be deleted
    assert await store.vacuum() == 2  # the header and its event log
    quarantined = sorted(p.name for p in (tmp_path / "quarantine").iterdir())
    assert sorted(name.split(".json")[0] for name in quarantined) == ["damaged", "damaged.events"]
    assert any(
        (tmp_path / "quarantine" / name).read_text() == "{ this is not json" for name in quarantined
    )
    assert await store.get("damaged") is None
    assert await store.list_sessions() == []


async def test_a_header_with_wrong_types_is_corrupt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await saved_file_session(tmp_path)
    header = tmp_path / "damaged.json"
    header.write_text(header.read_text().replace('"child_ids": []', '"child_ids": 7'))
    store = FileSessionStore(tmp_path)

    with caplog.at_level(logging.WARNING), pytest.raises(CorruptSessionData):
        await store.get("damaged")
    assert str(header) in caplog.text
    assert await store.vacuum() == 2


async def test_a_corrupt_event_line_is_skipped_with_a_warning_and_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, log = await saved_file_session(tmp_path)
    lines = log.read_text().splitlines()
    lines.insert(1, '{"id": "broken", "message": ')
    log.write_text("\n".join(lines) + "\n")
    store = FileSessionStore(tmp_path)

    with caplog.at_level(logging.WARNING):
        session = await load(store, "damaged")

    assert [e.message for e in session.events] == [0, 1, 2]
    assert "damaged" in caplog.text and str(tmp_path) in caplog.text
    assert await store.vacuum() == 1
    bad = list((tmp_path / "quarantine").iterdir())
    assert len(bad) == 1 and bad[0].read_text() == '{"id": "broken", "message": \n'
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = await load(FileSessionStore(tmp_path), "damaged")
    assert [e.message for e in again.events] == [0, 1, 2]
    assert caplog.text == ""


async def test_a_torn_last_line_does_not_break_the_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, log = await saved_file_session(tmp_path)
    with log.open("a") as handle:
        handle.write('{"id":"half-written","message":"cut of')  # a crash mid-append

    store = FileSessionStore(tmp_path)
    session = await load(store, "damaged")
    assert [e.message for e in session.events] == [0, 1, 2]

    with caplog.at_level(logging.WARNING):
        await session.add_event_and_save(SessionEvent(message=3))
    assert str(log) in caplog.text

    loaded = await load(FileSessionStore(tmp_path), "damaged")
    assert [e.message for e in loaded.events] == [0, 1, 2, 3]
    assert log.read_text().endswith("\n")
    (torn,) = (tmp_path / "quarantine").iterdir()
    assert torn.read_text() == '{"id":"half-written","message":"cut of'


async def test_an_unreadable_event_file_is_a_storage_error(tmp_path: Path) -> None:
    _, log = await saved_file_session(tmp_path)
    log.unlink()
    log.mkdir()  # a directory where the event log should be

    with pytest.raises(StorageError) as caught:
        await FileSessionStore(tmp_path).get("damaged")
    assert isinstance(caught.value.__cause__, OSError)


# -- damaged SQLite rows -----------------------------------------------------------------------


async def saved_sqlite_session(path: Path) -> Session[Any]:
    from llm_sessions.storage import SQLiteSessionStore

    store = SQLiteSessionStore(path)
    session: Session[Any] = Session(id="damaged")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    await store.close()
    return session


async def test_a_corrupt_event_row_is_skipped_with_its_location(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from llm_sessions.storage import SQLiteSessionStore

    path = tmp_path / "s.db"
    session = await saved_sqlite_session(path)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE events SET body = '{oops' WHERE event_id = ?", (session.events[1].id,))
    raw.close()

    store = SQLiteSessionStore(path)
    with caplog.at_level(logging.WARNING):
        loaded = await load(store, "damaged")
    await store.close()

    assert [e.message for e in loaded.events] == [0, 2]
    assert str(path) in caplog.text and "damaged" in caplog.text
    with sqlite3.connect(path) as raw:  # left as it was, not overwritten
        (body,) = raw.execute(
            "SELECT body FROM events WHERE event_id = ?", (session.events[1].id,)
        ).fetchone()
    raw.close()
    assert body == "{oops"


async def test_a_corrupt_session_row_raises_with_its_location(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from llm_sessions.storage import SQLiteSessionStore

    path = tmp_path / "s.db"
    await saved_sqlite_session(path)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE sessions SET created_at = 'yesterday-ish'")
    raw.close()

    store = SQLiteSessionStore(path)
    with caplog.at_level(logging.WARNING), pytest.raises(CorruptSessionData) as caught:
        await store.get("damaged")
    await store.close()
    assert str(path) in str(caught.value)
    assert str(path) in caplog.text
