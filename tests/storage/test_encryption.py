"""Encryption at rest on every durable store: nothing readable in the raw data, clear errors
without the key or with another one, and key rotation that loses no concurrent append."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from llm_sessions.exceptions import EncryptionKeyError, InvalidInputError
from llm_sessions.models import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.session_run import SessionRun
from llm_sessions.storage import open_store
from llm_sessions.storage.encryption import ENCRYPTION_KEY_ENV_VAR, generate_key, key_id

if TYPE_CHECKING:
    from store_cases import StoreCase

SECRET_MESSAGE = "my card is 4111-1111-1111-1111 and my dog is Rex"
SECRET_STATE = "the launch code is ZEBRA-42"
SECRET_PROPERTY = "owner lives at 12 QUOKKA lane"
SECRET_RUN = "plan the PANGOLIN surprise"


async def _write_secrets(case: StoreCase, key: Any) -> Session[Any]:
    store = case.open(encryption_key=key)
    session: Session[Any] = await Session.create(store=store, id="secret")
    await session.set_state("note", {"text": SECRET_STATE})
    session.metadata.properties["address"] = SECRET_PROPERTY
    run = await SessionRun.create(metadata={"goal": SECRET_RUN})
    session.runs.append(run)
    await store.save(session)
    event = SessionEvent(message={"content": SECRET_MESSAGE}, source=EventSource.USER)
    await session.add_event_and_save(event)
    await session.add_event_and_save(SessionEvent(message=SECRET_MESSAGE + " again"))
    return session


def _local_bytes(case: StoreCase) -> bytes:
    """Every byte of the store's files (the folder, or the database and its journal)."""
    path = Path(urlsplit(case.url).path)
    if case.kind == "file":
        files = list(path.rglob("*"))
    else:
        files = [path, *path.parent.glob(path.name + "-*")]
    return b"".join(file.read_bytes() for file in files if file.is_file())


async def _raw_data(case: StoreCase) -> bytes:
    """Everything the store holds for this test, as the database or files hold it."""
    query = parse_qs(urlsplit(case.url).query)
    if case.kind in ("file", "sqlite"):
        return _local_bytes(case)
    if case.kind == "redis":
        import redis.asyncio as redis

        client = redis.from_url(case.url.split("?")[0])
        chunks: list[bytes] = []
        async for key in client.scan_iter(match=query["key_prefix"][0] + "*"):
            chunks.append(await client.dump(key) or b"")
        await client.aclose()
        return b"".join(chunks)
    import asyncpg

    connection = await asyncpg.connect(case.url.split("?")[0])
    schema = query["schema"][0]
    tables = await connection.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
    )
    chunks_text = []
    for row in tables:
        rows = await connection.fetch(f'SELECT t::text FROM "{schema}"."{row[0]}" t')
        chunks_text.extend(r[0] for r in rows)
    await connection.close()
    return "\n".join(chunks_text).encode()


async def test_raw_rows_keys_and_files_hold_no_plaintext(durable_case: StoreCase) -> None:
    if durable_case.kind.startswith("redis-"):
        # The raw read uses a single-node client; the plain Redis case checks the same keys.
        pytest.skip("raw keys are read on the single Redis server, not a Cluster or Sentinel")
    key = generate_key()
    original = await _write_secrets(durable_case, key)
    raw = await _raw_data(durable_case)
    assert len(raw) > 0
    secrets = (SECRET_MESSAGE, SECRET_STATE, SECRET_PROPERTY, SECRET_RUN)
    for secret in (*secrets, "4111", "ZEBRA", "QUOKKA", "PANGOLIN", '"goal"'):
        assert secret.encode() not in raw
    assert key_id(__import__("base64").urlsafe_b64decode(key)).encode() in raw

    loaded = await durable_case.open(encryption_key=key).get("secret")
    assert loaded is not None
    assert loaded.model_dump(mode="json") == original.model_dump(mode="json")
    page = await durable_case.open(encryption_key=key).read_events("secret", limit=1)
    assert page is not None and page[0].message == {"content": SECRET_MESSAGE}


async def test_without_the_key_or_with_another_the_store_refuses_to_read(
    durable_case: StoreCase,
) -> None:
    await _write_secrets(durable_case, generate_key())
    for reader in (durable_case.open(), durable_case.open(encryption_key=generate_key())):
        with pytest.raises(EncryptionKeyError, match="encrypted with key id"):
            await reader.get("secret")
        with pytest.raises(EncryptionKeyError, match="encryption_key"):
            await reader.read_events("secret")


async def test_a_listing_without_the_key_refuses_sealed_sessions_and_leaves_none_out(
    durable_case: StoreCase,
) -> None:
    key = generate_key()
    await _write_secrets(durable_case, key)
    keyed = durable_case.open(encryption_key=key)
    assert [summary.id for summary in (await keyed.find_sessions()).items] == ["secret"]
    for reader in (durable_case.open(), durable_case.open(encryption_key=generate_key())):
        with pytest.raises(EncryptionKeyError, match="encrypted with key id"):
            await reader.find_sessions()
        with pytest.raises(EncryptionKeyError, match="encrypted with key id"):
            await reader.usage(group_by=("user_id",))


async def test_the_key_can_come_from_the_environment(
    durable_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    await _write_secrets(durable_case, key)
    monkeypatch.setenv(ENCRYPTION_KEY_ENV_VAR, key)
    loaded = await durable_case.open().get("secret")
    assert loaded is not None and loaded.state == {"note": {"text": SECRET_STATE}}
    assert loaded.metadata.properties == {"address": SECRET_PROPERTY}
    assert loaded.runs[0].metadata == {"goal": SECRET_RUN}


@pytest.mark.parametrize("bad", ["short", "x" * 44, b"too few bytes", []])
def test_a_malformed_key_is_refused_without_showing_it(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="encryption_key") as raised:
        open_store(f"sqlite:///{tmp_path / 's.db'}", encryption_key=bad)
    assert "short" not in str(raised.value)


async def test_rotation_under_concurrent_appends_loses_nothing(durable_case: StoreCase) -> None:
    old, new = generate_key(), generate_key()
    setup = durable_case.open(encryption_key=old)
    for name in ("a", "b", "c"):
        session: Session[Any] = await Session.create(store=setup, id=name)
        for n in range(5):
            await session.add_event_and_save(SessionEvent(message=f"{name} before {n}"))

    async def append(name: str) -> None:
        # A writer not yet moved to the new key: it writes with the old one, reads both.
        writer = durable_case.open(encryption_key=[old, new])
        session = await writer.get(name)
        assert session is not None
        for n in range(15):
            await session.add_event_and_save(SessionEvent(message=f"{name} during {n}"))
            await asyncio.sleep(0)

    rotator = durable_case.open(encryption_key=old)
    rotated, *_ = await asyncio.gather(
        rotator.rotate_key(new, batch_size=2), *(append(name) for name in "abc")
    )
    assert rotated == 3
    await rotator.rotate_key(new)  # what the writers sealed with the old key meanwhile

    reader = durable_case.open(encryption_key=new)  # the old key is no longer needed
    for name in "abc":
        loaded = await reader.get(name)
        assert loaded is not None
        messages = [event.message for event in loaded.events]
        assert sorted(messages) == sorted(
            [f"{name} before {n}" for n in range(5)] + [f"{name} during {n}" for n in range(15)]
        )
    with pytest.raises(EncryptionKeyError):
        await durable_case.open(encryption_key=old).get("a")


async def test_an_altered_record_is_detected_never_returned(tmp_path: Path) -> None:
    key = generate_key()
    store = open_store(f"file://{tmp_path / 'store'}", encryption_key=key)
    session: Session[Any] = await Session.create(store=store, id="altered")
    await session.add_event_and_save(SessionEvent(message=SECRET_MESSAGE))
    log = tmp_path / "store" / "altered.events.jsonl"
    text = log.read_text()
    cut = text.index('"enc":"') + 30
    flipped = "A" if text[cut] != "A" else "B"
    log.write_text(text[:cut] + flipped + text[cut + 1 :])
    reader = open_store(f"file://{tmp_path / 'store'}", encryption_key=key)
    with pytest.raises(EncryptionKeyError, match="altered"):
        await reader.get("altered")
    await store.close()
    await reader.close()


@pytest.mark.parametrize("place", ["state", "properties"])
async def test_a_sealed_value_moved_to_another_key_is_refused(tmp_path: Path, place: str) -> None:
    key = generate_key()
    store = open_store(f"file://{tmp_path / 'store'}", encryption_key=key)
    session: Session[Any] = await Session.create(store=store, id="moved")
    await session.set_state("note", SECRET_STATE)
    session.metadata.properties["note"] = SECRET_PROPERTY
    await store.save(session)
    await store.close()
    # Someone with write access to the data (not the key) moves the sealed value to a key of
    # their choosing: it was bound to "note" when sealed, so it must not open as "stolen".
    header_file = tmp_path / "store" / "moved.json"
    header = json.loads(header_file.read_text())
    header[place]["stolen"] = header[place].pop("note")
    header_file.write_text(json.dumps(header))

    reader = open_store(f"file://{tmp_path / 'store'}", encryption_key=key)
    with pytest.raises(EncryptionKeyError, match=f"{place} 'stolen' does not decrypt"):
        await reader.get("moved")
    await reader.close()


async def test_refresh_and_vacuum_go_through_the_key(durable_case: StoreCase) -> None:
    key = generate_key()
    writer = durable_case.open(encryption_key=key)
    session: Session[Any] = await Session.create(store=writer, id="refreshed")
    await session.add_event_and_save(SessionEvent(message="first"))
    reader = durable_case.open(encryption_key=key)
    held = await reader.get("refreshed")
    assert held is not None
    await session.add_event_and_save(SessionEvent(message=SECRET_MESSAGE))
    refreshed = await reader.refresh(held)  # type: ignore[attr-defined]
    assert [event.message for event in refreshed.events] == ["first", SECRET_MESSAGE]
    vacuum = getattr(durable_case.open(), "vacuum", None)
    if vacuum is not None:  # sealed rows are not "unreadable": nothing is quarantined
        assert await vacuum() == 0
        loaded = await durable_case.open(encryption_key=key).get("refreshed")
        assert loaded is not None and len(loaded.events) == 2


async def test_rotation_never_undoes_a_header_change_made_while_it_runs(
    durable_case: StoreCase,
) -> None:
    old, new = generate_key(), generate_key()
    setup = durable_case.open(encryption_key=old)
    session: Session[Any] = await Session.create(store=setup, id="rotating")
    await session.set_state("step", 0)
    session.metadata.properties["owner"] = "writer 0"
    run = await SessionRun.create(metadata={"round": 0})
    session.runs.append(run)
    await session.add_event_and_save(SessionEvent(message="before"))

    # Another process, not yet moved to the new key, changes the header each time the rotation
    # has just read the session: exactly the window in which a rewrite of what rotation read
    # would undo the change.
    writer_store = durable_case.open(encryption_key=[old, new])
    held = await writer_store.get("rotating")
    assert held is not None
    changes = 0

    async def change_header() -> None:
        nonlocal changes
        changes += 1
        assert held is not None
        held.state["step"] = changes
        held.metadata.properties["owner"] = f"writer {changes}"
        held.runs[0].metadata["round"] = changes
        await held.add_event(SessionEvent(message=f"during {changes}"))
        await writer_store.save(held)

    rotator = durable_case.open(encryption_key=old)
    for name in ("get", "_read", "_read_since"):
        read = getattr(rotator, name)

        async def read_then_change(*args: Any, _read: Any = read) -> Any:
            found = await _read(*args)
            if changes < 3:  # then it lets the rotation's last pass through
                await change_header()
            return found

        setattr(rotator, name, read_then_change)
    assert await rotator.rotate_key(new) == 1
    assert changes >= 1
    await rotator.rotate_key(new)  # the events the writer appended with the old key meanwhile

    loaded = await durable_case.open(encryption_key=new).get("rotating")  # the new key only
    assert loaded is not None
    assert loaded.state == {"step": changes}
    assert loaded.metadata.properties == {"owner": f"writer {changes}"}
    assert [run.metadata for run in loaded.runs] == [{"round": changes}]
    assert [event.message for event in loaded.events] == ["before"] + [
        f"during {n}" for n in range(1, changes + 1)
    ]
