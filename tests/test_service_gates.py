"""The service gates of ``tests/conftest.py``: a PostgreSQL test database that does not exist
skips the PostgreSQL tests, saying how to create it, or (with
``LLM_SESSIONS_REQUIRE_SERVICES=1``) fails them with that one line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
A_POSTGRES_TEST = (
    "tests/storage/test_postgres_store.py::test_a_missing_database_raises_storage_error"
)


def _run_with_database(postgres_url: str, database: str, require: bool) -> str:
    url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
    env = {**os.environ, "LLM_SESSIONS_TEST_POSTGRES_URL": url}
    env["LLM_SESSIONS_REQUIRE_SERVICES"] = "1" if require else "0"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", "-p", "no:cacheprovider", A_POSTGRES_TEST],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    return done.stdout + done.stderr


@pytest.mark.parametrize("require", [False, True], ids=["skips", "fails-when-required"])
def test_a_missing_test_database_skips_or_fails_saying_how_to_create_it(
    postgres_url: str, require: bool
) -> None:
    database = f"no_such_db_{uuid.uuid4().hex[:8]}"
    output = _run_with_database(postgres_url, database, require)
    assert f"PostgreSQL has no database '{database}'" in output
    parts = urlsplit(postgres_url)
    user = f" -U {parts.username}" if parts.username else ""
    where = f"-h {parts.hostname} -p {parts.port or 5432}{user}"
    assert f"create it with: createdb {where} {database}" in output
    assert "InvalidCatalogNameError" not in output
    if require:
        assert "1 error" in output
        assert (
            f"Failed: LLM_SESSIONS_REQUIRE_SERVICES=1, but PostgreSQL has no database '{database}'"
            in output
        )
    else:
        assert "1 skipped" in output
