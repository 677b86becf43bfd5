"""CLI commands of the `emulator` part: the wire emulator in the foreground."""

from __future__ import annotations

import signal

import typer

from loregate.cli.common import console, fail

# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()


@app.command()
def emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8790, min=0, max=65535, help="TCP port (0: any free port)."),
    latency_ms: float = typer.Option(
        0.0, min=0.0, help="Delay before every generated answer, in milliseconds."
    ),
) -> None:
    """Run the Anthropic/OpenAI wire emulator (deterministic answers, prompt caching, no
    network, no keys) in the foreground, for demos and benchmarks. Ctrl-C stops it."""
    from testkit.emulator import EmulatorServer

    server = EmulatorServer(host=host, port=port, latency_s=latency_ms / 1000, record=False)
    try:
        server.start()
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url = server.base_url
    console.print(f"loregate emulator on {url}  (Anthropic Messages + OpenAI chat APIs)")
    console.print("Point loregate (or any SDK) at it:", highlight=False)
    for line in (
        f"export ANTHROPIC_BASE_URL={url}",
        "export ANTHROPIC_API_KEY=emulator-key",
        f"export OPENAI_BASE_URL={url}/v1",
        "export OPENAI_API_KEY=emulator-key",
    ):
        console.print(line, highlight=False, soft_wrap=True)
    console.print("Ctrl-C to stop.", highlight=False)

    def stop_on_term(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    console.print("emulator stopped", highlight=False)
