"""API keys (parsing, hashing, constant-time lookup) and the tenant's scoped view of the store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from server_helpers import KEY_A, KEY_B
from typer.testing import CliRunner

from llm_sessions.cli.main import app as cli
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource, SessionEvent
from llm_sessions.models.session import Session
from llm_sessions.server import ApiKeys, TenantStore, app_from_environment, create_app
from llm_sessions.storage import InMemorySessionStore, Retention


def test_keys_map_to_tenants_and_are_kept_only_as_hashes() -> None:
    keys = ApiKeys.parse(f"{KEY_A}=alpha, {KEY_B}=beta")
    assert keys.tenant_for(KEY_A) == "alpha"
    assert keys.tenant_for(KEY_B) == "beta"
    assert keys.tenant_for(KEY_A + "x") is None
    assert keys.tenants == {"alpha", "beta"}
    assert KEY_A not in repr(vars(keys))


def test_a_keys_file_has_one_key_a_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# team keys\n{KEY_A}=alpha\n\n{KEY_B}=beta\n", encoding="utf-8")
    keys = ApiKeys.from_file(path)
    assert (keys.tenant_for(KEY_A), keys.tenant_for(KEY_B), len(keys)) == ("alpha", "beta", 2)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("short=alpha", "key"),
        (f"{KEY_A}=bad tenant!", "tenant"),
        (f"{KEY_A}", "keys entry 1"),
        (f"{KEY_A}=alpha,{KEY_A}=beta", "keys"),
    ],
)
def test_bad_key_configuration_names_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        ApiKeys.parse(text)
    assert raised.value.field == field
    assert KEY_A not in str(raised.value)


def test_the_environment_configures_keys_and_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys"
    path.write_text(f"{KEY_B}=beta\n", encoding="utf-8")
    monkeypatch.setenv("LLM_SESSIONS_API_KEYS", f"{KEY_A}=alpha")
    monkeypatch.setenv("LLM_SESSIONS_API_KEYS_FILE", str(path))
    monkeypatch.setenv("LLM_SESSIONS_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("LLM_SESSIONS_STORE", "memory://")
    state = app_from_environment().state.llm_sessions
    assert state.keys.tenants == {"alpha", "beta"}
    assert state.max_body_bytes == 2048
    monkeypatch.setenv("LLM_SESSIONS_MAX_BODY_BYTES", "lots")
    with pytest.raises(InvalidInputError, match="LLM_SESSIONS_MAX_BODY_BYTES"):
        app_from_environment()


async def test_a_tenant_sees_and_writes_only_its_own_namespace() -> None:
    inner = InMemorySessionStore()
    alpha, beta = TenantStore(inner, "alpha"), TenantStore(inner, "beta")
    mine: Session[str] = Session(id=alpha.new_id("conv_"))
    await alpha.save(mine)
    assert mine.id.startswith("alpha.conv_")
    assert await alpha.get(mine.id) is not None
    assert await beta.get(mine.id) is None
    assert await beta.read_events(mine.id) is None
    assert await beta.delete(mine.id) is False
    assert await beta.list_sessions() == []
    assert await alpha.list_sessions() == [mine.id]
    with pytest.raises(InvalidInputError, match="must start with 'beta"):
        await beta.save(Session(id="alpha.conv_forged"))
    assert await inner.list_sessions() == [mine.id]


async def test_without_keys_the_whole_store_is_one_tenant() -> None:
    inner = InMemorySessionStore()
    recorded: Session[str] = Session(id="recorded-by-the-library")
    await inner.save(recorded)
    app = create_app(inner)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get("/v1/conversations/recorded-by-the-library")
    assert response.status_code == 200
    assert response.json()["id"] == "recorded-by-the-library"


def test_serve_refuses_a_public_interface_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_SESSIONS_API_KEYS", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--store", "memory://", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0 without API keys" in result.output


def test_key_file_configuration_errors_stop_serve_before_it_binds(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("tooshort=alpha\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--store", "memory://", "--keys-file", str(path)])
    assert result.exit_code == 1
    assert "key" in result.output and "16 characters" in result.output


async def _two_tenants() -> tuple[InMemorySessionStore, TenantStore]:
    inner = InMemorySessionStore()
    for session_id in ("alpha.a", "alpha.b", "beta.a"):
        session: Session[str] = Session(id=session_id)
        session.metadata.user_id = "ann"
        session.events.append(SessionEvent(message="the refund", source=EventSource.USER))
        await inner.save(session)
    return inner, TenantStore(inner, "alpha")


async def test_the_prefix_taking_methods_stay_within_the_tenant() -> None:
    inner, alpha = await _two_tenants()
    positional = await alpha.find_sessions(None, None, None, None, "created_at", 50, None, "")
    assert sorted(row.id for row in positional.items) == ["alpha.a", "alpha.b"]
    assert [row.id for row in (await alpha.find_sessions(prefix="alpha.b")).items] == ["alpha.b"]
    assert (await alpha.find_sessions(prefix="beta.")).items == []
    hits = await alpha.search("refund", prefix="al")
    assert sorted(hit.session_id for hit in hits.items) == ["alpha.a", "alpha.b"]
    assert [row.sessions for row in await alpha.usage(())] == [2]
    assert await alpha.usage((), prefix="beta.") == []

    receipt = await alpha.erase({"user_id": "ann"}, actor="ops")
    assert sorted(receipt.session_ids) == ["alpha.a", "alpha.b"]
    assert await inner.list_sessions() == ["beta.a"]
    assert [record.actor for record in await alpha.audit_log()] == ["ops"]
    assert await TenantStore(inner, "beta").audit_log() == []
    assert await alpha.audit_log(prefix="beta.") == []


async def test_a_tenant_view_refuses_a_foreign_prefix_and_still_names_bad_arguments() -> None:
    inner, alpha = await _two_tenants()
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("prefix", lambda: alpha.erase(all=True, prefix="beta.")),
        ("session_ids", lambda: alpha.erase(session_ids=["beta.a"])),
        ("prefix", lambda: alpha.apply_retention(Retention(max_age="1d"), prefix="beta.")),
        ("limit", lambda: alpha.find_sessions(limit=0, prefix="beta.")),
        ("mode", lambda: alpha.search("refund", mode="psychic", prefix="beta.")),
        ("group_by", lambda: alpha.usage(("day", "day"), prefix="beta.")),
        ("prefix", lambda: alpha.find_sessions(prefix=7)),  # type: ignore[arg-type]
        ("prefix", lambda: alpha.erase(all=True, prefix=None)),  # type: ignore[arg-type]
    ]
    for field, call in calls:
        with pytest.raises(InvalidInputError) as raised:
            await call()
        assert raised.value.field == field
    assert sorted(await inner.list_sessions()) == ["alpha.a", "alpha.b", "beta.a"]
