"""A live server and Debian's Chromium for the browser tests and the screenshot script.

Playwright drives ``/usr/bin/chromium`` (``executable_path``); it never downloads a browser of
its own (``playwright install`` is never run). axe-core (vendored from npm, MPL-2.0) checks
each page's accessibility basics.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WIDTHS = (1280, 390)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` on a loopback port in a thread (no lifespan: the rig owns the graph)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/ask")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the page as it is (labels, headings, contrast...).

    Contrast axe could not decide counts as a violation too (text over an image or a gradient,
    say): otherwise such a page would pass with its contrast never checked. Two reasons are not
    about colour and pass: a cell clipped by a table that scrolls sideways at a narrow width
    ("partially obscured"; the same cells are checked at 1280 px, where the tables fit), and
    content of one or two characters, such as a count of 0 ("too short"), which is in the
    same colours as the cells beside it that axe does check."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: "
        "{type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}}); "
        "return [r.violations, r.incomplete.filter(v => v.id === 'color-contrast')]; }"
    )
    violations, undecided = result
    for rule in undecided:
        rule["nodes"] = [n for n in rule["nodes"] if not _not_about_colour(n)]
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in violations + [u for u in undecided if u["nodes"]]
    ]


NOT_ABOUT_COLOUR = ("partially obscured", "too short to determine")


def _not_about_colour(node: dict[str, Any]) -> bool:
    messages = [check.get("message", "") for check in node.get("any", [])]
    return bool(messages) and all(any(r in m for r in NOT_ABOUT_COLOUR) for m in messages)
