"""The one library patch (ingest/loaders/spacy_offline.py). If an unstructured upgrade moves
what it patches, these tests fail loudly instead of letting ingestion try to download."""

from __future__ import annotations

import importlib

import pytest

from ingest.loaders import spacy_offline


def test_unstructured_still_has_what_we_patch() -> None:
    module = importlib.import_module(spacy_offline.PATCHED_MODULE)
    assert callable(getattr(module, spacy_offline.PATCHED_FUNCTION, None)), (
        "unstructured.nlp.tokenize._load_spacy_model is gone: update spacy_offline.py"
    )
    assert hasattr(module._get_nlp, "cache_clear")
    assert hasattr(module, "_install_spacy_model")  # what we must never reach


def test_patch_partitions_without_the_model_and_never_downloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import spacy

    module = importlib.import_module(spacy_offline.PATCHED_MODULE)

    def no_download() -> None:
        raise AssertionError("unstructured tried to download en_core_web_sm")

    real_load = spacy.load

    def missing_model(name: str, *args: object, **kwargs: object) -> object:
        if name == spacy_offline.MODEL_NAME:
            raise OSError("[E050] Can't find model 'en_core_web_sm'")
        return real_load(name, *args, **kwargs)

    monkeypatch.setattr(module, "_install_spacy_model", no_download)
    monkeypatch.setattr(spacy, "load", missing_model)
    spacy_offline.apply()
    module._get_nlp.cache_clear()
    module._process_cached.cache_clear()
    assert spacy_offline.is_applied()
    sentences = module.sent_tokenize("The dock is broken. Please send a new one!")
    assert sentences == ["The dock is broken.", "Please send a new one!"]

    from unstructured.partition.text import partition_text

    elements = partition_text(text="Refunds are paid within ten days.\n\nReturns go to Reno.")
    assert [e.text for e in elements] == [
        "Refunds are paid within ten days.",
        "Returns go to Reno.",
    ]
    module._get_nlp.cache_clear()


def test_apply_is_idempotent() -> None:
    spacy_offline.apply()
    spacy_offline.apply()
    assert spacy_offline.is_applied()
