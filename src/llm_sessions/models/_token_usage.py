"""Token counts and what they cost.

Counts are exact for OpenAI models (their own tokenizer), labelled estimates for other models, or
reported by the provider, which always wins over a local count. Costs come from genai-prices; a
model without a known price has ``estimated_cost_usd = None`` (unpriced), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationInfo,
    model_validator,
)

from ..exceptions import InvalidInputError
from ..tokens import cost_usd, count_text_async
from ._base import STORED_DATA

__all__ = ["CountMethod", "TokenSummary", "TokenUsage"]


class CountMethod(StrEnum):
    """How a token count was obtained."""

    TOKENIZER = "tokenizer"
    """Counted with the model's own tokenizer: exact."""
    ESTIMATE = "estimate"
    """No public tokenizer for the model; counted with o200k_base as an estimate."""
    REPORTED = "reported"
    """Given by the caller, usually as the provider's API reported it."""


def _usage_field(usage: Any, name: str) -> Any:
    return usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)


def _non_negative(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(field, value, "must be an integer >= 0")
    return value


class TokenUsage(BaseModel):
    """Tokens used by one call (or a sum of calls) and their estimated cost in USD."""

    model_config = ConfigDict(validate_assignment=True)

    prompt_tokens: NonNegativeInt = 0
    completion_tokens: NonNegativeInt = 0
    total_tokens: NonNegativeInt = 0
    model: str = ""
    estimated_cost_usd: float | None = Field(default=None, ge=0)
    count_method: CountMethod = CountMethod.REPORTED

    @model_validator(mode="after")
    def _derive_total_and_cost(self, info: ValidationInfo) -> TokenUsage:
        if info.context is STORED_DATA:  # written by this class: total and cost are derived
            return self
        total = self.prompt_tokens + self.completion_tokens
        if "total_tokens" in self.model_fields_set and self.total_tokens not in (0, total):
            raise InvalidInputError(
                "total_tokens",
                self.total_tokens,
                f"must equal prompt_tokens + completion_tokens = {total}",
            )
        # Checked once: later edits to the parts recompute the total instead of failing. A new
        # set, not a discard: loaded models may share theirs (see ``models._stored_events``).
        object.__setattr__(
            self, "__pydantic_fields_set__", self.model_fields_set - {"total_tokens"}
        )
        # __dict__ writes: assigning here would re-enter this validator.
        self.__dict__["total_tokens"] = total
        self._reprice()
        return self

    def _reprice(self) -> None:
        if self.model:
            price = cost_usd(self.model, self.prompt_tokens, self.completion_tokens)
            if price is not None:
                self.__dict__["estimated_cost_usd"] = price

    @property
    def is_estimate(self) -> bool:
        """True when the counts are estimates (the model has no public tokenizer here)."""
        return self.count_method is CountMethod.ESTIMATE

    @property
    def is_priced(self) -> bool:
        """False when no price is known for the model."""
        return self.estimated_cost_usd is not None

    @classmethod
    async def from_text(
        cls, prompt: str | None, completion: str | None = None, model: str = "gpt-4o-mini"
    ) -> TokenUsage:
        """Count ``prompt`` and ``completion`` with ``model``'s tokenizer and price them.

        Args:
            prompt: The input text.
            completion: The output text.
            model: The model whose tokenizer counts and whose price applies.

        Returns:
            The usage, with its cost (None for an unpriced model).
        """
        prompt_count = await count_text_async(prompt, model)
        completion_count = await count_text_async(completion, model)
        method = CountMethod.TOKENIZER if prompt_count.exact else CountMethod.ESTIMATE
        return cls(
            prompt_tokens=prompt_count.tokens,
            completion_tokens=completion_count.tokens,
            model=model,
            count_method=method,
        )

    @classmethod
    def from_provider(cls, usage: Any, model: str) -> TokenUsage:
        """Usage as a provider reported it: a TokenUsage, a mapping or an object with
        ``prompt_tokens``/``completion_tokens`` (OpenAI) or ``input_tokens``/``output_tokens``
        (Anthropic, OpenAI Responses).

        Args:
            usage: The reported usage.
            model: The model that was called (prices the usage).

        Returns:
            The usage, its ``count_method`` ``reported``.

        Raises:
            InvalidInputError: ``usage`` holds no token counts, or counts that are not whole
                numbers >= 0.
        """
        if isinstance(usage, TokenUsage):
            return usage.model_copy(update={"model": usage.model or model})
        prompt = _usage_field(usage, "prompt_tokens")
        completion = _usage_field(usage, "completion_tokens")
        if prompt is None and completion is None:
            prompt = _usage_field(usage, "input_tokens")
            completion = _usage_field(usage, "output_tokens")
        if prompt is None and completion is None:
            raise InvalidInputError(
                "usage", usage, "has neither prompt/completion nor input/output token counts"
            )
        return cls(
            prompt_tokens=_non_negative("usage.prompt_tokens", prompt or 0),
            completion_tokens=_non_negative("usage.completion_tokens", completion or 0),
            model=model,
            count_method=CountMethod.REPORTED,
        )

    @staticmethod
    async def count_tokens(text: str | None, model: str = "gpt-4o-mini") -> int:
        """Tokens in ``text`` for ``model`` (None or "" is 0).

        Args:
            text: The text to count.
            model: The model whose tokenizer counts.

        Returns:
            The number of tokens.
        """
        return (await count_text_async(text, model)).tokens

    async def update(self, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Add tokens to this usage and re-price it.

        Args:
            prompt_tokens: Input tokens to add.
            completion_tokens: Output tokens to add.
        """
        _non_negative("prompt_tokens", prompt_tokens)
        _non_negative("completion_tokens", completion_tokens)
        self.__dict__["prompt_tokens"] += prompt_tokens
        self.__dict__["completion_tokens"] += completion_tokens
        self.__dict__["total_tokens"] = self.prompt_tokens + self.completion_tokens
        self._reprice()

    async def calculate_cost(self) -> float | None:
        """The USD cost of this usage, or None when the model is unpriced.

        Returns:
            The cost in US dollars, or None.
        """
        self._reprice()
        return self.estimated_cost_usd

    def __add__(self, other: TokenUsage) -> TokenUsage:
        if not isinstance(other, TokenUsage):
            return NotImplemented
        if not other.total_tokens:
            return self.model_copy()
        if not self.total_tokens:
            return other.model_copy()
        costs = (self.estimated_cost_usd, other.estimated_cost_usd)
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            model=self.model if self.model == other.model else "",
            estimated_cost_usd=None if None in costs else sum(c or 0.0 for c in costs),
            count_method=self.count_method
            if self.count_method == other.count_method
            else CountMethod.ESTIMATE,
        )

    def __radd__(self, other: object) -> TokenUsage:
        # sum(usages) starts from 0.
        if other == 0:
            return self.model_copy()
        return NotImplemented

    def _absorb(self, other: TokenUsage) -> None:
        """Add ``other`` into this usage in place (the summaries' hot path)."""
        data, added = self.__dict__, other.__dict__
        data["prompt_tokens"] += added["prompt_tokens"]
        data["completion_tokens"] += added["completion_tokens"]
        data["total_tokens"] += added["total_tokens"]
        cost = added["estimated_cost_usd"]
        if cost is not None and data["estimated_cost_usd"] is not None:
            data["estimated_cost_usd"] += cost
        elif added["total_tokens"]:  # unknown is not zero: tokens without a price stay unpriced
            data["estimated_cost_usd"] = None
        if added["count_method"] is not data["count_method"]:
            data["count_method"] = CountMethod.ESTIMATE


_SUMMED = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated_cost_usd",
    "count_method",
)


class TokenSummary(BaseModel):
    """Token totals over many usages, with a per-model breakdown.

    ``total_estimated_cost_usd`` sums the priced usages only; ``unpriced_models`` names the
    models whose tokens it could not price.
    """

    total_prompt_tokens: int = 0
    total_completion_tokens: int = 0
    total_tokens: int = 0
    usage_by_model: dict[str, TokenUsage] = Field(default_factory=dict)
    total_estimated_cost_usd: float = 0.0
    unpriced_models: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, usages: Iterable[TokenUsage | None]) -> TokenSummary:
        """The summary of ``usages``, None entries skipped.

        Args:
            usages: The usages to add up.

        Returns:
            The totals, by model and in all.
        """
        summary = cls()
        _sum_into(summary.__dict__, usages)
        return summary

    async def add_usage(self, usage: TokenUsage) -> None:
        """Add one usage to the totals.

        Args:
            usage: The usage to add.
        """
        self.add(usage)

    def add(self, usage: TokenUsage) -> None:
        """Add one usage to the totals (synchronous form).

        Args:
            usage: The usage to add.
        """
        data, added = self.__dict__, usage.__dict__
        data["total_prompt_tokens"] += added["prompt_tokens"]
        data["total_completion_tokens"] += added["completion_tokens"]
        data["total_tokens"] += added["total_tokens"]
        if added["estimated_cost_usd"] is not None:
            data["total_estimated_cost_usd"] += added["estimated_cost_usd"]
        elif added["total_tokens"] and added["model"] not in data["unpriced_models"]:
            data["unpriced_models"].append(added["model"])
        existing = data["usage_by_model"].get(added["model"])
        if existing is None:
            data["usage_by_model"][added["model"]] = usage.model_copy()
        else:
            existing._absorb(usage)


def _sum_into(data: dict[str, Any], usages: Iterable[TokenUsage | None]) -> None:
    """Add ``usages`` into a new summary's fields in one pass, with running sums per model:
    what ``TokenSummary.add`` does usage by usage (a load sums every event of a session)."""
    prompt = completion = total = 0
    cost = 0.0
    by_model: dict[str, list[Any]] = {}
    unpriced: list[str] = data["unpriced_models"]
    for usage in usages:
        if usage is None:
            continue
        added = usage.__dict__
        tokens, price, model = (
            added["total_tokens"],
            added["estimated_cost_usd"],
            added["model"],
        )
        prompt += added["prompt_tokens"]
        completion += added["completion_tokens"]
        total += tokens
        if price is not None:
            cost += price
        elif tokens and model not in unpriced:
            unpriced.append(model)
        sums = by_model.get(model)
        if sums is None:
            by_model[model] = [
                usage,
                added["prompt_tokens"],
                added["completion_tokens"],
                tokens,
                price,
                added["count_method"],
            ]
            continue
        sums[1] += added["prompt_tokens"]
        sums[2] += added["completion_tokens"]
        sums[3] += tokens
        if price is not None and sums[4] is not None:
            sums[4] += price
        elif tokens:  # unknown is not zero: tokens without a price stay unpriced
            sums[4] = None
        if added["count_method"] is not sums[5]:
            sums[5] = CountMethod.ESTIMATE
    data.update(
        total_prompt_tokens=prompt,
        total_completion_tokens=completion,
        total_tokens=total,
        total_estimated_cost_usd=cost,
    )
    for model, (first, *sums) in by_model.items():
        copy = first.model_copy()
        copy.__dict__.update(zip(_SUMMED, sums, strict=True))
        data["usage_by_model"][model] = copy
