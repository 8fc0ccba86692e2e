"""``python -m llm_sessions`` runs the command line."""

from .cli.main import main

main()
