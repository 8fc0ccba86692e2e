"""The ``llm-sessions`` command line."""
