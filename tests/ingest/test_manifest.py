"""The manifest: globs, access lists, defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import InvalidManifest
from ingest.manifest import glob_match, load_manifest, normalise_access, parse_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("contracts/**", "contracts/a/b.pdf", True),
        ("contracts/**", "other/contracts/b.pdf", False),
        ("**/*.md", "a/b/c.md", True),
        ("**/*.md", "c.md", True),
        ("*.txt", "deep/down/notes.txt", True),  # no "/": matches the name anywhere
        ("docs/*.md", "docs/sub/x.md", False),
        ("contracts/*nda*", "contracts/helios-mutual-nda.docx", True),
        ("a?c.md", "abc.md", True),
    ],
)
def test_glob_match(pattern: str, path: str, hit: bool) -> None:
    assert glob_match(pattern, path) is hit


def test_rules_apply_in_order_over_defaults() -> None:
    m = parse_manifest(
        {
            "source": "acme",
            "defaults": {"language": "de", "access": "public"},
            "rules": [
                {
                    "match": "legal/**",
                    "doc_type": "contract",
                    "access": ["group:legal"],
                    "department": "legal",
                    "tags": "contract",
                },
                {
                    "match": "legal/drafts/**",
                    "access": {"users": ["ann"], "departments": ["legal"]},
                },
            ],
        }
    )
    meta = m.resolve("legal/drafts/x.docx")
    assert meta.doc_type == "contract" and meta.department == "legal"
    assert meta.access == ("dept:legal", "user:ann") and meta.access_set
    assert meta.tags == ("contract",) and meta.language == "de"
    other = m.resolve("readme.md")
    assert other.doc_type is None and other.access == ("public",) and other.access_set


def test_silent_manifest_means_public_and_inferred_type() -> None:
    meta = parse_manifest({}).resolve("x/y.md")
    assert meta.access == ("public",) and not meta.access_set and meta.doc_type is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"match": "*", "acces": "public"}]}, "acces"),
        ({"rules": [{"match": "*", "doc_type": "memo"}]}, "doc_type"),
        ({"rules": [{"match": "*", "access": ["legal"]}]}, "bad access token 'legal'"),
        ({"rules": [{"match": "*", "access": []}]}, "nobody could read"),
        ({"rules": [{"match": "*", "encoding": "klingon"}]}, "unknown encoding"),
        ({"rules": [{"doc_type": "doc"}]}, "rules.0.match"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_invalid_manifests_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(InvalidManifest, match=message):
        parse_manifest(data)


def test_manifest_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifest, match="not found"):
        load_manifest(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n")
    with pytest.raises(InvalidManifest, match="not valid YAML"):
        load_manifest(bad)
    demo = load_manifest(ROOT / "demo" / "manifest.yaml")
    assert demo.source == "northwind"
    assert demo.resolve("contracts/acme-msa.md").access == ("dept:legal", "group:legal")
    assert demo.resolve("policies/hr/leave-administration.md").access == ("dept:hr",)
    assert demo.resolve("handbook/employee-handbook.pdf").access == ("public",)
    assert demo.resolve("support/tickets/x.json").doc_type == "ticket"


def test_access_normalisation() -> None:
    assert normalise_access("public") == ("public",)
    assert normalise_access({"groups": ["a"], "public": True}) == ("group:a", "public")
