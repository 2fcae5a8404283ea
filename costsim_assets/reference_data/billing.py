"""Billing as the execution model applies it: the published rule (tokens x list price) plus the
details V2 does not model. Rates are documented here and in datasets/README.md.

- Cached input (published): OpenAI bills cached prompt tokens at 50 % of the input price for the
  gpt-4o family, on prompts of >= 1,024 tokens, cached in 128-token increments ("Prompt Caching in
  the API", openai.com, 2024-10-01); Anthropic bills cache reads at 10 % of the input price; Google
  context-cache reads at 25 %. WHICH calls hit a cache, and how much of the prompt, is the execution
  model's own seeded draw (CACHE_HIT_PROBABILITY, CACHED_SHARE).
- Framing overhead (published): chat requests bill 3 tokens per message plus 3 to prime the reply
  (OpenAI cookbook, "How to count tokens with tiktoken"); a system + user request adds 9 tokens.
- Minimum billable input (an assumption of this model, not a quoted provider rule): at least
  MIN_BILLABLE_INPUT_TOKENS input tokens per attempt.
- Retries billed again, failed attempts billed for input only (this model's rule): a failed
  attempt bills its input, never output; the retry bills in full if it succeeds.
"""

from __future__ import annotations

import numpy as np

CACHE_MIN_PROMPT_TOKENS = 1024
CACHE_INCREMENT_TOKENS = 128
CACHE_READ_PRICE_FACTOR = {"openai": 0.5, "anthropic": 0.1, "google": 0.25}
CACHE_HIT_PROBABILITY = 0.4
CACHED_SHARE = (0.3, 0.9)
FRAMING_TOKENS = 9
MIN_BILLABLE_INPUT_TOKENS = 64


def cached_tokens(prompt_tokens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cached prefix per call: a drawn share of the prompt in 128-token increments, counted only from
    1,024 tokens up (shorter prefixes are never cached); 0 when the call misses the cache."""
    hit = rng.random(len(prompt_tokens)) < CACHE_HIT_PROBABILITY
    share = rng.uniform(*CACHED_SHARE, len(prompt_tokens))
    prefix = np.floor(prompt_tokens * share / CACHE_INCREMENT_TOKENS) * CACHE_INCREMENT_TOKENS
    return np.where(hit & (prefix >= CACHE_MIN_PROMPT_TOKENS), prefix, 0.0)


def billed_input_tokens(prompt_tokens: np.ndarray) -> np.ndarray:
    """Prompt + framing overhead, at least the minimum billable input."""
    return np.maximum(prompt_tokens + FRAMING_TOKENS, MIN_BILLABLE_INPUT_TOKENS)


def attempt_cost(
    billed_input: np.ndarray,
    cached: np.ndarray,
    output_tokens: np.ndarray,
    succeeded: np.ndarray,
    prices: np.ndarray,
    cache_factor: np.ndarray,
) -> np.ndarray:
    """Cents for one attempt per call: input (cached part discounted), output only on success.

    `prices` is (n, 2) cents per token (input, output) at list price.
    """
    uncached = billed_input - cached
    input_cost = (uncached + cached * cache_factor) * prices[:, 0]
    return input_cost + np.where(succeeded, output_tokens * prices[:, 1], 0.0)
