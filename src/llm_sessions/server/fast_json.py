"""JSON responses written by pydantic in one pass.

A route that returns a model has FastAPI validate it again against its ``response_model`` and
encode it through ``jsonable_encoder``; a route on the hot path returns ``model_response(...)``
instead: the model's own ``model_dump_json`` (its schema is still the route's
``response_model`` in the OpenAPI document).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from starlette.responses import Response

__all__ = ["model_response"]

_Other = TypeVar("_Other", bound=Response)


def model_response(result: BaseModel | bytes | _Other) -> Response:
    """``result`` as a JSON response: a model serialised once; JSON bytes or a response as
    they are.

    Args:
        result: The route's model, its JSON, or a response it already made (a replayed one,
            say).

    Returns:
        The response.
    """
    if isinstance(result, Response):
        return result
    if isinstance(result, bytes):
        return Response(result, media_type="application/json")
    return Response(result.model_dump_json(), media_type="application/json")
