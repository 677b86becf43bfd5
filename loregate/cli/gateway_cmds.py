"""CLI commands of the `gateway` part: send, models, routes, breakers."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from loregate.cli.common import console, fail, friendly_errors, graph, run_async


def _send(prompt: str, route: str | None, system: str | None, max_tokens: int) -> Any:
    from gateway.types import ModelRequest
    from kernel.principal import LOCAL_OPERATOR

    async def go() -> Any:
        g = graph()
        try:
            gw = g.gateway
            request = ModelRequest(
                model=route or gw.catalogue.default_route,
                messages=[{"role": "user", "content": prompt}],
                system=system,
                max_tokens=max_tokens,
            )
            return await gw.invoke(request, principal=LOCAL_OPERATOR, source="cli")
        finally:
            await g.aclose()

    return run_async(go())


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()


@app.command()
@friendly_errors
def send(
    prompt: str = typer.Argument(..., help="The prompt to send."),
    route: str = typer.Option(None, "--route", "-r", help="Route or model alias."),
    system: str = typer.Option(None, help="A system prompt."),
    max_tokens: int = typer.Option(512, min=1, help="Most output tokens to generate."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Send one prompt through a route; print the answer, the model, tokens and cost."""
    from gateway.pricing import format_usd

    if not prompt.strip():
        raise fail("the prompt is empty")
    result = _send(prompt, route, system, max_tokens)
    r, u = result.response, result.usage
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "request_id": result.request_id,
                    "route": result.route,
                    "model_alias": r.model_alias,
                    "model_id": r.model_id,
                    "text": r.text,
                    "usage": u.model_dump(),
                    "cost_nano_usd": result.cost_nano_usd,
                    "attempts": [
                        {
                            "tier": a.tier,
                            "model": a.model_alias,
                            "outcome": a.outcome,
                            "error": a.error_class,
                            "reason": a.escalation_reason,
                            "cost_nano_usd": a.cost_nano_usd,
                        }
                        for a in result.attempts
                    ],
                }
            )
        )
        return
    console.print(r.text, markup=False, highlight=False)
    console.rule(style="dim")
    console.print(
        f"[bold]model[/] {r.model_alias} ({r.provider}: {r.model_id})  [bold]route[/] "
        f"{result.route}  [bold]request[/] {result.request_id}"
    )
    console.print(
        f"[bold]tokens[/] in {u.input_tokens}  out {u.output_tokens}  cache write "
        f"{u.cache_creation_input_tokens}  cache read {u.cache_read_input_tokens}   "
        f"[bold]cost[/] {format_usd(result.cost_nano_usd)}"
    )
    for a in result.attempts:
        if a.outcome != "ok":
            why = a.escalation_reason or a.error_class or ""
            console.print(f"  [dim]tier {a.tier} {a.model_alias}: {a.outcome} {why}[/]")


@app.command()
@friendly_errors
def models() -> None:
    """List the configured model aliases: provider, pinned id, prices, limits."""
    catalogue = graph(migrate=False).catalogue
    cfg, registry = catalogue.config, catalogue.providers
    table = Table(
        "alias",
        "provider",
        "model id",
        "available",
        "context",
        "min cache",
        "$/MTok in/out/5m/1h/read",
        "prices as of",
    )
    for alias, s in cfg.models.items():
        p = s.prices
        table.add_row(
            alias,
            s.provider,
            s.model_id,
            "yes" if registry.available(s.provider) else registry.why_unavailable(s.provider),
            f"{s.context_window:,}",
            f"{s.min_cacheable_tokens:,}",
            f"{p.input}/{p.output}/{p.cache_write_5m}/{p.cache_write_1h}/{p.cache_read}",
            s.prices_as_of.isoformat(),
        )
    console.print(table)


@app.command()
@friendly_errors
def routes() -> None:
    """List the routes with their tiers as they run now, and the routing version."""
    from kernel.errors import ApiError

    catalogue = graph(migrate=False).catalogue
    cfg = catalogue.config
    console.print(
        f"[bold]routing version[/] {cfg.routing_version}   "
        f"[bold]default route[/] {cfg.default_route}"
    )
    for name, spec in cfg.routes.items():
        console.print(f"\n[bold]{name}[/]  {spec.description}")
        try:
            plan = catalogue.plan(name)
        except ApiError as exc:
            console.print(f"  [red]{exc.message}[/]")
            continue
        if plan.name != name:
            paid = sorted(
                {a for t in spec.tiers for a in t.candidates if not cfg.models[a].is_free}
            )
            console.print(
                f"  [yellow]runs the {plan.name!r} route[/]: none of its paid models is "
                f"available (skipped: {', '.join(paid)})"
            )
        for tier in plan.tiers:
            skipped = f"  [dim](skipped: {', '.join(tier.skipped)})[/]" if tier.skipped else ""
            console.print(
                f"  tier {tier.index}: {' -> '.join(tier.aliases)}  "
                f"[dim]attempt {tier.spec.attempt_timeout_s:g}s, total "
                f"{tier.spec.total_timeout_s:g}s, {tier.spec.retry.max_attempts} tries, "
                f"escalate on {', '.join(tier.spec.escalate_on) or 'nothing'}[/]{skipped}"
            )


@app.command()
@friendly_errors
def breakers(
    url: str = typer.Option(None, help="A running loregate (e.g. http://127.0.0.1:8000)."),
    key: str = typer.Option(None, envvar="LOREGATE_API_KEY", help="An admin API key."),
) -> None:
    """Show each model's circuit breaker (closed, open, half-open) on a running server."""
    if url is None:
        raise fail("breakers live in the serving process: pass --url of a running loregate")
    import httpx

    headers = {"x-api-key": key} if key else {}
    try:
        resp = httpx.get(url.rstrip("/") + "/v1/gateway/breakers", headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise fail(f"could not reach {url}: {exc}") from None
    if resp.status_code != 200:
        raise fail(f"{url} answered HTTP {resp.status_code}: {resp.text[:200]}")
    table = Table("provider/model", "state")
    for name, state in resp.json()["breakers"].items():
        colour = {"closed": "green", "open": "red"}.get(state, "yellow")
        table.add_row(name, f"[{colour}]{state}[/]")
    console.print(table)
