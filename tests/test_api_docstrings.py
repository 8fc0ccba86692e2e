"""The API reference's entry points document their arguments, results and errors.

The docs site renders the docstrings (mkdocstrings, Google style); these functions are the
ones the pages send readers to, so each has an ``Args:`` section naming every parameter (and
no other), and a ``Returns:`` section when it returns something. Each is named by its public
path and checked where it is defined.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import griffe
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

ENTRY_POINTS = (
    "llm_sessions.SessionManager.open",
    "llm_sessions.SessionManager.set_system_prompt",
    "llm_sessions.SessionManager.get_system_prompt",
    "llm_sessions.SessionManager.get_session",
    "llm_sessions.SessionManager.user_says",
    "llm_sessions.SessionManager.ai_responds",
    "llm_sessions.SessionManager.tool_used",
    "llm_sessions.SessionManager.process_llm_message",
    "llm_sessions.SessionManager.pop_last_turn",
    "llm_sessions.SessionManager.fork",
    "llm_sessions.SessionManager.delete",
    "llm_sessions.SessionManager.get_conversation",
    "llm_sessions.SessionManager.get_session_chain",
    "llm_sessions.SessionManager.get_stats",
    "llm_sessions.SessionManager.get_messages_for_llm",
    "llm_sessions.storage.open_store",
    "llm_sessions.storage.supported_schemes",
    "llm_sessions.interop.conversation_of",
    "llm_sessions.interop.export_session",
    "llm_sessions.interop.import_session",
    "llm_sessions.interop.detect_format",
    "llm_sessions.server.create_app",
    "llm_sessions.server.app_from_environment",
    "llm_sessions.server.TenantStore.new_id",
    "llm_sessions.server.TenantStore.seed_ids",
    "llm_sessions.integrations.openai_agents.LLMSessionsSession.get_items",
    "llm_sessions.integrations.openai_agents.LLMSessionsSession.add_items",
    "llm_sessions.integrations.openai_agents.LLMSessionsSession.pop_item",
    "llm_sessions.integrations.openai_agents.LLMSessionsSession.clear_session",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.create_session",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.get_session",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.list_sessions",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.delete_session",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.get_user_state",
    "llm_sessions.integrations.adk.LLMSessionsSessionService.append_event",
    "llm_sessions.session_prompt_builder.build_prompt_from_session",
    "llm_sessions.session_prompt_builder.build_prompt_from_store",
    "llm_sessions.session_prompt_builder.truncate_prompt_to_token_limit",
    "llm_sessions.session_prompt_builder.register_event_renderer",
    "llm_sessions.session_prompt_builder.unregister_event_renderer",
    "llm_sessions.tokens.count_text",
    "llm_sessions.tokens.count_text_async",
    "llm_sessions.tokens.count_chat_message",
    "llm_sessions.tokens.count_chat_messages",
    "llm_sessions.tokens.encoding_name_for_model",
    "llm_sessions.tokens.truncate_text",
    "llm_sessions.tokens.price_for_model",
    "llm_sessions.tokens.cost_usd",
    "llm_sessions.tokens.load_encoding",
    "llm_sessions.tokens.ModelPrice.cost",
    "llm_sessions.tools.register_tool",
    "llm_sessions.tool_processing.SessionAwareToolProcessor.create",
    "llm_sessions.tool_processing.SessionAwareToolProcessor.load_session",
    "llm_sessions.tool_processing.SessionAwareToolProcessor.record_reply",
    "llm_sessions.tool_processing.SessionAwareToolProcessor.process_llm_message",
    "llm_sessions.integrations.openai.chat",
    "llm_sessions.tools.ToolRegistry.register",
    "llm_sessions.tools.ToolRegistry.add",
    "llm_sessions.tools.ToolRegistry.unregister",
    "llm_sessions.tools.ToolRegistry.get",
    "llm_sessions.tools.ToolRegistry.tools",
    "llm_sessions.tools.ToolRegistry.list_tools",
    "llm_sessions.tools.ToolRegistry.list_namespaces",
    "llm_sessions.tools.ToolRegistry.to_openai_tools",
    "llm_sessions.tools.ToolRegistry.call",
    "llm_sessions.tools.get_default_registry",
    "llm_sessions.models.TokenUsage.from_text",
    "llm_sessions.models.TokenUsage.from_provider",
    "llm_sessions.models.TokenUsage.count_tokens",
    "llm_sessions.models.TokenUsage.update",
    "llm_sessions.models.TokenUsage.calculate_cost",
    "llm_sessions.models.TokenSummary.of",
    "llm_sessions.models.TokenSummary.add_usage",
    "llm_sessions.models.TokenSummary.add",
    "llm_sessions.models.SessionEvent.create_with_tokens",
    "llm_sessions.models.SessionEvent.note_counted_texts",
    "llm_sessions.models.SessionEvent.counted_texts",
    "llm_sessions.models.SessionEvent.update_token_usage",
    "llm_sessions.models.SessionEvent.update_metadata",
    "llm_sessions.lifecycle.SessionManager.allocate_session",
    "llm_sessions.lifecycle.SessionManager.validate_session",
    "llm_sessions.lifecycle.SessionManager.get_session_info",
    "llm_sessions.lifecycle.SessionManager.update_session_metadata",
    "llm_sessions.lifecycle.SessionManager.extend_session_ttl",
    "llm_sessions.lifecycle.SessionManager.delete_session",
    "llm_sessions.lifecycle.SessionManager.cleanup_expired_sessions",
    "llm_sessions.lifecycle.SessionManager.get_cache_stats",
    "llm_sessions.lifecycle.SessionManager.get_canonical_prefix",
    "llm_sessions.lifecycle.SessionManager.generate_artifact_key",
    "llm_sessions.lifecycle.SessionManager.parse_grid_key",
    "llm_sessions.lifecycle.SessionManager.get_session_prefix_pattern",
    "llm_sessions.server.ApiKeys.parse",
    "llm_sessions.server.ApiKeys.from_file",
    "llm_sessions.server.ApiKeys.tenant_for",
    "llm_sessions.server.TenantStore.owns",
    "llm_sessions.server.TenantStore.get",
    "llm_sessions.server.TenantStore.require",
    "llm_sessions.server.TenantStore.require_for_append",
    "llm_sessions.server.TenantStore.save",
    "llm_sessions.server.TenantStore.delete",
    "llm_sessions.server.TenantStore.list_sessions",
    "llm_sessions.server.TenantStore.read_events",
    "llm_sessions.lifecycle.KeyValueSession.setex",
    "llm_sessions.lifecycle.KeyValueSession.set",
    "llm_sessions.lifecycle.KeyValueSession.get",
    "llm_sessions.lifecycle.KeyValueSession.delete",
    "llm_sessions.models.SessionMetadata.create",
    "llm_sessions.models.SessionMetadata.set_property",
    "llm_sessions.models.SessionMetadata.get_property",
    "llm_sessions.lifecycle.SessionInfo.is_expired",
    "llm_sessions.lifecycle.SessionInfo.remaining_seconds",
    "llm_sessions.lifecycle.SessionInfo.to_dict",
    "llm_sessions.tools.ArgumentProblem.describe",
    "llm_sessions.tools.ArgumentsSchema.validate",
    "llm_sessions.tools.ArgumentsSchema.bind",
    "llm_sessions.tools.RegisteredTool.to_openai",
    "llm_sessions.tools.RegisteredTool.parse_arguments",
    "llm_sessions.tools.RegisteredTool.execute",
    "llm_sessions.tools.RegisteredTool.call",
    "llm_sessions.tools.decode_arguments",
    "llm_sessions.tools.to_json_value",
    "llm_sessions.tool_processing.ToolResult.content",
    "llm_sessions.tool_processing.ToolResult.to_tool_message",
    "llm_sessions.tool_processing.retry_transient",
)


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    loader = griffe.GriffeLoader(search_paths=[str(SRC)], docstring_parser=griffe.Parser.google)
    module = loader.load("llm_sessions")
    loader.resolve_aliases(implicit=True, external=False)
    assert isinstance(module, griffe.Module)
    return module


def _home(path: str) -> str:
    """Where the object a public path names is defined (its module and qualified name), so the
    check follows it through re-exports and old import paths kept as aliases."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        function = inspect.unwrap(getattr(found, "__func__", found))
        return f"{function.__module__}.{function.__qualname__}"
    raise AssertionError(f"{path} does not import")


def _function(package: griffe.Module, path: str) -> griffe.Function:
    found = package.get_member(_home(path).removeprefix("llm_sessions."))
    target = found.final_target if isinstance(found, griffe.Alias) else found
    assert isinstance(target, griffe.Function), f"{path} is not a function"
    return target


def _parameters(function: griffe.Function) -> set[str]:
    return {p.name for p in function.parameters if p.name not in ("self", "cls")}


@pytest.mark.parametrize("path", ENTRY_POINTS)
def test_an_entry_point_documents_its_arguments_and_result(
    package: griffe.Module, path: str
) -> None:
    function = _function(package, path)
    assert function.docstring is not None, f"{path} has no docstring"
    sections = {section.kind: section for section in function.docstring.parsed}
    documented = {
        p.name.lstrip("*")
        for p in getattr(sections.get(griffe.DocstringSectionKind.parameters), "value", [])
    }
    assert documented == _parameters(function), f"{path}: Args: {sorted(documented)}"
    if str(function.returns) != "None":
        assert griffe.DocstringSectionKind.returns in sections, f"{path} has no Returns:"
