"""Make every library of the stack behave on a machine with no internet.

Called once at start-up by the CLI and the app factory (and by the test suite), before any
library that reads these variables is imported. Values the user already set are kept.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # sentence-transformers/transformers: never call the hub
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",  # unstructured telemetry
    "SCARF_NO_ANALYTICS": "true",
    "RAGAS_DO_NOT_TRACK": "true",  # ragas telemetry
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def tiktoken_cache_dir() -> Path | None:
    """The tiktoken encodings that llama-index-core ships (cl100k_base, o200k_base)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None


def configure_offline() -> dict[str, str]:
    """Set the offline variables that are not set yet; return what was set."""
    applied: dict[str, str] = {}
    wanted = dict(OFFLINE_ENV)
    cache = tiktoken_cache_dir()
    if cache is not None:
        wanted["TIKTOKEN_CACHE_DIR"] = str(cache)
    for key, value in wanted.items():
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied
