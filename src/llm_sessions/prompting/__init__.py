"""The pieces behind ``llm_sessions.session_prompt_builder`` (import from there, not here).

- ``render``: one event (and the tool calls linked to it) as OpenAI-style chat messages.
- ``groups``: the newest-first walk that groups an assistant reply with its tool results.
- ``custom``: renderers registered for custom event types.
- ``budget``: token costs (cached) and fitting candidates into a token budget.
- ``strategies``: what each ``PromptStrategy`` puts in a prompt.
- ``parents``: the context a session inherits from its parent sessions.
"""
