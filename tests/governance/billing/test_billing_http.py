"""Billing through the app and the CLI: allocation tags from the header or the key's default
on the ledger and the invoices, the admin endpoints, the FOCUS export and the commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from gateway.ledger.tables import ledger
from governance.billing.focus_check import problems
from loregate.app import create_app
from loregate.cli.main import app as cli
from loregate.settings import load_settings
from testkit.scripted import ScriptedProvider
from tests.graphs import build_graph

MESSAGE = {"model": "default", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


def test_tags_invoices_focus_and_savings_over_http_and_cli(loregate_env: Path) -> None:
    graph = build_graph(
        load_settings(home=loregate_env, currency="CNY", company_name="Example Co."),
        providers={"anthropic": ScriptedProvider("anthropic")},
    )
    keys = graph.governance_parts.keys
    admin = {"x-api-key": keys.create(user="root", role="admin").key}
    alice = {"x-api-key": keys.create(user="alice", department="sales", project="crm").key}
    bob = {"x-api-key": keys.create(user="bob", department="sales", tag="cc-42").key}
    month = datetime.now(UTC).strftime("%Y-%m")
    with TestClient(create_app(graph=graph)) as c:
        added = c.post(
            "/admin/billing/rates",
            json={
                "currency": "CNY",
                "per_usd": "7.2",
                "effective_from": "2026-01-01",
                "source": "PBOC central parity",
            },
            headers=admin,
        )
        assert added.status_code == 201, added.text
        assert (
            c.post(
                "/v1/messages", json=MESSAGE, headers={**alice, "X-Loregate-Tag": "task-7"}
            ).status_code
            == 200
        )
        assert c.post("/v1/messages", json=MESSAGE, headers=bob).status_code == 200
        assert c.post("/v1/messages", json=MESSAGE, headers=alice).status_code == 200
        bad = c.post("/v1/messages", json=MESSAGE, headers={**alice, "X-Loregate-Tag": "a b"})
        assert bad.status_code == 400 and "X-Loregate-Tag" in bad.json()["error"]["message"]
        assert graph.ledger_writer.flush(timeout=30)
        with graph.engine.connect() as conn:
            tags = conn.execute(select(ledger.c.tag).where(ledger.c.kind == "request")).scalars()
            assert sorted(tags, key=str) == sorted(["task-7", "cc-42", None], key=str)

        r = c.get(
            f"/admin/billing/invoices/department/sales?month={month}&format=csv", headers=admin
        )
        assert r.status_code == 200 and r.headers["x-invoice-status"] == "open"
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {row["tag"] for row in rows if row["line_type"] == "charge"} == {
            "task-7",
            "cc-42",
            "",
        }
        assert rows[-1]["line_type"] == "total" and rows[-1]["currency"] == "CNY"
        assert (
            c.get(
                f"/admin/billing/invoices/department/sales?month={month}", headers=alice
            ).status_code
            == 403
        )
        summary = c.get(f"/admin/billing/invoices?month={month}", headers=admin).json()
        assert summary["currency"] == "CNY" and summary["totals"]["display"].startswith("¥")
        focus = c.get(f"/admin/exports/focus?month={month}&format=jsonl", headers=admin)
        dataset = [json.loads(line) for line in focus.text.splitlines()]
        assert dataset and problems(dataset) == []
        savings = c.get(f"/admin/billing/savings?month={month}", headers=admin).json()
        assert savings["subjects"]["sales"]["requests"] == 3
        converted = c.get(
            "/admin/billing/convert?nano_usd=1000000000&day=2026-06-01", headers=admin
        ).json()
        assert (converted["amount"], converted["display"]) == ("7.20", "¥7.20")
        usage = c.get("/v1/usage", headers=alice).json()["cost_in_currency"]
        assert usage["currency"] == "CNY" and usage["rate"] == "CNY 7.2 (2026-01-01)"
        assert usage["display"].startswith("¥")
        export = c.get("/admin/exports/billing?group_by=department&format=jsonl", headers=admin)
        [sales] = [json.loads(x) for x in export.text.splitlines() if '"sales"' in x]
        assert (sales["currency"], sales["rate"]) == ("CNY", "CNY 7.2 (2026-01-01)")
        assert Decimal(sales["amount"]) == round(Decimal(sales["cost_usd"]) * Decimal("7.2"), 2)
        early = c.post("/admin/billing/close", json={"month": month}, headers=admin)
        assert early.status_code == 400 and "not over" in early.json()["error"]["message"]

    runner = CliRunner()
    listed = runner.invoke(cli, ["invoice", "list", "--month", month, "--json"], obj=graph)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["departments"][0]["subject"] == "sales"
    shown = runner.invoke(
        cli,
        ["invoice", "show", "--month", month, "--department", "sales", "--format", "json"],
        obj=graph,
    )
    assert shown.exit_code == 0 and '"subject": "sales"' in shown.output
    refused = runner.invoke(
        cli,
        ["billing", "rates", "add", "CNY", "7.1", "--from", "2025-12-01", "--source", "x"],
        obj=graph,
    )
    assert refused.exit_code != 0 and "change only forward" in refused.output
