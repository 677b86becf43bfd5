"""Canonical JSON and content hashes, with the values loregate has stored pinned: the audit
chain, document hashes, review keys, prompt and routing versions must never change."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gateway.config import load_config
from governance.audit import chain_hash
from governance.keys import hash_key
from governance.tables import GENESIS_HASH
from ingest.documents import Element, ParsedDocument
from kernel.digest import canonical_json, content_version, digest, sha256_hex
from retrieval.answer_types import AskFilters
from retrieval.reviewed import answer_key

PAYLOAD = {"user": "lena", "q": "Délai de préavis ?", "n": [1, 2.5, None], "ok": True}


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_unicode() -> None:
    assert (
        canonical_json(PAYLOAD)
        == '{"n":[1,2.5,null],"ok":true,"q":"Délai de préavis ?","user":"lena"}'
    )
    assert canonical_json({"b": 1, "a": 2}) == canonical_json({"a": 2, "b": 1})
    assert canonical_json({"t": "é"}, ascii_only=True) == '{"t":"\\u00e9"}'
    assert canonical_json({"b": [1], "a": 2}, compact=False) == '{"a": 2, "b": [1]}'


def test_what_json_cannot_hold_needs_a_default() -> None:
    assert canonical_json({"p": Path("/x")}, default=str) == '{"p":"/x"}'
    with pytest.raises(TypeError, match="PosixPath"):
        canonical_json({"p": Path("/x")})


def test_hashes_of_text_and_bytes_agree() -> None:
    assert sha256_hex("é") == sha256_hex("é".encode())
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digest(PAYLOAD) == sha256_hex(canonical_json(PAYLOAD))
    assert content_version("abc") == content_version(b"abc") == sha256_hex("abc")[:12]


def test_the_audit_chain_hashes_are_pinned() -> None:
    content = sha256_hex(canonical_json(PAYLOAD))
    assert content == "c1e05d6815c6f520e6c6f53854c8e4ff6fa36a60d3ea89bdfcb93be0dac93312"
    record = chain_hash(GENESIS_HASH, content)
    assert record == "d45e2b1c2b5a8e3dbf3cbff2909f12b942d3b180cf529ed99e399681e934cf09"


def test_document_hashes_are_pinned() -> None:
    # The registry stores these: a changed form would re-ingest every document.
    doc = ParsedDocument(
        doc_id="d1",
        title="Kündigung – Frist",
        text="Notice: 30 days.",
        elements=(Element("title", "Frist", level=1),),
        access=("group:legal", "public"),
        tags=("hr",),
        metadata={"b": 2, "a": "ü"},
    )
    assert doc.content_hash() == "f4aba23bebfdf7c7139b400ffc3cc739e63e173ac1f9fed465f7317a6972b592"
    assert doc.meta_hash() == "beb33b147bc6246c4493ddc898b8553adaf73717a3662ba44d9267c3239e6ac5"


def test_review_keys_and_api_key_hashes_are_pinned() -> None:
    key = answer_key(
        "Qué plazo?", AskFilters(doc_types=["contract"]), ["public", "dept:legal"], "a1b2c3d4e5f6"
    )
    assert key == "8790573b90a6d3fd03c52e218c8c7d5e6405d793b73fa0ff67654276f87f2436"
    assert hash_key("lg_0123abcd_secret") == sha256_hex("lg_0123abcd_secret")


def test_prompt_versions_are_pinned() -> None:
    assert content_version(b"Answer in one sentence, citing [n].\n") == "5ab8eb221c18"


def test_the_routing_version_is_made_as_it_always_was(tmp_path: Path) -> None:
    # The whole configuration (built-in defaults included) goes into it, so the value itself
    # moves with the defaults: what is pinned is its form, non-ASCII text escaped.
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[routes.cheap]\ndescription = "nur Haiku – günstig"\n'
        '[[routes.cheap.tiers]]\nmodel = "claude-haiku-4-5"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    dump = config.model_dump(mode="json")
    blob = json.dumps(dump, sort_keys=True, separators=(",", ":"), default=str)
    assert config.routing_version == hashlib.sha256(blob.encode()).hexdigest()[:12]
    assert config.routing_version != content_version(canonical_json(dump, default=str))
