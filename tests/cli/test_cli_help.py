"""Every command's ``--help`` reads as help for a terminal."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from cli_helpers import invoke

from llm_sessions.cli.main import app
from llm_sessions.server.state import DEFAULT_MAX_BODY_BYTES

COMMANDS = [command.name for command in typer.main.get_group(app).commands.values()]


def _command(name: str | None) -> Any:
    group = typer.main.get_group(app)
    return group if name is None else group.commands[name]


def _help(name: str | None, columns: int = 100) -> str:
    result = invoke(*([name] if name else []), "--help", columns=columns)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_help_has_no_markup_and_flags_take_no_value(name: str | None) -> None:
    output = _help(name)
    assert "``" not in output
    assert "<bool>" not in output


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_each_paragraph_of_help_is_one_line_the_terminal_wraps(name: str | None) -> None:
    text = _command(name).help or ""
    assert all("\n" not in paragraph for paragraph in text.split("\n\n"))
    first = text.split("\n\n")[0]
    assert len(first) <= 150, f"the first paragraph of {name} is its summary: keep it short"
    if name is not None:  # the group's list of commands shows each summary whole, on wide screens
        assert first in " ".join(_help(None, columns=250).split())


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_that_takes_a_value_shows_its_default(name: str) -> None:
    output = " ".join(_help(name, columns=250).split())
    context = typer.Context(_command(name))
    for param in _command(name).get_params(context):
        if param.param_type_name != "option" or param.is_flag or param.required:
            continue
        shown = re.search(rf"{param.opts[0]} .*?\[default: [^\]]+\]", output)
        assert shown, f"{name} {param.opts[0]} shows no default"


def test_the_servers_body_limit_shows_the_servers_default() -> None:
    output = " ".join(_help("serve", columns=250).split())
    assert f"[default: (4 MiB = {DEFAULT_MAX_BODY_BYTES})]" in output
    assert DEFAULT_MAX_BODY_BYTES == 4 * 1024 * 1024
