"""Schemathesis against the live OpenAPI schema of a server process: no server errors and no
responses outside the schema. Bounded: a fixed number of examples per operation
(``LLM_SESSIONS_FUZZ_EXAMPLES``, default 50), then a stateful phase that chains operations
through the links schemathesis infers (a created session's id fed to the routes that take one;
``LLM_SESSIONS_FUZZ_SCENARIOS`` scenarios, default 25).

The checks are those about what the server answers. "Schema-valid data must be accepted" is left
out on purpose: the library refuses values a JSON Schema cannot describe (lone surrogates, ids
that could name a path, nesting too deep), and answers them with a documented 422.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from server_helpers import KEY_A, KEYS, server_process

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("LLM_SESSIONS_FUZZ_EXAMPLES", "50"))
SCENARIOS = int(os.environ.get("LLM_SESSIONS_FUZZ_SCENARIOS", "25"))
HEADERS = {"Authorization": f"Bearer {KEY_A}"}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def fuzz_schema(live_server: str) -> OpenApiSchema:
    # The live tail streams until the client leaves, so it is not a request/response operation.
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json")
    return schema.exclude(path_regex=r"/events/stream$")


def test_no_server_errors_and_no_schema_violations(fuzz_schema: OpenApiSchema) -> None:
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=HEADERS, checks=CHECKS, timeout=30)

        fuzz()


def test_the_fuzzed_schema_covers_both_apis(fuzz_schema: OpenApiSchema) -> None:
    paths = {result.ok().path for result in fuzz_schema.get_all_operations()}
    assert "/v1/conversations/{conversation_id}/items" in paths
    assert "/v1/sessions/{session_id}/events" in paths
    assert "/v1/sessions/{session_id}/events/stream" not in paths


def test_stateful_sequences_of_operations(fuzz_schema: OpenApiSchema) -> None:
    machine = fuzz_schema.as_state_machine()

    class Sequences(machine):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, case: Case) -> dict[str, object]:
            return {"headers": HEADERS, "timeout": 30}

        def validate_response(self, response: Response, case: Case, **kwargs: object) -> None:
            case.validate_response(response, checks=CHECKS)

    assert machine.bundles, "no links between operations: the stateful phase would test nothing"
    Sequences.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
