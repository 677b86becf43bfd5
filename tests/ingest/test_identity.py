"""Every chunk knows its document: a usable title (not a filing's banner), the file name where
it says more, and the companies, parties and periods the document states, in each chunk's
header and heading field; the manifest's title and identity win."""

from __future__ import annotations

from pathlib import Path

from ingest.identity import identity_title, is_boilerplate, stated_facts
from retrieval import schema
from tests.ingest.conftest import MakeIngestor
from tests.ingest.helpers import EVERYONE

FILING = """UNITED STATES SECURITIES AND EXCHANGE COMMISSION

FORM 10-Q

For the quarterly period ended July 1, 2023. Apple Inc. (Exact name of registrant).

Net sales for the three months ended July 1, 2023 were $81.8 billion. The Company expects...
"""


def test_boilerplate_titles_give_way_to_the_file_name_and_stated_facts() -> None:
    assert is_boilerplate("UNITED STATESSECURITIES AND EXCHANGE COMMISSIONWashington, D.C.")
    assert is_boilerplate("Table of Contents") and is_boilerplate("\x00 --")
    assert not is_boilerplate("Master Services Agreement")
    title = identity_title(
        "UNITED STATES SECURITIES AND EXCHANGE COMMISSION", "aapl-20230701.pdf", FILING
    )
    assert title.startswith("aapl 20230701 · Apple Inc")
    assert "three months ended July 1, 2023" in title


def test_contract_parties_and_effective_date_and_what_the_file_name_adds() -> None:
    text = "This Agreement is effective as of March 1, 2026 between Northwind Ltd and Acme Corp."
    assert stated_facts(text) == ["Northwind Ltd", "Acme Corp", "effective March 1, 2026"]
    title = identity_title("Master Services Agreement", "contracts/msa.md", text)
    assert (
        title == "Master Services Agreement · Northwind Ltd · Acme Corp · effective March 1, 2026"
    )
    # a file name with a number or two words of its own is kept; a restatement is not
    assert "Q3 2023" in identity_title("Earnings call", "Q3 2023 Snowflake call.pdf", "")
    assert identity_title("Getting started", "docs/get-started.md", "") == "Getting started"
    assert identity_title("T", "x.md", "", manifest_title="Acme MSA", manifest_facts=["Q1"]) == (
        "Acme MSA · Q1"
    )


def test_each_chunk_carries_the_identity_in_its_text_and_heading(
    make_ingestor: MakeIngestor, tmp_path: Path
) -> None:
    src = tmp_path / "filings"
    src.mkdir()
    (src / "aapl-20230701.md").write_text(FILING)
    (src / "manifest.yaml").write_text(
        'rules:\n  - match: "acme.md"\n    title: Acme Corp MSA\n    identity: [Q4 2025]\n'
    )
    (src / "acme.md").write_text("# Terms\n\nThe Company shall pay within 30 days.\n")
    ing, store = make_ingestor()
    report = ing.ingest_path([src], manifest=src / "manifest.yaml")
    assert not report.failed
    titles = {}
    for doc in ("filings:aapl-20230701.md", "filings:acme.md"):
        for chunk in store.chunks_of_doc(doc, EVERYONE):
            titles[chunk.payload[schema.SOURCE]] = chunk.payload[schema.TITLE]
            assert str(chunk.payload[schema.TEXT]).startswith(str(chunk.payload[schema.TITLE]))
    assert titles["acme.md"] == "Acme Corp MSA · Q4 2025"
    # no heading in the file: its name is the title, and what the text states follows it
    assert titles["aapl-20230701.md"].lower().startswith("aapl 20230701 · apple inc")
