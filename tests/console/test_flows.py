"""The console's flows over HTTP (the browser tests drive the same ones in Chromium): ask with
citations, tier, tokens and cost; the cost in usage; feedback and review decisions served;
a budget changed and a request refused."""

from __future__ import annotations

import json

from tests.console.rig import CAP, NOTICE, ConsoleRig, client, sign_in


def frames(body: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_ask_streams_then_shows_citations_tier_tokens_and_cost(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        response = await http.post(
            "/console/ask/stream", data={"question": NOTICE}, headers={"x-csrf-token": csrf}
        )
        assert response.status_code == 200
        events = frames(response.text)
        assert events[0][0] == "delta" and events[-1][0] == "answer"
        html = str(events[-1][1]["html"])
        assert "Ninety (90) days" in html
        assert "[1] Master Services Agreement — 4. Term and Termination" in html
        assert "4.3 Termination for Convenience" in html  # the cited section opens in place
        assert "claude-haiku-4-5" in html and "input 1500" in html and "$0.00" in html
        plain = await http.post("/console/ask", data={"question": NOTICE, "csrf": csrf})
        assert plain.status_code == 200 and "Ninety (90) days" in plain.text


async def test_the_cost_of_an_ask_appears_in_usage(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["lead"])
        await http.post("/console/ask", data={"question": NOTICE + " (usage)", "csrf": csrf})
        rig.fold()
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["admin"])
        page = await http.get("/console/usage", params={"group_by": "user"})
        assert page.status_code == 200
        assert "<td>lead</td>" in page.text
        assert 'id="total-cost">$0.0000<' not in page.text


async def test_feedback_goes_to_the_review_queue(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        sent = await http.post(
            "/console/feedback",
            data={
                "question": NOTICE,
                "answer": "90 days",
                "comment": "cites the old MSA",
                "csrf": csrf,
            },
        )
        assert sent.status_code == 200 and "review queue" in sent.text
    queue = rig.graph.review_queue
    assert any(i.reason == "feedback: cites the old MSA" for i in queue.list("queued"))


async def test_an_approved_review_item_is_served(rig: ConsoleRig) -> None:
    rig.weak_answers()
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        first = await http.post("/console/ask", data={"question": CAP, "csrf": csrf})
        assert "No confident answer" in first.text and "review queue" in first.text
    item = next(i for i in rig.graph.review_queue.list("queued") if i.question == CAP)
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["reviewer"])
        queue = await http.get("/console/review")
        assert CAP in queue.text and "Passages" in queue.text
        done = await http.post(f"/console/review/{item.id}/approve", data={"csrf": csrf})
        assert done.status_code == 303
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        again = await http.post("/console/ask", data={"question": CAP, "csrf": csrf})
        assert "Reviewed answer: approved by reviewer" in again.text


async def test_a_budget_set_in_the_console_refuses_the_next_ask(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["admin"])
        budget = {
            "scope": "user",
            "name": "owner",
            "period": "day",
            "hard_usd": "0.000001",
            "csrf": csrf,
        }
        assert (await http.post("/console/admin/budgets", data=budget)).status_code == 303
        page = await http.get("/console/admin")
        assert "user owner" in page.text
    try:
        async with client(rig.app) as http:
            csrf = await sign_in(http, rig.keys["owner"])
            refused = await http.post(
                "/console/ask", data={"question": NOTICE + " (budget)", "csrf": csrf}
            )
            assert refused.status_code == 402 and "budget" in refused.text.lower()
    finally:
        rig.graph.governance_parts.budgets.remove("user", "owner")


async def test_eval_runs_open_their_html_report_and_a_comparison(rig: ConsoleRig) -> None:
    from testkit.samples import _sample_runs

    first, second = _sample_runs(rig.graph.engine)
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["evaluator"])
        runs = await http.get("/console/evals")
        assert first in runs.text and second in runs.text
        report = await http.get(f"/console/evals/{second}/report")
        assert report.status_code == 200 and "<html" in report.text.lower()
        picked = await http.get("/console/evals/compare", params={"run": second, "baseline": first})
        assert picked.status_code == 303
        compared = await http.get(picked.headers["location"])
        assert compared.status_code == 200 and first in compared.text


async def test_an_audited_call_opens_in_full_and_replays(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["employee"])
        page = await http.post("/console/ask", data={"question": NOTICE + " (audit)", "csrf": csrf})
        request_id = page.text.split('name="answer_request_id" value="')[1].split('"')[0]
    assert rig.graph.governance.audit is not None
    rig.graph.governance.audit.flush()
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["admin"])
        verified = await http.get("/console/audit", params={"check": "true"})
        assert "The chain is intact" in verified.text
        shown = await http.get("/console/audit", params={"record": request_id})
        assert shown.status_code == 200 and request_id in shown.text
        seq = shown.text.split('action="/console/audit/')[1].split("/")[0]
        replayed = await http.post(
            f"/console/audit/{seq}/replay", data={"route": "default", "csrf": csrf}
        )
        assert replayed.status_code == 200, replayed.text[:500]
        assert 'class="replayed-text">Ninety (90) days' in replayed.text


async def test_admin_changes_are_recorded_on_the_audit_chain(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["admin"])
        budget = {
            "scope": "project",
            "name": "atlas",
            "period": "month",
            "hard_usd": "12",
            "csrf": csrf,
        }
        await http.post("/console/admin/budgets", data=budget)
        await http.post("/console/admin/budgets/project/atlas/delete", data={"csrf": csrf})
        page = await http.get("/console/admin")
        assert "budget.set project:atlas" in page.text and "hard_usd 12" in page.text
        assert "budget.remove project:atlas" in page.text
        verified = await http.get("/console/audit", params={"check": "true"})
        assert "The chain is intact" in verified.text
    # and through the admin API, the same record
    async with client(rig.app) as http:
        headers = {"x-api-key": rig.keys["admin"]}
        body = {"requests_per_minute": 60}
        put = await http.put("/admin/limits/department/nina", json=body, headers=headers)
        assert put.status_code == 200
    from governance.admin_audit import recent_changes

    latest = recent_changes(rig.graph.governance_parts.audit, 1)[0].record
    assert latest["action"] == "limit.set" and latest["target"] == "department:nina"
    assert latest["principal"]["user"] == "admin" and latest["detail"]["requests_per_minute"] == 60


async def test_savings_by_role(rig: ConsoleRig) -> None:
    async with client(rig.app) as http:
        csrf = await sign_in(http, rig.keys["lead"])
        await http.post("/console/ask", data={"question": NOTICE + " (savings)", "csrf": csrf})
        rig.graph.ledger_writer.flush()
        own = await http.get("/console/usage/savings")
        assert own.status_code == 200
        assert "<h2>Company</h2>" not in own.text and "<h2>legal</h2>" in own.text
        assert "without the response cache" in own.text and "always on claude-sonnet" in own.text
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["admin"])
        everyone = await http.get("/console/usage/savings")
        assert "<h2>Company</h2>" in everyone.text and "<h2>legal</h2>" in everyone.text
        bad = await http.get("/console/usage/savings", params={"month": "2026-13"})
        assert bad.status_code == 400
    async with client(rig.app) as http:
        await sign_in(http, rig.keys["employee"])
        assert (await http.get("/console/usage/savings")).status_code == 403
