"""One store factory for the contract suite, parametrized over every store.

``store_case`` describes one kind of store backed by data unique to the test (every kind; with
``--redis-topologies`` also Redis Cluster and Sentinel, see ``TOPOLOGY_KINDS``); what it is and
how it is opened and dropped lives in ``store_cases``, which tests import.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from store_cases import (
    ALL_KINDS,
    DURABLE_KINDS,
    FRAMEWORK_KINDS,
    TOPOLOGY_KINDS,
    StoreCase,
    drop_case,
    url_for,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``store_case`` / ``durable_case`` over the kinds of store."""
    extra = TOPOLOGY_KINDS if metafunc.config.getoption("--redis-topologies") else []
    named = (
        ("store_case", ALL_KINDS),
        ("durable_case", DURABLE_KINDS),
        ("framework_case", FRAMEWORK_KINDS),
    )
    for name, kinds in named:
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, [*kinds, *extra], indirect=True)


@pytest.fixture
async def store_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    """Every kind of store, each on data private to the test."""
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    await drop_case(case)


@pytest.fixture
async def durable_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    """Every durable store (file, SQLite, Redis, PostgreSQL), on data private to the test."""
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    await drop_case(case)


@pytest.fixture
async def framework_case(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreCase]:
    """SQLite, Redis and PostgreSQL, on data private to the test: the stores the framework
    integrations are checked on."""
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    await drop_case(case)


@pytest.fixture
async def schema(postgres_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL schema name, dropped (with all it holds) after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    connection = await asyncpg.connect(postgres_url)
    await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    await connection.close()
