"""Screenshots of every console page at 1280 and 390 px into docs/console/ (not part of the
gate): the console's test rig (scripted model, fake embedder, one contract), a few asks, a
queued review item, then Debian's Chromium through Playwright.

    PYTHONPATH=. .venv/bin/python scripts/console_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from kernel.principal import Principal  # noqa: E402
from tests.console.browser import WIDTHS, launch, serve, sign_in  # noqa: E402
from tests.console.rig import CAP, NOTICE, ConsoleRig  # noqa: E402

OUT = ROOT / "docs" / "console"
PAGES = ("ask", "usage", "usage/savings", "review", "admin", "audit", "ingest", "models", "evals")


def seed(rig: ConsoleRig) -> None:
    service = rig.graph.answer_service()
    asker = rig.graph.governance_parts.keys.lookup(rig.keys["lead"])
    others = [Principal(user_id=f"user{i}", department=d) for i, d in enumerate(("legal", "sales"))]

    async def asks() -> None:
        for who in (asker, *others):
            await service.ask(NOTICE, principal=who)
        rig.weak_answers()
        await service.ask(CAP, principal=asker)

    asyncio.run(asks())
    rig.graph.governance_parts.budgets.set("department", "legal", period="month", hard_usd="50")
    rig.fold()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rig = ConsoleRig(Path(tmp))
        seed(rig)
        with serve(rig.app) as base, sync_playwright() as p:
            browser = launch(p)
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/console/sign-in")
                page.screenshot(path=str(OUT / f"sign-in-{width}.png"), full_page=True)
                sign_in(page, base, rig.keys["admin"])
                for name in PAGES:
                    page.goto(f"{base}/console/{name}")
                    if name == "ask":
                        page.get_by_label("Your question").fill(f"{NOTICE} ({width} px)")
                        page.get_by_role("button", name="Ask", exact=True).click()
                        page.wait_for_selector("#ask-status:has-text('Answered')")
                        page.locator("details.citation summary").first.click()
                    shot = name.replace("/", "-")
                    page.screenshot(path=str(OUT / f"{shot}-{width}.png"), full_page=True)
                context.close()
            browser.close()
        rig.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
