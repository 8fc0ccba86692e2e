"""The files a released package carries agree with what ``pyproject.toml`` declares."""

from __future__ import annotations

import re
import tomllib
import zipfile
from importlib import resources
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

import llm_sessions

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_license_file_is_the_declared_mit_license() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_the_changelog_has_a_section_for_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(PROJECT['version'])}\]", text, re.MULTILINE)
    assert f"[{PROJECT['version']}]: " in text  # the section's link


def test_the_package_says_it_is_typed() -> None:
    assert (Path(llm_sessions.__file__).parent / "py.typed").is_file()
    assert "Typing :: Typed" in PROJECT["classifiers"]


def test_the_project_names_its_urls_and_python_versions() -> None:
    assert {"Homepage", "Changelog"} <= set(PROJECT["urls"])
    minimum = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in PROJECT["classifiers"]


INSPECTOR_ASSETS = ("pages.js", "inspector.js", "inspector.css", "favicon.ico")


def test_the_inspector_assets_are_installed_with_the_package() -> None:
    static = resources.files("llm_sessions.server.inspector").joinpath("static")
    for name in INSPECTOR_ASSETS:
        assert static.joinpath(name).read_bytes(), name


def test_the_wheel_carries_the_inspector_assets(tmp_path: Path) -> None:
    (wheel,) = (Path(built) for built in WheelBuilder(str(ROOT)).build(directory=str(tmp_path)))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in INSPECTOR_ASSETS:
        assert f"llm_sessions/server/inspector/static/{name}" in names
