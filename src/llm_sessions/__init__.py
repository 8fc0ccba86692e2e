"""llm_sessions: the session layer for LLM applications."""
