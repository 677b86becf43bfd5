"""The JSONL dataset format and the Claude-docs loader: good files load, bad lines are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.claude_docs import COLLECTION, load_claude_docs
from evals.dataset import (
    DEFAULT_PRINCIPAL,
    DatasetError,
    EvalItem,
    dump_jsonl,
    load_jsonl,
)
from evals.dataset_loader import load_dataset
from kernel.principal import Role

ROOT = Path(__file__).resolve().parents[2]

GOOD = [
    {
        "id": "a",
        "question": "How long is the notice period?",
        "reference": "90 days",
        "reference_doc_ids": ["northwind:contracts/acme-msa.md"],
        "tags": ["legal"],
        "principal": {"user_id": "lena", "department": "legal", "groups": ["legal"]},
        "filters": {"doc_types": ["contract"]},
    },
    {
        "question": "What is the PTO carryover?",
        "reference_chunk_ids": ["c1", "c2"],
        "forbidden_doc_ids": ["x"],
    },
]


def write(tmp_path: Path, lines: list[str], name: str = "suite.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_loads_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, ["# a comment", "", *(json.dumps(o) for o in GOOD), "// another"])
    ds = load_jsonl(path)
    assert ds.name == "suite" and len(ds.items) == 2
    a, b = ds.items
    assert a.id == "a" and a.reference == "90 days"
    assert a.gold_ids == ("northwind:contracts/acme-msa.md",)
    p = a.principal.to_principal()
    assert (p.user_id, p.department, p.groups, p.role) == (
        "lena",
        "legal",
        ("legal",),
        Role.EMPLOYEE,
    )
    assert "dept:legal" in p.access_tokens() and "group:legal" in p.access_tokens()
    assert a.filters is not None and a.filters.doc_types == ["contract"]
    # defaults: id from the line number, the public-only evaluator, chunk ids as gold
    assert b.id == "line-4" and b.principal == DEFAULT_PRINCIPAL
    assert b.gold_ids == ("c1", "c2") and b.forbidden_doc_ids == ("x",)
    assert len(ds.sha256) == 64


def test_round_trip_and_hash_follows_content(tmp_path: Path) -> None:
    ds = load_jsonl(write(tmp_path, [json.dumps(o) for o in GOOD]))
    again = load_jsonl(write(tmp_path, dump_jsonl(ds.items).splitlines(), "again.jsonl"))
    assert [i.model_dump() for i in again.items] == [i.model_dump() for i in ds.items]
    assert again.sha256 == ds.sha256
    changed = [dict(GOOD[0], reference="91 days"), GOOD[1]]
    assert load_jsonl(write(tmp_path, [json.dumps(o) for o in changed], "c.jsonl")).sha256 != (
        ds.sha256
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"question": "x", ', "suite.jsonl:2: not valid JSON"),
        ('["a list"]', "suite.jsonl:2: expected a JSON object, got list"),
        ('{"reference": "r"}', "suite.jsonl:2: field 'question': Field required"),
        ('{"question": "   "}', "suite.jsonl:2: field 'question': Value error, must not be blank"),
        ('{"question": "q", "refrence": "typo"}', "suite.jsonl:2: field 'refrence': unknown field"),
        ('{"question": "q", "tags": "legal"}', "suite.jsonl:2: field 'tags'"),
        (
            '{"question": "q", "principal": {"department": "hr"}}',
            "suite.jsonl:2: field 'principal.user_id': Field required",
        ),
        (
            '{"question": "q", "filters": {"doc_type": ["x"]}}',
            "suite.jsonl:2: field 'filters.doc_type': unknown field",
        ),
        (
            '{"id": "a", "question": "dup"}',
            "suite.jsonl:2: field 'id': duplicate id 'a' (first on line 1)",
        ),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, ['{"id": "a", "question": "fine"}', line])
    with pytest.raises(DatasetError) as err:
        load_jsonl(path)
    assert err.value.message.startswith(expected), err.value.message
    assert err.value.code == "invalid_dataset" and err.value.status == 400


def test_empty_missing_binary_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no questions in the file"):
        load_jsonl(write(tmp_path, ["# only a comment"]))
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"question": "\xff\xfe"}\n')
    with pytest.raises(DatasetError, match="not UTF-8 text"):
        load_jsonl(binary)
    csv = tmp_path / "suite.csv"
    csv.write_text("question\nx\n")
    with pytest.raises(DatasetError, match=r"expected a \.jsonl file or a dataset folder"):
        load_dataset(csv)
    with pytest.raises(DatasetError, match=r"exactly one \.jsonl file"):
        load_dataset(tmp_path)  # a folder with two .jsonl files and no known layout


def test_limited_keeps_the_dataset_identity(tmp_path: Path) -> None:
    ds = load_jsonl(write(tmp_path, [json.dumps(o) for o in GOOD]))
    one = ds.limited(1)
    assert [i.id for i in one.items] == ["a"] and one.sha256 == ds.sha256
    assert ds.limited(None) is ds and ds.limited(10) is ds


def test_demo_suite_is_valid_and_covers_access() -> None:
    ds = load_dataset(ROOT / "evals" / "suites" / "demo.jsonl")
    assert len(ds.items) >= 15
    users = {i.principal.user_id for i in ds.items}
    assert {"lena", "hana", "sam", "eli", "evaluator"} <= users
    hr_legal = [i for i in ds.items if i.principal.department == "hr" and "legal-only" in i.tags]
    assert hr_legal and all(
        any(d.startswith("northwind:contracts/") for d in i.forbidden_doc_ids) for i in hr_legal
    )
    assert all(i.reference_contexts for i in ds.items if i.reference)


def test_claude_docs_folder_maps_gold_chunks_to_documents(shared_data: Path) -> None:
    folder = shared_data / "anthropic_docs_rag"
    ds = load_dataset(folder)  # the folder layout is recognised
    assert ds.name == "claude_docs" and len(ds.items) == 100
    corpus = ds.corpus
    assert corpus is not None and corpus.collection == COLLECTION and len(corpus.docs) == 232
    ids = {d.doc_id for d in corpus.docs}
    item = ds.items[0]
    assert item.id == "efc09699"
    assert item.reference_doc_ids == (
        "https://docs.claude.com/en/docs/test-and-evaluate/eval-tool#creating-test-cases",
        "https://docs.claude.com/en/docs/build-with-claude/develop-tests#building-evals-and-test-cases",
    )
    assert all(set(i.reference_doc_ids) <= ids for i in ds.items)
    doc = corpus.doc(item.reference_doc_ids[0])
    assert doc is not None and item.reference_contexts[0] == doc.text
    assert doc.access == ("public",) and doc.title.startswith("Eval tool: ")
    assert str(folder.resolve()) == ds.path  # read in place, never copied


def _mini_claude(tmp_path: Path, corpus: object, questions: object) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir(parents=True)
    (folder / "anthropic_docs.json").write_text(json.dumps(corpus))
    (folder / "docs_evaluation_dataset.json").write_text(json.dumps(questions))
    return folder


def test_claude_docs_layout_errors(tmp_path: Path) -> None:
    chunk = {"chunk_link": "https://x/a#b", "chunk_heading": "B", "text": "text"}
    q = {"id": "q1", "question": "?", "correct_chunks": ["https://x/a#b"], "correct_answer": "a"}
    ds = load_claude_docs(_mini_claude(tmp_path, [chunk], [q]))
    assert ds.items[0].reference_doc_ids == ("https://x/a#b",)
    bad = dict(q, correct_chunks=["https://x/missing"])
    with pytest.raises(
        DatasetError,
        match=r"docs_evaluation_dataset.json\[0\]: field "
        r"'correct_chunks': not in the corpus",
    ):
        load_claude_docs(_mini_claude(tmp_path / "2", [chunk], [bad]))
    with pytest.raises(DatasetError, match=r"anthropic_docs.json\[0\]: field 'text'"):
        load_claude_docs(_mini_claude(tmp_path / "3", [dict(chunk, text="")], [q]))
    with pytest.raises(DatasetError, match=r"field 'chunk_link': duplicate"):
        load_claude_docs(_mini_claude(tmp_path / "4", [chunk, chunk], [q]))


def test_item_model_is_frozen() -> None:
    item = EvalItem(id="x", question="q")
    with pytest.raises(ValueError):
        item.question = "other"  # type: ignore[misc]
