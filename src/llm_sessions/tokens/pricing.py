"""Prices from genai-prices, looked up once per model.

A model genai-prices does not know is *unpriced*: its cost is ``None``, never a guessed default,
and the first lookup logs one warning naming it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import genai_prices

__all__ = ["UNPRICED_MODEL_LOG_KEY", "ModelPrice", "cost_text", "cost_usd", "price_for_model"]

UNPRICED_MODEL_LOG_KEY = "unpriced_model"
"""The attribute of the log record that says a model has no known price: its value is the
model (a reader that shows unpriced usage itself can leave such records out)."""

logger = logging.getLogger(__name__)

_MTOK = 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """The price of one model: USD per million input and output tokens.

    ``input_per_mtok`` / ``output_per_mtok`` are None when the price is tiered (it depends on
    the prompt's size); ``cost`` then asks genai-prices for each call.
    """

    model: str
    provider: str
    matched_model: str
    input_per_mtok: float | None
    output_per_mtok: float | None
    _source: Any = field(repr=False, compare=False)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD cost of ``prompt_tokens`` input and ``completion_tokens`` output tokens.

        Args:
            prompt_tokens: Input tokens.
            completion_tokens: Output tokens.

        Returns:
            The cost in US dollars.
        """
        if self.input_per_mtok is not None and self.output_per_mtok is not None:
            return (
                prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
            ) / _MTOK
        usage = genai_prices.Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
        return float(self._source.calc_price(usage)["total_price"])


_prices: dict[str, ModelPrice | None] = {}
_lock = threading.Lock()


def _flat_rate(value: object) -> float | None:
    return float(value) if isinstance(value, Decimal | int | float) else None


def _lookup(model: str) -> ModelPrice | None:
    provider_id, _, bare = model.partition("/") if "/" in model else (None, "", model)
    probe = genai_prices.Usage(input_tokens=0, output_tokens=0)
    try:
        found = genai_prices.calc_price(probe, bare, provider_id=provider_id)
    except LookupError:
        return None
    source = found.model_price
    return ModelPrice(
        model=model,
        provider=found.provider.id,
        matched_model=found.model.id,
        input_per_mtok=_flat_rate(source.input_mtok) if source.input_mtok is not None else 0.0,
        output_per_mtok=_flat_rate(source.output_mtok) if source.output_mtok is not None else 0.0,
        _source=source,
    )


def price_for_model(model: str) -> ModelPrice | None:
    """Return the price genai-prices knows for ``model``, or None when it knows none.

    A model without a price is logged once, as a warning.

    Args:
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The model's price, or None: the model is unpriced.
    """
    if model in _prices:
        return _prices[model]
    with _lock:
        if model not in _prices:
            price = _lookup(model) if model else None
            if price is None and model:
                logger.warning(
                    "No price is known for model %r: its usage is reported as unpriced",
                    model,
                    extra={UNPRICED_MODEL_LOG_KEY: model},
                )
            _prices[model] = price
    return _prices[model]


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD cost of a call to ``model``, or None when the model is unpriced.

    Args:
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).
        prompt_tokens: Input tokens.
        completion_tokens: Output tokens.

    Returns:
        The cost in US dollars, or None when no price is known (never a guessed rate).
    """
    price = price_for_model(model)
    return None if price is None else price.cost(prompt_tokens, completion_tokens)


def cost_text(priced_cost: float, unpriced_models: Iterable[str]) -> str:
    """A cost as a table cell shows it: the priced cost, then ``+ unpriced`` when some usage has
    no known price (an unknown price is not zero).

    Args:
        priced_cost: The cost in USD of the usage whose price is known.
        unpriced_models: The models of the usage that has no known price.

    Returns:
        For example ``0.000150`` or ``0.000150 + unpriced``.
    """
    return f"{priced_cost:.6f}" + (" + unpriced" if any(unpriced_models) else "")
