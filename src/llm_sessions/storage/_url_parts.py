"""Strict reading of store URLs: each malformed part raises ``InvalidInputError`` naming that
part (``url host``, ``url port``, ``url path``, ``url database``, ``url option <name>``), before
any file is opened or any connection made."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qs, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..exceptions import InvalidInputError
from ..validation import validate_seconds

__all__ = [
    "check_network_url",
    "local_path",
    "parse_flag",
    "parse_seconds",
    "parse_timeout",
    "query_options",
    "redis_database",
    "split_query",
    "split_url",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PORT = re.compile(r"[0-9]{1,5}")


def split_url(url: str) -> SplitResult:
    """``urlsplit``, with its ``ValueError`` (an unclosed ``[`` in the host) named."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        raise InvalidInputError("url host", netloc, str(exc)) from exc


def local_path(url: str, *, relative_ok: bool) -> str:
    """The file-system path of a ``file://`` or ``sqlite://`` URL.

    ``file:///abs/dir`` gives ``/abs/dir``. With ``relative_ok`` (SQLite, as SQLAlchemy reads
    it) the separator slash is dropped: ``sqlite:///rel.db`` is relative, ``sqlite:////abs.db``
    absolute. A host, an empty path, the root folder or a control character is refused.
    """
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if parts.netloc not in ("", "localhost"):
        raise InvalidInputError(
            "url host",
            parts.netloc,
            f"a {scheme} URL names no host: write {scheme}:///path (three slashes)",
        )
    try:
        path = unquote(parts.path, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("url path", parts.path, "is not UTF-8 once decoded") from exc
    if _CONTROL.search(path):
        raise InvalidInputError("url path", path, "must not contain NUL or control characters")
    if relative_ok and path.startswith("/"):
        path = path[1:]
    if not path.strip("/"):
        raise InvalidInputError(
            "url path", path, f"must name a {_WHAT[scheme]}, as in {scheme}:///{_EXAMPLE[scheme]}"
        )
    if not relative_ok and not path.startswith("/"):
        raise InvalidInputError("url path", path, "must be absolute")
    return path


_WHAT = {"file": "folder (not the root)", "sqlite": "database file"}
_EXAMPLE = {"file": "var/sessions", "sqlite": "sessions.db"}


def check_network_url(url: str, *, query_host_ok: bool = False, many_hosts: bool = False) -> None:
    """Refuse a network URL without a host, with a port that is not 1-65535, or with control
    characters; ``query_host_ok`` accepts ``?host=`` instead (a PostgreSQL socket folder)."""
    parts = split_url(url)
    netloc = unquote(parts.netloc)
    if _CONTROL.search(netloc) or _CONTROL.search(unquote(parts.path)):
        raise InvalidInputError("url", _redacted(parts), "must not contain control characters")
    hosts = parts.netloc.rsplit("@", 1)[-1]
    if not hosts:
        if query_host_ok and "host" in parse_qs(parts.query):
            return
        raise InvalidInputError(
            "url host", "", f"is missing: write {parts.scheme}://host[:port]/..."
        )
    for hostport in hosts.split(",") if many_hosts else [hosts]:
        _check_hostport(hostport)


def _check_hostport(hostport: str) -> None:
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            raise InvalidInputError("url host", hostport, "text after ']' must be ':port'")
    else:
        host, colon, port_text = hostport.partition(":")
        port = port_text if colon else None
    if not host:
        raise InvalidInputError("url host", hostport, "is missing")
    if port is not None and (not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535):
        raise InvalidInputError("url port", port, "must be a whole number from 1 to 65535")


def redis_database(url: str) -> None:
    """Refuse a Redis URL whose path is not empty, ``/`` or ``/<database number>``."""
    path = split_url(url).path
    if path not in ("", "/") and not re.fullmatch(r"/[0-9]{1,5}", path):
        raise InvalidInputError("url database", path, "must be /<number>, as in redis://host/0")


def _redacted(parts: SplitResult) -> str:
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=host, query=""))


def parse_flag(value: str) -> bool:
    """A query value that is a boolean (``true``/``false``, ``1``/``0``, ``yes``/``no``,
    ``on``/``off``)."""
    lowered = value.lower()
    if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError("not a boolean (true/false)")
    return lowered in ("1", "true", "yes", "on")


def parse_seconds(text: str) -> float | None:
    """A query value in seconds: a finite number > 0, or ``""`` / ``none`` for no limit."""
    if text.lower() in ("", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number of seconds") from None
    try:
        return validate_seconds(value, "seconds")
    except InvalidInputError as exc:
        raise ValueError(exc.reason) from None


def parse_timeout(text: str) -> float:
    """A query value that is a timeout: a finite number of seconds > 0."""
    value = parse_seconds(text)
    if value is None:
        raise ValueError("a timeout must be a number of seconds > 0")
    return value


def split_query(
    url: str, store_options: Mapping[str, Callable[[str], Any]]
) -> tuple[dict[str, Any], str]:
    """The store's own options in a URL's query, converted, and the URL without them (what is
    left is the driver's)."""
    parts = split_url(url)
    options: dict[str, Any] = {}
    driver_query: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        convert = store_options.get(name)
        if convert is None:
            driver_query.append((name, value))
            continue
        try:
            options[name] = convert(value)
        except ValueError as exc:
            raise InvalidInputError(f"url option {name}", value, str(exc)) from exc
    return options, urlunsplit(parts._replace(query=urlencode(driver_query)))


def query_options(url: str, known: Mapping[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Constructor options from the URL's query (``?expiration_seconds=60``); a store without a
    driver to pass the rest to refuses unknown options."""
    options, rest = split_query(url, known)
    unknown = parse_qs(urlsplit(rest).query, keep_blank_values=True)
    if unknown:
        raise InvalidInputError(
            "url", url, f"unknown option {min(unknown)!r}; known: {', '.join(sorted(known))}"
        )
    return options
