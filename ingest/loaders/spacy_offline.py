"""The one patch of a library's internals in loregate: unstructured's spaCy model loader.

unstructured (0.27) calls ``unstructured.nlp.tokenize._load_spacy_model`` on first use; when
``en_core_web_sm`` is missing it DOWNLOADS the model wheel from GitHub at run time (a
RuntimeError offline). There is no official copy on the package registry, and we do not use
third-party re-uploads. So, when the model is not installed, we give unstructured a blank
English pipeline with a rule-based sentencizer: every format partitions, sentences split, and
no network is touched. The one loss: without a POS tagger unstructured cannot find verbs, so
paragraphs come out as ``Text`` instead of ``NarrativeText``; loregate's chunkers treat both
alike. When ``en_core_web_sm`` IS installed, it is used as before.

``tests/ingest/test_spacy_offline.py`` fails loudly if an unstructured upgrade moves or renames
what this patches.
"""

from __future__ import annotations

import threading
from typing import Any

PATCHED_MODULE = "unstructured.nlp.tokenize"
PATCHED_FUNCTION = "_load_spacy_model"
MODEL_NAME = "en_core_web_sm"

_lock = threading.Lock()
_applied = False


class PatchError(RuntimeError):
    """unstructured changed: the offline spaCy patch no longer fits (see this module)."""


def offline_spacy_model() -> Any:
    """The installed ``en_core_web_sm`` if there is one, else a blank English pipeline with a
    sentencizer. Never downloads."""
    import spacy

    try:
        return spacy.load(MODEL_NAME, exclude=["ner", "lemmatizer", "attribute_ruler"])
    except OSError:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp


def apply() -> None:
    """Install the patch (idempotent, thread-safe). Raises ``PatchError`` if it cannot."""
    global _applied
    if _applied:
        return
    with _lock:
        if _applied:
            return
        import importlib

        module = importlib.import_module(PATCHED_MODULE)
        for name in (PATCHED_FUNCTION, "_get_nlp"):
            if not hasattr(module, name):
                raise PatchError(
                    f"{PATCHED_MODULE}.{name} is gone: unstructured changed how it loads spaCy; "
                    "update ingest/loaders/spacy_offline.py"
                )
        get_nlp = module._get_nlp
        if not hasattr(get_nlp, "cache_clear"):
            raise PatchError(f"{PATCHED_MODULE}._get_nlp is no longer an lru_cache")
        setattr(module, PATCHED_FUNCTION, offline_spacy_model)
        get_nlp.cache_clear()
        _applied = True


def is_applied() -> bool:
    import importlib

    module = importlib.import_module(PATCHED_MODULE)
    return getattr(module, PATCHED_FUNCTION, None) is offline_spacy_model
