"""``open_store`` reads URLs strictly: every malformed part is refused before any I/O, with an
``InvalidInputError`` that names the part."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.storage import open_store

# (url, the part the error names)
MALFORMED = [
    ("sqlite://", "url path"),
    ("sqlite:///", "url path"),
    ("sqlite://host/s.db", "url host"),
    ("sqlite:///a%00b.db", "url path"),
    ("file://", "url path"),
    ("file:///", "url path"),
    ("file://relative/dir", "url host"),
    ("file:///tmp/a%00b", "url path"),
    ("file:///tmp/%FF", "url path"),
    ("redis://h:notaport", "url port"),
    ("redis://h:99999", "url port"),
    ("redis://h:0", "url port"),
    ("redis://[::1", "url host"),
    ("redis://[::1]x/0", "url host"),
    ("redis://h/abc", "url database"),
    ("redis://h/0?expiration_seconds=nan", "url option expiration_seconds"),
    ("redis://h/0?expiration_seconds=-1", "url option expiration_seconds"),
    ("redis://", "url host"),
    ("rediss://:pw@/0", "url host"),
    ("postgresql://", "url host"),
    ("postgresql://u@h:65536/db", "url port"),
    ("postgresql://h1:5432,h2:x/db", "url port"),
    ("postgres://h/db?expiration_seconds=inf", "url option expiration_seconds"),
    ("sqlite:///s.db?timeout=nan", "url option timeout"),
    ("sqlite:///s.db?timeout=none", "url option timeout"),
    ("sqlite:///s.db?expiration_seconds=1e13", "url option expiration_seconds"),
    ("memory://somewhere", "url"),
]


@pytest.mark.parametrize(("url", "part"), MALFORMED)
def test_a_malformed_url_is_refused_naming_its_part(
    url: str, part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError) as caught:
        open_store(url)
    assert caught.value.field == part
    assert list(tmp_path.iterdir()) == []  # nothing created before the refusal


WELL_FORMED = [
    "redis://127.0.0.1:6379/3",
    "redis://[::1]:6379",
    "rediss://user:pw@cache.example/",
    "postgresql://u@db.example:5433/app",
    "postgresql://h1:5432,h2:5433/db",
    "postgresql:///test?host=/var/run/postgresql",
    "sqlite:///rel.db",
    "file://localhost/var/sessions",
]


@pytest.mark.parametrize("url", WELL_FORMED)
def test_well_formed_urls_still_open(url: str) -> None:
    assert open_store(url) is not None


def test_the_memory_store_refuses_an_expiry_it_cannot_honour() -> None:
    with pytest.raises(InvalidInputError, match="expiration_seconds"):
        open_store("memory://", expiration_seconds=60)
