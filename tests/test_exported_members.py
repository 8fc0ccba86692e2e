"""The public surface the spec promises: ``__all__`` lists, the names resolve, the paths import."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import llm_sessions

TOP_LEVEL = {
    "Compaction",
    "CompactionReport",
    "Recall",
    "Attachment",
    "SessionManager",
    "track_conversation",
    "track_llm_call",
    "quick_conversation",
    "track_infinite_conversation",
    "Session",
    "SessionEvent",
    "EventSource",
    "EventType",
    "SessionRun",
    "RunStatus",
    "TokenUsage",
    "TokenSummary",
    "SessionSummary",
    "SessionPage",
    "UsageRow",
    "SearchHit",
    "SearchPage",
    "Retention",
}

# Names each package's ``__all__`` must contain (the spec's list; a package may export more).
REQUIRED_EXPORTS = {
    "llm_sessions.exceptions": {
        "SessionManagerError",
        "SessionNotFound",
        "SessionAlreadyExists",
        "InvalidSessionOperation",
        "TokenLimitExceeded",
        "StorageError",
        "ToolProcessingError",
    },
    "llm_sessions.models": {
        "Session",
        "SessionEvent",
        "SessionMetadata",
        "SessionRun",
        "RunStatus",
        "EventSource",
        "EventType",
        "TokenUsage",
        "TokenSummary",
    },
    "llm_sessions.storage": {
        "SessionStoreInterface",
        "SessionStoreProvider",
        "InMemorySessionStore",
        "create_file_session_store",
        "create_redis_session_store",
        "SQLiteSessionStore",
        "PostgresSessionStore",
        "open_store",
        "SessionSummary",
        "SessionPage",
        "UsageRow",
        "SearchHit",
        "SearchPage",
    },
    "llm_sessions.tokens": {
        "count_text",
        "count_text_async",
        "count_chat_messages",
        "encoding_name_for_model",
        "load_encoding",
        "VocabIntegrityError",
        "cost_usd",
        "price_for_model",
    },
    "llm_sessions.integrations.langchain": {"LLMSessionsChatMessageHistory"},
    "llm_sessions.integrations.llama_index": {"LLMSessionsChatStore"},
    "llm_sessions.integrations.llama_index_memory": {"LLMSessionsMemoryStore"},
    "llm_sessions.integrations.pydantic_ai": {"PydanticAIHistory"},
}

# Module paths the seeds import from, and the names they import from each.
SPEC_MODULES = {
    "llm_sessions.models.session": {"Session", "SessionEvent"},
    "llm_sessions.models.session_event": {"SessionEvent"},
    "llm_sessions.models.event_source": {"EventSource"},
    "llm_sessions.models.event_type": {"EventType"},
    "llm_sessions.models.session_run": {"SessionRun", "RunStatus"},
    "llm_sessions.models.token_usage": {"TokenUsage", "TokenSummary"},
    "llm_sessions.models.session_metadata": {"SessionMetadata"},
    "llm_sessions.storage": {"SessionStoreProvider", "InMemorySessionStore"},
    "llm_sessions.integrations.adk": {
        "LLMSessionsSessionService",
        "ADK_EVENT_KEY",
        "STATE_SESSION_PREFIX",
    },
    "llm_sessions.storage.providers.file": {"FileSessionStore", "create_file_session_store"},
    "llm_sessions.storage.providers.redis": {"RedisSessionStore", "create_redis_session_store"},
    "llm_sessions.infinite_conversation": {
        "InfiniteConversationManager",
        "SummarizationStrategy",
    },
}


def test_top_level_all_is_exactly_the_spec_list() -> None:
    assert len(llm_sessions.__all__) == len(set(llm_sessions.__all__))
    assert set(llm_sessions.__all__) == TOP_LEVEL


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_names_resolve(name: str) -> None:
    assert getattr(llm_sessions, name) is not None


@pytest.mark.parametrize("module_name", sorted(REQUIRED_EXPORTS))
def test_package_all_contains_the_spec_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert len(module.__all__) == len(exported), f"duplicates in {module_name}.__all__"
    missing = REQUIRED_EXPORTS[module_name] - exported
    assert not missing, f"{module_name}.__all__ lacks {sorted(missing)}"


@pytest.mark.parametrize("module_name", sorted(REQUIRED_EXPORTS))
def test_every_name_in_all_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    unresolved = [name for name in module.__all__ if not hasattr(module, name)]
    assert unresolved == []


@pytest.mark.parametrize("module_name", sorted(SPEC_MODULES))
def test_spec_module_paths_import_with_their_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in SPEC_MODULES[module_name]:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_aliases_are_the_same_objects_not_copies() -> None:
    from llm_sessions.models import session, session_event, session_run, token_usage

    assert llm_sessions.Session is session.Session
    assert session.SessionEvent is session_event.SessionEvent is llm_sessions.SessionEvent
    assert llm_sessions.SessionRun is session_run.SessionRun
    assert llm_sessions.RunStatus is session_run.RunStatus
    assert llm_sessions.TokenUsage is token_usage.TokenUsage


def test_enum_values_are_the_spec_values() -> None:
    from llm_sessions import EventSource, EventType, RunStatus
    from llm_sessions.infinite_conversation import SummarizationStrategy

    assert {m.name: m.value for m in EventSource} == {
        "USER": "user",
        "LLM": "llm",
        "SYSTEM": "system",
    }
    assert {m.name: m.value for m in EventType} == {
        name: name.lower()
        for name in ("MESSAGE", "SUMMARY", "TOOL_CALL", "REFERENCE", "CONTEXT_BRIDGE")
    }
    assert {m.name: m.value for m in RunStatus} == {
        name: name.lower() for name in ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
    }
    assert {m.name for m in SummarizationStrategy} == {
        "BASIC",
        "KEY_POINTS",
        "TOPIC_BASED",
        "QUERY_FOCUSED",
    }


def test_exceptions_form_one_tree_with_the_spec_constructors() -> None:
    from llm_sessions import exceptions as exc

    for name in REQUIRED_EXPORTS["llm_sessions.exceptions"]:
        cls = getattr(exc, name)
        assert inspect.isclass(cls) and issubclass(cls, exc.SessionManagerError), name

    not_found = exc.SessionNotFound("abc")
    assert isinstance(not_found, ValueError)
    assert not_found.session_id == "abc" and "abc" in str(not_found)
    assert exc.SessionAlreadyExists("abc").session_id == "abc"
    operation = exc.InvalidSessionOperation("reopen", "closed")
    assert (operation.operation, operation.reason) == ("reopen", "closed")
    limit = exc.TokenLimitExceeded(100, 120)
    assert (limit.limit, limit.actual) == (100, 120)
    assert "100" in str(limit) and "120" in str(limit)
    tool = exc.ToolProcessingError("weather", "timeout")
    assert (tool.tool_name, tool.reason) == ("weather", "timeout")
    assert "weather" in str(tool)


def test_infinite_conversation_manager_has_the_spec_signature() -> None:
    from llm_sessions.infinite_conversation import (
        InfiniteConversationManager,
        SummarizationStrategy,
    )

    params = inspect.signature(InfiniteConversationManager).parameters
    assert params["token_threshold"].default == 3000
    assert params["max_turns_per_segment"].default == 20
    assert params["summarization_strategy"].default == SummarizationStrategy.BASIC


def test_session_manager_has_the_spec_signature() -> None:
    params = inspect.signature(llm_sessions.SessionManager).parameters
    assert list(params)[:4] == [
        "session_id",
        "infinite_context",
        "token_threshold",
        "max_turns_per_segment",
    ]
    assert params["session_id"].default is None
    assert params["infinite_context"].default is False
    assert params["token_threshold"].default == 4000
    assert params["max_turns_per_segment"].default == 20


# The public API of the reorganised packages: exactly what each package's ``__init__`` exports
# (their modules are private, ``_name.py``; old module paths are aliases, see ``compat``).
PACKAGE_FACES = {
    "llm_sessions.models": [
        "Attachment",
        "CountMethod",
        "EventSource",
        "EventType",
        "RunStatus",
        "Session",
        "SessionEvent",
        "SessionMetadata",
        "SessionRun",
        "TokenSummary",
        "TokenUsage",
    ],
    "llm_sessions.storage": [
        "AuditRecord",
        "DEFAULT_MAX_EVENT_BYTES",
        "ErasureReceipt",
        "EventLogStore",
        "EventPage",
        "FileSessionStore",
        "InMemorySessionStore",
        "IndexStatus",
        "MessageLog",
        "ModelTotals",
        "PostgresSessionStore",
        "Redactor",
        "RedisSessionStore",
        "Retention",
        "RetentionReport",
        "SQLiteSessionStore",
        "STORE_ENV_VAR",
        "SearchHit",
        "SearchPage",
        "SessionPage",
        "SessionStore",
        "SessionStoreInterface",
        "SessionStoreProvider",
        "SessionSummary",
        "StoreOptions",
        "StoreState",
        "TrimmedSession",
        "UsageRow",
        "blob_area",
        "collect_blobs",
        "create_file_session_store",
        "create_redis_session_store",
        "open_store",
        "read_messages",
        "redact_pii",
        "refreshed",
        "supported_schemes",
    ],
    "llm_sessions.storage.sqlite": ["SCHEMA_VERSION", "SQLiteSessionStore"],
    "llm_sessions.storage.postgres": ["PostgresSessionStore", "SCHEMA_VERSION"],
    "llm_sessions.storage.redis": [
        "RedisSessionStore",
        "RedisTopology",
        "RedisURL",
        "connect_redis",
        "create_redis_session_store",
        "parse_redis_url",
        "redact_url",
    ],
    "llm_sessions.storage.file": ["FileSessionStore", "create_file_session_store"],
    "llm_sessions.conversations": [
        "CompactionReport",
        "InfiniteConversationManager",
        "LLMCallback",
        "SEGMENT_STATE_KEY",
        "SummarizationStrategy",
        "compact_history",
        "compaction_view",
        "extractive_summary",
        "summarize_segment",
        "summary_request",
    ],
    "llm_sessions.prompting": [
        "Compaction",
        "EventRenderer",
        "PromptStrategy",
        "Recall",
        "build_prompt_from_session",
        "build_prompt_from_store",
        "is_compaction_event",
        "is_retention_stub",
        "prompt_tokens",
        "register_event_renderer",
        "truncate_prompt_to_token_limit",
        "unregister_event_renderer",
    ],
    "llm_sessions.api": [
        "DEFAULT_CHECKPOINT_MS",
        "ReplyStream",
        "SessionManager",
        "quick_conversation",
        "track_conversation",
        "track_infinite_conversation",
        "track_llm_call",
    ],
    "llm_sessions.replies": [
        "AssistantReply",
        "ChunkDeltas",
        "RecordedReply",
        "ToolCallDelta",
        "ToolCallRequest",
        "as_text",
        "chunk_deltas",
        "read_reply",
        "recorded_reply",
        "response_text",
        "response_usage",
    ],
    "llm_sessions.views": [
        "EventNode",
        "ToolCallStatus",
        "build_event_tree",
        "event_kind",
        "event_tree_data",
        "render_event_tree",
    ],
    "llm_sessions.telemetry": [
        "annotate",
        "configure",
        "fail",
        "is_enabled",
        "record_store_operation",
        "record_tool_call",
        "record_usage",
        "set_enabled",
        "span",
        "store_span",
        "traced",
    ],
}
# Modules of those packages that keep a public name: the store the spec names, and the
# manager and helpers of the recording API.
PUBLIC_MODULES = {
    "llm_sessions.storage.memory",
    "llm_sessions.api.manager",
    "llm_sessions.api.helpers",
}


@pytest.mark.parametrize("package", sorted(PACKAGE_FACES))
def test_a_package_face_exports_exactly_its_public_api(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == PACKAGE_FACES[package]
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


@pytest.mark.parametrize("package", sorted(PACKAGE_FACES))
def test_implementation_modules_are_private(package: str) -> None:
    folder = Path(importlib.import_module(package).__file__ or "").parent
    public = []
    for path in folder.glob("*.py"):
        name = f"{package}.{path.stem}"
        is_alias = path.read_text().rstrip().endswith("\nalias(__name__)")
        if path.stem.startswith("_") or is_alias or name in PUBLIC_MODULES:
            continue
        public.append(name)
    assert public == []
