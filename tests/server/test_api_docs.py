"""``/docs`` serves Swagger UI from the installed package, under the inspector's policy."""

from __future__ import annotations

import re

import httpx
import pytest

from llm_sessions.server.api_docs import ASSETS_PATH, swagger_ui_dist
from llm_sessions.server.inspector.pages import SECURITY_HEADERS


async def test_the_docs_page_loads_nothing_from_another_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert (
        response.headers["content-security-policy"] == (SECURITY_HEADERS["Content-Security-Policy"])
    )
    sources = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert sources and all(source.startswith(f"{ASSETS_PATH}/") for source in sources), sources
    assert "<script>" not in response.text  # no inline script: the policy would refuse it
    assert 'data-openapi-url="/openapi.json"' in response.text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("api-docs.js", "text/javascript"),
    ],
)
async def test_the_docs_assets_come_from_the_installed_packages(
    client: httpx.AsyncClient, name: str, media_type: str
) -> None:
    response = await client.get(f"{ASSETS_PATH}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert len(response.content) > 100


async def test_only_the_docs_files_are_served(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2F__init__.py"):
        assert (await client.get(f"{ASSETS_PATH}/{name}")).status_code == 404, name


async def test_the_cdn_pages_of_fastapi_are_gone(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404


def test_the_bundled_swagger_ui_reads_openapi_3_1() -> None:
    dist = swagger_ui_dist()
    assert dist is not None, "swagger-ui-bundle-v2 is part of the server extra"
    major = int(dist.name.removeprefix("swagger-ui-").split(".")[0])
    assert major >= 5
