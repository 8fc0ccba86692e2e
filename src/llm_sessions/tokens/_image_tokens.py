"""Image input tokens by OpenAI's published rules, per model and ``detail``.

The rule (OpenAI platform docs, "Images and vision" > "Calculating costs"; the split between
models is also discussed in openai/openai-python issue 2851): ``detail="low"`` costs the model's
base tokens; ``"high"`` (and ``"auto"``, which we count as high, the upper bound) first scales the
image to fit in 2048x2048, then so that its shorter side is 768 px, and costs the base tokens plus
the tile tokens for every 512 px tile the result covers. GPT-4o, GPT-4.1, GPT-4.5 and the
o-series: base 85, tile 170 (a 1024x1024 image at high detail: 85 + 4 x 170 = 765).
GPT-4o mini bills more tokens per image at a lower price per token: base 2833, tile 5667.
Models OpenAI prices by 32 px patches instead (GPT-4.1 mini and nano, o4-mini, GPT-5 mini and
nano) are not told apart here: they get the default figures, an estimate.
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = ["ATTACHMENT_FACTS", "ImageDetail", "image_tokens"]

ATTACHMENT_FACTS = "_attachment"
"""The key under which a rendered content part carries its attachment's stored facts (media
type, size, width, height, detail) until the bytes are put in."""

_MAX_SIDE = 2048
_SHORT_SIDE = 768
_TILE = 512
# (base tokens, tokens per tile); the longest matching model-name prefix wins.
_RATES: dict[str, tuple[int, int]] = {
    "gpt-4o-mini": (2833, 5667),
    "gpt-4o": (85, 170),
    "gpt-4.1": (85, 170),
    "gpt-4.5": (85, 170),
    "gpt-4-turbo": (85, 170),
    "o1": (75, 150),
    "o3": (75, 150),
}
_DEFAULT_RATE = (85, 170)
# An image given by URL is not fetched, so its size is unknown: counted as 1024x1024.
UNKNOWN_SIDE = 1024


class ImageDetail(StrEnum):
    """How closely the model looks at an image (OpenAI's ``detail``)."""

    AUTO = "auto"
    LOW = "low"
    HIGH = "high"


def _rate(model: str) -> tuple[int, int]:
    name = model.rsplit("/", 1)[-1].lower()
    matches = [prefix for prefix in _RATES if name.startswith(prefix)]
    return _RATES[max(matches, key=len)] if matches else _DEFAULT_RATE


def _tiles(width: int, height: int) -> int:
    scale = min(1.0, _MAX_SIDE / max(width, height))
    width_f, height_f = width * scale, height * scale
    scale = min(1.0, _SHORT_SIDE / min(width_f, height_f))
    width_f, height_f = width_f * scale, height_f * scale
    return math.ceil(width_f / _TILE) * math.ceil(height_f / _TILE)


def image_tokens(
    model: str, width: int | None, height: int | None, detail: ImageDetail | str = "auto"
) -> int:
    """The input tokens one image costs ``model``.

    Args:
        model: The model name (``gpt-4o``, ``openai/gpt-4o-mini``, ...).
        width: The image's width in pixels (None: unknown, counted as 1024).
        height: The image's height in pixels (None: unknown, counted as 1024).
        detail: ``"low"``, ``"high"`` or ``"auto"`` (counted as high).

    Returns:
        The number of tokens.
    """
    base, per_tile = _rate(model)
    if ImageDetail(detail) is ImageDetail.LOW:
        return base
    tiles = _tiles(max(1, width or UNKNOWN_SIDE), max(1, height or UNKNOWN_SIDE))
    return base + per_tile * tiles
