"""The API's interactive docs at ``/docs``: Swagger UI served from the installed package.

FastAPI's own docs page loads Swagger UI from a CDN, so it is blank without the internet and
needs a policy that lets in another origin's script. This page takes Swagger UI from the
``swagger-ui-bundle-v2`` package (part of the ``server`` extra), starts it from a file of ours
(``static/api-docs.js``) and carries the inspector's ``SECURITY_HEADERS``: nothing is loaded
from another origin and no inline script runs.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from .inspector.pages import SECURITY_HEADERS

__all__ = ["ASSETS_PATH", "DOCS_PATH", "router", "swagger_ui_dist"]

router = APIRouter(include_in_schema=False)

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
_SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_OWN_FILES = {"api-docs.js": "text/javascript"}
_DIST_NAME = re.compile(r"swagger-ui-(\d+)\.(\d+)\.(\d+)")
_MINIMUM_MAJOR = 5  # the first Swagger UI that reads OpenAPI 3.1, which FastAPI writes
_ASSET_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llm-sessions API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/api-docs.js"></script>
</body>
</html>
"""

_MISSING = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>llm-sessions API</title></head>
<body><p>The API docs need Swagger UI 5 from the swagger-ui-bundle-v2 package:
<code>pip install "llm-sessions[server]"</code>. The API's description is at
<a href="{openapi}">{openapi}</a>.</p></body></html>
"""


@cache
def swagger_ui_dist() -> Traversable | None:
    """The newest Swagger UI distribution (5 or later) in the installed ``swagger_ui_bundle``
    package, or None without one.

    Its folder is looked up rather than taken from the package's ``swagger_ui_path``: the older
    ``swagger-ui-bundle`` package installs under the same name, with Swagger UI 4.

    Returns:
        The folder holding ``swagger-ui-bundle.js``, or None.
    """
    try:
        vendor = resources.files("swagger_ui_bundle").joinpath("vendor")
    except ModuleNotFoundError:
        return None
    if not vendor.is_dir():
        return None
    found = []
    for entry in vendor.iterdir():
        match = _DIST_NAME.fullmatch(entry.name)
        if match is not None and int(match.group(1)) >= _MINIMUM_MAJOR:
            found.append((tuple(int(part) for part in match.groups()), entry))
    return max(found, key=lambda pair: pair[0])[1] if found else None


@router.get(DOCS_PATH, response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI over the app's OpenAPI document (503 naming the package when it is missing)."""
    openapi = html.escape(request.app.openapi_url or "/openapi.json")
    if swagger_ui_dist() is None:
        return HTMLResponse(_MISSING.format(openapi=openapi), 503, headers=SECURITY_HEADERS)
    page = _PAGE.format(assets=ASSETS_PATH, openapi=openapi)
    return HTMLResponse(page, headers=SECURITY_HEADERS)


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> Response:
    """One of Swagger UI's files, or the script that starts it; 404 for any other name."""
    media_type = _OWN_FILES.get(name) or _SWAGGER_FILES.get(name)
    content = _asset_bytes(name) if media_type is not None else None
    if content is None:
        return Response("not found", status_code=404, headers=SECURITY_HEADERS)
    return Response(content, media_type=media_type, headers=_ASSET_HEADERS)


@cache
def _asset_bytes(name: str) -> bytes | None:
    """A file ``asset`` serves, read once (the bundle is over a megabyte)."""
    if name in _OWN_FILES:
        return resources.files(__package__).joinpath("static", name).read_bytes()
    dist = swagger_ui_dist()
    return dist.joinpath(name).read_bytes() if dist is not None else None
