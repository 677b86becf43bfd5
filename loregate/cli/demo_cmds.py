"""`loregate demo`: the README's main job on embedded defaults, in one command.

It ingests the demo corpus (``demo/corpus`` with ``demo/manifest.yaml``) into a data
directory of its own, creates a Legal key and an HR key, starts the API on a free local port,
asks a handful of questions over HTTP and prints each answer with its sources, tier and cost.
It ends by asking a Legal-only question with the HR key, to show that the HR key gets no Legal
source. With no provider key, the embedded local model answers; where its answer does not cite
the sources, loregate says so and returns the cited passages instead (degraded path).
``--emulator`` runs the same demo against the bundled Claude emulator (tiers, prompt caching
and costs as with Claude, with deterministic extractive answers).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from loregate.cli.common import console, err_console, fail, friendly_errors

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


@dataclass(frozen=True)
class DemoQuestion:
    key: str  # "legal" | "hr"
    question: str
    point: str  # what this question shows


QUESTIONS = (
    DemoQuestion(
        "legal",
        "How much notice does Acme need to give to terminate the MSA for convenience?",
        "a contract clause, cited for a Legal key",
    ),
    DemoQuestion(
        "hr",
        "How many unused PTO days can an employee carry over into the next year?",
        "an HR-only policy, cited for an HR key",
    ),
    DemoQuestion(
        "hr",
        "Within how many days can customers return unopened hardware for a full refund?",
        "a public policy: every key may read it",
    ),
    DemoQuestion(
        "legal",
        "How much notice does Acme need to give to terminate the MSA for convenience?",
        "the same question again: a confident answer comes from the response cache at $0 "
        "(degraded answers are never cached)",
    ),
)
HOME_OPT = typer.Option(
    None, "--home", help="Data directory of the demo (default: $LOREGATE_HOME/demo)."
)
LEGAL_ONLY = "How much notice does Acme need to give to terminate the MSA for convenience?"


class _Served:
    """The app under uvicorn on 127.0.0.1:<free port>, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="error", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="loregate-demo", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the demo API failed to start")
            self.thread.join(0.05)
        port = int(self.server.servers[0].sockets[0].getsockname()[1])
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


if TYPE_CHECKING:
    from loregate.graph import Loregate


def _ingest(graph: Loregate) -> None:
    corpus, manifest = DEMO_DIR / "corpus", DEMO_DIR / "manifest.yaml"
    if not corpus.is_dir() or not manifest.is_file():
        raise fail(f"the demo corpus is missing: expected {corpus} and {manifest}")
    console.print(f"[bold]1. Ingesting[/] {corpus} (manifest {manifest.name}) ...")
    report = graph.ingestor().ingest_path([corpus], manifest=manifest)
    console.print(
        f"   {report.files} files: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed; "
        f"{report.chunks_written} chunks written"
    )
    for failure in report.failed:
        err_console.print(f"   [red]failed[/] {failure}")


def _keys(graph: Loregate) -> dict[str, str]:
    store = graph.governance_parts.keys
    legal = store.create(user="lena", department="legal", groups=["legal"], description="demo")
    hr = store.create(user="hank", department="hr", description="demo")
    reviewer = store.create(user="rita", role="reviewer", description="demo")
    console.print(
        f"[bold]2. Keys[/]: Legal {legal.record.id} (lena, dept legal) · HR {hr.record.id} "
        f"(hank, dept hr) · reviewer {reviewer.record.id}"
    )
    return {"legal": legal.key, "hr": hr.key, "reviewer": reviewer.key}


def _show(answer: dict[str, Any], who: str, point: str) -> None:
    from loregate.cli.retrieval_cmds import print_answer
    from retrieval.answer_types import Answer

    console.rule(f"[bold]{who} key[/] asks: {answer['question']}")
    console.print(f"[dim]shows: {point}[/]")
    parsed = Answer.model_validate(answer)
    print_answer(parsed)
    if parsed.degraded == "no_confident_answer" and parsed.model in ("local", "extractive"):
        console.print(
            "[yellow]No source answered this confidently (the extractive answerer, then the "
            "embedded local model SmolLM2-135M, tried), so loregate returned the best cited "
            "passages instead and queued the question for review. Set ANTHROPIC_API_KEY (or "
            "run `loregate demo --emulator`) for Claude's tiers.[/]"
        )


def _run_demo(home: Path, emulator_url: str | None) -> None:
    import httpx

    from loregate.app import create_app
    from loregate.graph import Loregate
    from loregate.settings import load_settings

    overrides: dict[str, Any] = {"home": home}
    if emulator_url:
        overrides.update(anthropic_api_key="emulator", anthropic_base_url=emulator_url)
    settings = load_settings(**overrides)
    graph = Loregate(settings)
    graph.migrate()
    console.print(f"loregate demo · data in {home}")
    _ingest(graph)
    keys = _keys(graph)
    with _Served(create_app(settings, graph)) as url:
        console.print(f"[bold]3. API[/] on {url}; asking over HTTP ...")
        with httpx.Client(base_url=url, timeout=600) as http:

            def ask(key: str, question: str) -> dict[str, Any]:
                resp = http.post(
                    "/v1/ask", json={"question": question}, headers={"x-api-key": keys[key]}
                )
                if resp.status_code != 200:
                    raise fail(f"POST /v1/ask answered {resp.status_code}: {resp.text}")
                body: dict[str, Any] = resp.json()
                return body

            for q in QUESTIONS:
                _show(ask(q.key, q.question), q.key.upper(), q.point)

            denied = ask("hr", LEGAL_ONLY)
            _show(denied, "HR", "a Legal-only question asked with the HR key")
            legal_sources = [
                p["source"] for p in denied["passages"] if p["source"].startswith("contracts/")
            ]
            if legal_sources:
                raise fail(f"the HR key received Legal sources: {legal_sources}")
            console.print(
                "[bold green]The HR key received 0 Legal sources[/]: contracts are filtered "
                "inside the vector store's query, before ranking."
            )
            queue = http.get("/v1/review", headers={"x-api-key": keys["reviewer"]}).json()
            console.print(
                f"[bold]4. Review queue[/]: {queue['stats']['counts'].get('queued', 0)} question(s)"
                " waiting for a reviewer (`loregate review list`, GET /v1/review)."
            )


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()


@app.command()
@friendly_errors
def demo(
    home: Path = HOME_OPT,
    emulator: bool = typer.Option(
        False, "--emulator", help="Answer with the bundled Claude emulator, not a real model."
    ),
) -> None:
    """Ingest the demo corpus, create keys, start the API and ask questions over HTTP."""
    from loregate.offline import configure_offline
    from loregate.settings import get_settings

    configure_offline()
    target = home or get_settings().home / "demo"
    if emulator:
        from testkit.emulator import EmulatorServer

        with EmulatorServer() as emu:
            err_console.print(f"[dim]Claude emulator on {emu.base_url}[/]")
            _run_demo(target, emu.base_url)
    else:
        _run_demo(target, None)
