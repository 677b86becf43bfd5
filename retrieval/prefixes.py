"""The answer prompt's prefix per (template version, first model): built once, reused.

A padded prefix (see ``retrieval.cache_plan``) is measured once with the gateway's
``count_tokens`` (the provider's own tokenizer) and grown until it reaches the model's
minimum cacheable length, because local token counts are only an estimate. Building a prefix
may read the prompt registry (the padding examples), so a miss is built off the event loop.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace

from gateway.types import ModelRequest
from governance.prompt_types import PromptSource, PromptVersion
from kernel.errors import ApiError, NotFound
from retrieval.answer_ports import AnswerConfig
from retrieval.cache_plan import CachePlan, plan_cache
from retrieval.prompt_layout import (
    EXAMPLES_ID,
    Prefix,
    build_prefix,
    packaged_prompt,
    system_blocks,
)
from retrieval.route_facts import RouteFacts
from retrieval.tokens import count_tokens

CountTokens = Callable[[ModelRequest, str | None], Awaitable[int]]


class PrefixBook:
    def __init__(self, prompts: PromptSource, config: AnswerConfig, count: CountTokens) -> None:
        self.prompts = prompts
        self.config = config
        self.count = count
        self._prefixes: dict[tuple[str, str], Prefix] = {}
        self._measured: set[tuple[str, str]] = set()

    async def ensure(self, template: PromptVersion, info: RouteFacts) -> Prefix:
        """The prefix of ``template`` for the route's first model (a padded one measured once)."""
        key = (template.ref, info.first_model)
        found = self._prefixes.get(key)
        if found is not None and (key in self._measured or not found.plan.pad_to_tokens):
            return found
        prefix = found
        if prefix is None:
            prefix = await asyncio.to_thread(self._build, template.text, template.ref, info)
        econ = info.economics
        if prefix.plan.pad_to_tokens and econ is not None:
            prefix = await self._measure(prefix, template, info, econ.min_cacheable_tokens)
        self._prefixes[key] = prefix
        self._measured.add(key)
        return prefix

    async def _measure(
        self, prefix: Prefix, template: PromptVersion, info: RouteFacts, minimum: int
    ) -> Prefix:
        for _ in range(4):
            probe = ModelRequest(
                model=info.name,
                system=system_blocks(prefix, self.config.cache_ttl),
                messages=[{"role": "user", "content": "?"}],
                max_tokens=1,
            )
            try:
                measured = await self.count(probe, info.name)
            except ApiError:  # keep the local estimate; later asks do not retry
                break
            deficit = minimum + 8 - measured
            if deficit <= 0:
                break
            plan = replace(prefix.plan, pad_to_tokens=prefix.tokens + math.ceil(deficit * 1.2))
            prefix = await asyncio.to_thread(self._build, template.text, template.ref, info, plan)
        return prefix

    def _build(
        self, text: str, ref: str, info: RouteFacts, plan: CachePlan | None = None
    ) -> Prefix:
        if plan is None:
            natural = count_tokens(text) + count_tokens(self.config.standing_knowledge)
            plan = plan_cache(
                natural,
                info.economics,
                requests_per_window=self.config.requests_per_window,
                policy=self.config.padding,
            )
        return build_prefix(
            text,
            ref,
            plan,
            standing_knowledge=self.config.standing_knowledge,
            examples=self._examples() if plan.pad_to_tokens else "",
        )

    def _examples(self) -> str:
        try:
            return self.prompts.active(EXAMPLES_ID).text
        except NotFound:
            return packaged_prompt("answer_examples.md")
