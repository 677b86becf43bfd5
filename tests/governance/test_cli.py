"""`loregate keys/budgets/limits/prompts/audit/export` as an operator runs them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.types import ModelRequest
from kernel.principal import Principal
from loregate.cli.main import app
from loregate.graph import Loregate
from loregate.settings import get_settings, load_settings
from testkit.scripted import Reply, ScriptedProvider
from tests.graphs import build_graph

runner = CliRunner()


@pytest.fixture
def cli(loregate_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield loregate_env
    get_settings.cache_clear()


def get_settings_graph() -> Loregate:
    return build_graph(get_settings())


def _run(*args: str, graph: Loregate | None = None) -> tuple[int, str, str]:
    """The command on ``graph``, else on one the CLI builds from the environment."""
    result = runner.invoke(app, list(args), obj=graph)
    return result.exit_code, result.stdout, result.stderr


def test_keys_bootstrap_create_list_revoke(cli: Path) -> None:
    code, out, err = _run("keys", "bootstrap")
    assert code == 0 and out.strip().startswith("lg_") and "Store it now" in err
    admin_key = out.strip()
    code, _, err = _run("keys", "bootstrap")
    assert code == 1 and "admin key(s) exist already" in err
    code, out, _ = _run(
        "keys",
        "create",
        "--user",
        "alice",
        "--department",
        "sales",
        "--project",
        "crm",
        "--role",
        "employee",
        "--groups",
        "legal,eu",
    )
    assert code == 0
    alice_key = out.strip()
    code, out, _ = _run("keys", "list", "--json")
    listed = json.loads(out)
    assert [(k["user"], k["groups"]) for k in listed] == [("admin", []), ("alice", ["legal", "eu"])]
    assert admin_key not in out and alice_key not in out
    code, _, err = _run("keys", "create", "--user", "bob", "--role", "boss")
    assert code == 1 and "unknown role 'boss'" in err and "Traceback" not in err
    code, out, _ = _run("keys", "revoke", listed[1]["id"])
    assert code == 0 and "revoked" in out
    assert len(json.loads(_run("keys", "list", "--json")[1])) == 1


def test_budgets_and_limits(cli: Path) -> None:
    code, out, _ = _run(
        "budgets",
        "set",
        "--scope",
        "department",
        "--name",
        "sales",
        "--period",
        "month",
        "--hard",
        "250",
        "--soft",
        "200",
    )
    assert code == 0 and "hard $250, soft $200 per month" in out.replace("\n", " ")
    state = json.loads(_run("budgets", "list", "--json")[1])
    assert [(s["name"], s["hard_limit_usd"], s["spent_usd"]) for s in state] == [
        ("sales", "250", "0")
    ]
    code, _, err = _run("budgets", "set", "--scope", "team", "--name", "x", "--hard", "1")
    assert code == 1 and "unknown budget scope" in err
    code, _, err = _run("budgets", "set", "--scope", "user", "--name", "x", "--hard", "abc")
    assert code == 1 and "not a dollar amount" in err
    assert len(json.loads(_run("budgets", "list", "--json")[1])) == 1  # nothing half-written
    code, out, _ = _run("limits", "set", "--scope", "key", "--name", "*", "--rpm", "60")
    assert code == 0 and "60 requests/min" in out
    code, _, err = _run("limits", "set", "--scope", "key", "--name", "*")
    assert code == 1 and "--rpm, --tpm" in err
    # The operator's changes are on the audit chain, as the console's are; failed ones are not.
    from governance.admin_audit import recent_changes

    changes = [e.record for e in recent_changes(get_settings_graph().governance_parts.audit)]
    assert [(c["action"], c["target"]) for c in changes] == [
        ("limit.set", "key:*"),
        ("budget.set", "department:sales"),
    ]
    assert changes[1]["principal"]["user"].startswith("cli:")
    assert changes[1]["detail"]["hard"] == "250"
    code, out, _ = _run("audit", "verify")
    assert code == 0


def test_prompts_activate_show_diff_rollback(cli: Path) -> None:
    variants = cli / "prompts" / "answer"
    variants.mkdir(parents=True)
    (variants / "terse.md").write_text("Answer in one sentence, citing [n].\n")
    listed = _run("prompts", "list")[1]
    assert "answer" in listed
    from kernel.digest import content_version

    terse = content_version(b"Answer in one sentence, citing [n].\n")
    code, out, _ = _run("prompts", "activate", f"answer@{terse}")
    assert code == 0 and f"answer@{terse}" in out
    code, out, err = _run("prompts", "show", "answer")
    assert out.strip() == "Answer in one sentence, citing [n]." and "(active)" in err
    code, out, _ = _run("prompts", "diff", f"answer@{terse}", "answer")
    assert code == 0 and "no difference" in out
    code, out, _ = _run("prompts", "rollback", "answer")
    assert code == 0 and "rolled back" in out
    assert "You are loregate" in _run("prompts", "show", "answer")[1]
    code, _, err = _run("prompts", "activate", "answer@ffffff")
    assert code == 1 and "no version 'ffffff'" in err


@pytest.fixture
def with_gateway(cli: Path) -> Iterator[tuple[Loregate, ScriptedProvider]]:
    """The CLI's graph, its gateway over a scripted provider."""
    provider = ScriptedProvider("anthropic")
    graph = build_graph(load_settings(home=cli), providers={"anthropic": provider})
    yield graph, provider


def _ask(graph: Loregate, content: str, principal: Principal) -> str:
    async def go() -> str:
        request = ModelRequest(model="default", messages=[{"role": "user", "content": content}])
        result = await graph.gateway.invoke(request, principal=principal)
        return result.request_id

    return asyncio.run(go())


def test_audit_verify_replay_and_exports(
    with_gateway: tuple[Loregate, ScriptedProvider],
) -> None:
    container, provider = with_gateway
    alice = Principal(user_id="alice", department="sales", project="crm")
    provider.push(Reply(text="Paris."), Reply(text="Lyon."))
    first = _ask(container, "Capital of France? Mail me at li.wei@example.com", alice)
    _ask(container, "Second city?", alice)
    asyncio.run(container.aclose())  # flush the ledger and the audit log

    code, out, _ = _run("audit", "verify")
    assert code == 0 and "audit log OK: 2 records" in out.replace("\n", " ")
    shown = json.loads(_run("audit", "show", first)[1])
    assert "<EMAIL_ADDRESS>" in json.dumps(shown) and "li.wei@example.com" not in json.dumps(shown)

    code, out, err = _run("export", "billing", "--group-by", "department", "--format", "csv")
    assert code == 0 and "matches the ledger" in err
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["department"], row["requests"], row["cost_nano_usd"]) == ("sales", "2", "70000")
    code, out, _ = _run("export", "calls", "--format", "jsonl", "--attempts")
    assert [json.loads(x)["kind"] for x in out.splitlines()] == [
        "request",
        "attempt",
        "request",
        "attempt",
    ]

    # Replay the first record through the economy route, on a fresh scripted gateway.
    provider2 = ScriptedProvider("anthropic", Reply(text="Paris, the capital."))
    replaying = build_graph(
        load_settings(home=container.settings.home), providers={"anthropic": provider2}
    )
    code, out, err = _run("audit", "replay", "1", "--route", "economy", graph=replaying)
    assert code == 0, err
    assert "Paris." in out and "Paris, the capital." in out and "economy" in out
    [sent] = provider2.calls
    assert sent.messages[0]["content"] == "Capital of France? Mail me at <EMAIL_ADDRESS>"

    engine = Loregate(load_settings(home=container.settings.home)).engine
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER governance_audit_no_update"))
        conn.execute(text("UPDATE governance_audit_log SET payload = '{}' WHERE seq = 2"))
    engine.dispose()
    code, _, err = _run("audit", "verify")
    assert code == 1 and "EDITED record #2" in err.replace("\n", " ")
