"""The console in a real browser (Debian's Chromium, headless, driven by Playwright): sign in,
ask and open a citation, see the cost in usage, approve a review item and see it served,
change a budget and see a request refused; axe-core on every page at 1280 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.console.browser import CHROMIUM, WIDTHS, axe_violations, launch, serve, sign_in
from tests.console.rig import NOTICE, ConsoleRig

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (scripts/setup.sh installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser]
WHO = "Who may terminate the agreement for convenience?"
PAGES = ("ask", "usage", "usage/savings", "review", "admin", "audit", "ingest", "models", "evals")


@pytest.fixture(scope="module")
def base(rig: ConsoleRig) -> Iterator[str]:
    with serve(rig.app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def as_user(browser: Any, base: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_as(key: str, width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, base, key)
        return page

    yield open_as
    for c in contexts:
        c.close()


def ask(page: Any, question: str) -> None:
    page.get_by_label("Your question").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_selector("#ask-status:has-text('Answered'), #ask-status:has-text('refused')")


def test_sign_in_ask_and_open_a_citation_then_see_the_cost(
    rig: ConsoleRig, as_user: Any, base: str
) -> None:
    page = as_user(rig.keys["employee"])
    ask(page, NOTICE + " (browser)")
    assert "Ninety (90) days" in page.locator("#result .answer-text").inner_text()
    citation = page.locator("details.citation").first
    quote = citation.locator("blockquote")
    assert not quote.is_visible()
    citation.locator("summary").click()
    assert "4.3 Termination for Convenience" in quote.inner_text()
    assert quote.is_visible()
    cost = page.locator("#result td.cost").inner_text()
    assert cost.startswith("$") and cost != "$0.0000"
    rig.fold()
    page.get_by_role("link", name="Usage & cost").click()
    page.wait_for_url(f"{base}/console/usage")
    assert page.locator("#total-cost").inner_text() != "$0.0000"


def test_approve_a_review_item_and_see_it_served(rig: ConsoleRig, as_user: Any) -> None:
    rig.weak_answers()
    asker = as_user(rig.keys["employee"])
    ask(asker, WHO)
    assert "No confident answer" in asker.locator("#result").inner_text()
    reviewer = as_user(rig.keys["reviewer"])
    reviewer.get_by_role("link", name="Review").click()
    item = reviewer.locator("article.review-item", has_text=WHO)
    item.get_by_role("button", name="Approve").click()
    reviewer.locator("article.review-item", has_text=WHO).wait_for(state="detached")
    ask(asker, WHO)
    assert "Reviewed answer: approved by reviewer" in asker.locator("#result").inner_text()


def test_change_a_budget_and_see_a_request_refused(rig: ConsoleRig, as_user: Any) -> None:
    admin = as_user(rig.keys["admin"])
    admin.get_by_role("link", name="Budgets & keys").click()
    form = admin.get_by_role("form", name="Set a budget")
    form.get_by_label("Scope").select_option("user")
    form.get_by_label("Name").fill("evaluator")
    form.get_by_label("Period").select_option("day")
    form.get_by_label("Hard limit (USD)").fill("0.000001")
    form.get_by_role("button", name="Set budget").click()
    admin.locator("td", has_text="user evaluator").wait_for()
    try:
        asker = as_user(rig.keys["evaluator"])
        ask(asker, NOTICE + " (over budget)")
        assert "budget" in asker.locator("#result").inner_text().lower()
        assert "refused" in asker.locator("#ask-status").inner_text()
    finally:
        rig.graph.governance_parts.budgets.remove("user", "evaluator")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_passes_axe(
    rig: ConsoleRig, as_user: Any, browser: Any, base: str, width: int
) -> None:
    page = as_user(rig.keys["admin"], width)
    problems = {}
    for name in PAGES:
        page.goto(f"{base}/console/{name}")
        problems[name] = axe_violations(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:  # usable at this width: nothing but the tables scrolls sideways
            problems[name].append({"id": "page-wider-than-viewport", "width": wide})
    employee = as_user(rig.keys["employee"], width)
    employee.goto(f"{base}/console/admin")  # the 403 page
    problems["403"] = axe_violations(employee)
    anonymous = browser.new_context(viewport={"width": width, "height": 900})
    try:
        signin = anonymous.new_page()
        signin.goto(f"{base}/console/sign-in")
        problems["sign-in"] = axe_violations(signin)
    finally:
        anonymous.close()
    assert not {k: v for k, v in problems.items() if v}


def test_the_accessibility_check_fails_on_poor_or_undecidable_contrast(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.set_content(
            "<html lang='en'><head><title>t</title></head><body><main><h1>Contrast</h1>"
            "<p style='color:#bbb;background:#fff'>grey on white</p></main></body></html>"
        )
        assert [v["id"] for v in axe_violations(page)] == ["color-contrast"]
        page.set_content(  # text over a gradient: axe cannot decide, so it must not pass
            "<html lang='en'><head><title>t</title></head><body><main><h1>Contrast</h1>"
            "<p style='color:#777;background:linear-gradient(#fff,#000)'>on a gradient</p>"
            "</main></body></html>"
        )
        assert [v["id"] for v in axe_violations(page)] == ["color-contrast"]
    finally:
        page.close()
