"""Token usage and cost by model: counted with each model's tokenizer and priced from
genai-prices; a model without a public price is reported as unpriced, never guessed.

    python examples/token_costs.py
"""

# expect: gpt-4o-mini
# expect: claude-3-5-haiku-latest
# expect: unpriced models: my-local-llama
# expect: total (priced only)

from __future__ import annotations

import asyncio
import logging

from _model import MODEL, mode, say

from llm_sessions import SessionManager

logging.basicConfig(format="note: %(message)s")  # the library notes an unpriced model once

QUESTION = "Summarise the plot of Hamlet in two sentences."
SCRIPTED = (
    "Prince Hamlet seeks revenge on his uncle Claudius, who murdered Hamlet's father to take "
    "the throne. His hesitation and feigned madness end in tragedy for nearly everyone."
)


async def main() -> None:
    print(mode())
    sm = SessionManager()
    await sm.user_says(QUESTION)
    answer, usage = await say(await sm.get_messages_for_llm(), SCRIPTED)
    await sm.ai_responds(answer, model=MODEL, provider="openai", usage=usage)
    # The same answer as two other models would have been charged (counted locally):
    await sm.ai_responds(SCRIPTED, model="claude-3-5-haiku-latest", provider="anthropic")
    await sm.ai_responds(SCRIPTED, model="my-local-llama", provider="self-hosted")

    session = await sm.get_session()
    summary = session.token_summary
    print(f"{'model':<26}{'prompt':>8}{'completion':>12}{'cost (USD)':>14}  counted by")
    for model, used in sorted(summary.usage_by_model.items()):
        cost = "unpriced" if used.estimated_cost_usd is None else f"{used.estimated_cost_usd:.6f}"
        print(
            f"{model:<26}{used.prompt_tokens:>8}{used.completion_tokens:>12}  {cost:>12}"
            f"  {used.count_method.value}"
        )
    print(f"total (priced only): ${summary.total_estimated_cost_usd:.6f}")
    print(f"unpriced models: {', '.join(summary.unpriced_models)}")


if __name__ == "__main__":
    asyncio.run(main())
