"""PII redaction: each kind found (checksums verified), offline, and none of it reaches disk."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gateway.ledger import LedgerWriter
from gateway.types import ModelRequest, Usage
from governance.log_redaction import install_log_redaction, uninstall_log_redaction
from governance.pii_rules import (
    cn_resident_id_valid,
    iban_valid,
    luhn_valid,
    possible_entities,
    quick_redact,
    suspect,
)
from governance.redaction import PiiRedactor, RedactingLedger
from testkit.scripted import Reply
from tests.governance.helpers import ALICE, GovRig

PII = {
    "EMAIL_ADDRESS": "li.wei@example.com.cn",
    "PHONE_NUMBER": "+44 20 7946 0958",
    "CN_MOBILE": "13912345678",
    "CN_RESIDENT_ID": "11010519491231002X",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "IBAN_CODE": "GB82 WEST 1234 5698 7654 32",
    "SECRET": "sk-ant-api03-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz",
}


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("write to li.wei@example.com.cn today", "write to <EMAIL_ADDRESS> today"),
        ("call +1 415-555-0132 now", "call <PHONE_NUMBER> now"),
        ("手机 13912345678。", "手机 <PHONE_NUMBER>。"),
        ("mobile +86 139 1234 5678", "mobile <PHONE_NUMBER>"),
        ("身份证 11010519491231002X", "身份证 <CN_RESIDENT_ID>"),
        ("card 4111-1111-1111-1111 exp", "card <CREDIT_CARD> exp"),
        ("IBAN DE89 3704 0044 0532 0130 00.", "IBAN <IBAN_CODE>."),
        ("key sk-ant-api03-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz", "key <SECRET>"),
        ("password: hunter2hunter2", "password: <SECRET>"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "Authorization: Bearer <SECRET>"),
        ("AWS AKIAIOSFODNN7EXAMPLE", "AWS <SECRET>"),
        ("loregate lg_0123abcd_" + "A" * 43, "loregate <SECRET>"),
    ],
)
def test_each_kind_is_replaced_by_its_placeholder(
    redactor: PiiRedactor, sample: str, expected: str
) -> None:
    assert suspect(sample)  # the cheap pre-filter never hides anything a rule would find
    entity = expected.split("<", 1)[1].split(">", 1)[0]
    assert entity in possible_entities(sample)  # nor does its entity type's sign
    assert redactor.redact(sample) == expected


def test_only_the_entity_types_whose_sign_is_there_are_analysed() -> None:
    assert possible_entities("answered by claude-haiku-4-5 in 12 ms") == []
    assert possible_entities("model claude-haiku-4-5-20251001") == ["PHONE_NUMBER"]
    assert possible_entities("mail li@example.com") == ["EMAIL_ADDRESS"]
    found = possible_entities(f"{PII['IBAN_CODE']} {PII['CREDIT_CARD']} {PII['CN_RESIDENT_ID']}")
    assert {"IBAN_CODE", "CREDIT_CARD", "CN_RESIDENT_ID", "PHONE_NUMBER"} <= set(found)


def test_model_ids_in_a_record_are_structure_not_content(redactor: PiiRedactor) -> None:
    body = {"model_id": "claude-haiku-4-5-20251001", "content": [{"text": "call 13912345678"}]}
    assert redactor.redact_json(body) == {
        "model_id": "claude-haiku-4-5-20251001",
        "content": [{"text": "call <PHONE_NUMBER>"}],
    }


@pytest.mark.parametrize(
    "clean",
    [
        "Clause 9.2: either party may terminate with 90 days' notice (2024 revision).",
        "ID 110105194912310021 fails its checksum",  # 18 digits, wrong check character
        "card 4111-1111-1111-1112 fails Luhn",
        "IBAN GB00 WEST 1234 5698 7654 32 fails its checksum",
        "revenue grew 12% to 3,400,000 in Q3",
        "answered by claude-haiku-4-5-20251001 on 2026-06-01",  # ids and dates, not phones
        "see /v1/messages/20251001-4455 for details",
    ],
)
def test_lookalikes_that_fail_their_checksum_are_kept(redactor: PiiRedactor, clean: str) -> None:
    assert redactor.redact(clean) == clean


@pytest.mark.parametrize(
    "iban",
    [
        "NL91ABNA0417164300",
        "FR1420041010050500013M02606",
        "MT84MALT011000012345MTLCAST001S",
        "DE89 3704 0044 0532 0130 00",
        "GB33BUKB20201555555555",
    ],
)
def test_the_prefilter_passes_every_iban_layout(redactor: PiiRedactor, iban: str) -> None:
    assert suspect(iban)
    assert redactor.redact(f"pay to {iban} now") == "pay to <IBAN_CODE> now"


def test_checksums() -> None:
    assert cn_resident_id_valid("11010519491231002X")
    assert cn_resident_id_valid("11010519491231002x")
    assert not cn_resident_id_valid("110105194912310021")
    assert not cn_resident_id_valid("110105194913310024")  # month 13
    assert luhn_valid("4111 1111 1111 1111") and not luhn_valid("4111 1111 1111 1112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB00WEST12345698765432")


def test_quick_redaction_needs_no_presidio() -> None:
    """The regex rules alone (log records before the engine is loaded)."""
    sample = " | ".join(PII.values())
    out = quick_redact(sample)
    for value in PII.values():
        assert value not in out
    assert out.split(" | ") == [
        "<EMAIL_ADDRESS>",
        "<PHONE_NUMBER>",
        "<PHONE_NUMBER>",
        "<CN_RESIDENT_ID>",
        "<CREDIT_CARD>",
        "<IBAN_CODE>",
        "<SECRET>",
    ]
    assert quick_redact("clause 9.2, 90 days, 2024") == "clause 9.2, 90 days, 2024"
    assert PiiRedactor().redact_nowait("mail li.wei@example.com.cn") == "mail <EMAIL_ADDRESS>"


def test_json_structure_is_kept_and_binary_dropped(redactor: PiiRedactor) -> None:
    doc = {
        "role": "user",
        "content": [
            {"type": "text", "text": f"mail {PII['EMAIL_ADDRESS']}"},
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": "image/png",
                    "data": "iVBORw0KGgo" * 100,
                },
            },
        ],
    }
    out = redactor.redact_json(doc)
    assert out["role"] == "user"
    assert out["content"][0] == {"type": "text", "text": "mail <EMAIL_ADDRESS>"}
    assert out["content"][1]["source"]["data"] == "<base64 1100 chars removed>"


def test_the_engine_builds_and_runs_with_the_network_cut_off(tmp_path: Path) -> None:
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from governance.redaction import PiiRedactor\n"
        "print(PiiRedactor().redact('mail li.wei@example.com.cn or +44 20 7946 0958'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "mail <EMAIL_ADDRESS> or <PHONE_NUMBER>"
    assert "download" not in out.stderr.lower()


def _planted_request() -> ModelRequest:
    return ModelRequest(
        model="default",
        system=f"Customer e-mail: {PII['EMAIL_ADDRESS']}. Their card: {PII['CREDIT_CARD']}.",
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": (
                            f"Call me on {PII['PHONE_NUMBER']} or {PII['CN_MOBILE']}. My ID is "
                            f"{PII['CN_RESIDENT_ID']}, IBAN {PII['IBAN_CODE']}, and our key is "
                            f"{PII['SECRET']}."
                        ),
                    }
                ],
            }
        ],
    )


def _rows_text(engine: Engine) -> str:
    with engine.connect() as conn:
        parts = []
        for table in ("governance_audit_log", "gateway_ledger"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


async def _run_planted(engine: Engine, redactor: PiiRedactor, log_file: Path) -> str:
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_redaction(redactor)
    writer = LedgerWriter(engine, max_delay_s=0.01)
    rig = GovRig(engine, redactor=redactor, ledger=RedactingLedger(writer, redactor))
    assert rig.gateway is not None
    try:
        rig.anthropic.push(
            Reply(
                text=f"Noted: {PII['EMAIL_ADDRESS']}, {PII['CN_MOBILE']}.",
                usage=Usage(input_tokens=50, output_tokens=9),
            )
        )
        result = await rig.gateway.invoke(_planted_request(), principal=ALICE)
        log = logging.getLogger("loregate.test")
        log.warning("request from %s with card %s", PII["EMAIL_ADDRESS"], PII["CREDIT_CARD"])
        try:
            raise ValueError(f"bad IBAN {PII['IBAN_CODE']}")
        except ValueError:
            log.exception("while handling %s", PII["CN_RESIDENT_ID"])
        rig.flush()
        writer.flush(timeout=30)
    finally:
        root.removeHandler(handler)
        handler.close()
        uninstall_log_redaction()
        rig.close()
        writer.close()
        await rig.aclose()
    return result.request_id


def _files(folder: Path, *patterns: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for pattern in patterns for p in folder.glob(pattern)}


async def test_planted_pii_never_reaches_the_sqlite_file_or_the_logs(
    sqlite_engine: Engine, redactor: PiiRedactor, tmp_path: Path
) -> None:
    log_file = tmp_path / "loregate.log"
    request_id = await _run_planted(sqlite_engine, redactor, log_file)
    record = _rows_text(sqlite_engine)
    assert request_id in record and "<EMAIL_ADDRESS>" in record and "<SECRET>" in record
    sqlite_engine.dispose()
    blobs = _files(tmp_path, "gov.db*", "loregate.log")
    assert b"<CREDIT_CARD>" in blobs[log_file.name]
    for name, blob in blobs.items():
        for kind, value in PII.items():
            assert value.encode() not in blob, f"{kind} found in {name}"


@pytest.mark.postgres
async def test_planted_pii_never_reaches_postgresql(
    pg_engine: Engine, redactor: PiiRedactor, tmp_path: Path
) -> None:
    await _run_planted(pg_engine, redactor, tmp_path / "loregate.log")
    stored = _rows_text(pg_engine)
    assert "<CN_RESIDENT_ID>" in stored
    for kind, value in PII.items():
        assert value not in stored, f"{kind} found in PostgreSQL"


async def test_redact_upstream_sends_placeholders_to_the_provider(
    sqlite_engine: Engine, redactor: PiiRedactor
) -> None:
    rig = GovRig(sqlite_engine, redactor=redactor, redact_upstream=True)
    assert rig.gateway is not None
    await rig.gateway.invoke(_planted_request(), principal=ALICE)
    [sent] = rig.anthropic.calls
    blob = f"{sent.system} {sent.messages}"
    for value in PII.values():
        assert value not in blob
    assert "<PHONE_NUMBER>" in blob and "<IBAN_CODE>" in blob
    await rig.aclose()
