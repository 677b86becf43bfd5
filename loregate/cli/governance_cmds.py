"""CLI commands of governance: keys, budgets, rate limits and prompts (audit and exports live in
``governance_audit_cmds``).

These commands act on the database directly, as the operator of the machine: no key needed.
Each change is recorded on the audit chain as the console's and the admin API's are, with the
principal ``cli:<login name>`` (the operator's account on this machine).
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from governance.budgets import nano_to_usd_str
from loregate.cli import governance_audit_cmds
from loregate.cli.common import console, err_console, fail, friendly_errors, graph

if TYPE_CHECKING:
    from governance.parts import GovernanceParts


def _parts() -> GovernanceParts:

    return graph().governance_parts


def _audited(action: str, target: str, **detail: Any) -> None:
    """The change on the audit chain, made by the machine's operator."""
    from governance.admin_audit import record_change
    from kernel.principal import Principal, Role

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        login = "unknown"
    record_change(
        _parts().audit, Principal(user_id=f"cli:{login}", role=Role.ADMIN), action, target, **detail
    )


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
budgets_app = typer.Typer(help="Budgets per department, project or user.", no_args_is_help=True)
limits_app = typer.Typer(help="Rate limits per key, department or model.", no_args_is_help=True)
prompts_app = typer.Typer(
    help="The prompt registry: versions, activation, rollback.", no_args_is_help=True
)


# Keys -----------------------------------------------------------------------------------------
@keys_app.command("create")
@friendly_errors
def keys_create(
    user: str = typer.Option(..., "--user", help="Who the key belongs to."),
    department: str = typer.Option("", "--department", help="Department (budgets, access)."),
    project: str = typer.Option("", "--project", help="Project (budgets, billing)."),
    role: str = typer.Option(
        "employee", "--role", help="employee | doc_owner | evaluator | reviewer | admin."
    ),
    groups: str = typer.Option("", "--groups", help="Comma-separated access groups."),
    routes: str = typer.Option("", "--routes", help="Allowed routes (comma-separated; none: any)."),
    models: str = typer.Option("", "--models", help="Allowed model aliases (none: any)."),
    description: str = typer.Option("", "--description", help="A note shown by `keys list`."),
    tag: str = typer.Option(
        "", "--tag", help="Default allocation tag (cost centre or task) of its requests."
    ),
) -> None:
    """Create a key and print it ONCE on stdout (only its id is ever shown again)."""
    new = _parts().keys.create(
        user=user,
        department=department,
        project=project,
        role=role,
        groups=_split(groups),
        routes=_split(routes),
        models=_split(models),
        description=description,
        created_by="cli",
        tag=tag,
    )
    r = new.record
    _audited("key.create", r.id, user=user, role=r.role.value)
    err_console.print(
        f"created key [bold]{r.id}[/] for {r.user_id} (role {r.role.value}, department "
        f"{r.department or '-'}, project {r.project or '-'}). Store it now: it is not shown again."
    )
    print(new.key)


@keys_app.command("bootstrap")
@friendly_errors
def keys_bootstrap(
    user: str = typer.Option("admin", "--user", help="Who the first admin key belongs to."),
) -> None:
    """Create the first admin key (refused once an active admin key exists)."""
    parts = _parts()
    admins = parts.keys.count_active_admins()
    if admins:
        raise fail(
            f"{admins} active admin key(s) exist already; create more with "
            "`loregate keys create --role admin` or POST /admin/keys"
        )
    new = parts.keys.create(user=user, role="admin", description="bootstrap", created_by="cli")
    _audited("key.create", new.record.id, user=user, role="admin")
    err_console.print(f"created admin key [bold]{new.record.id}[/]. Store it now.")
    print(new.key)


@keys_app.command("list")
@friendly_errors
def keys_list(
    all_keys: bool = typer.Option(False, "--all", help="Include revoked keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List keys by id (prefix); the keys themselves are never stored."""
    records = _parts().keys.list_keys(include_revoked=all_keys)
    if as_json:
        _print_json([r.as_dict() for r in records])
        return
    table = Table(
        "id",
        "user",
        "role",
        "department",
        "project",
        "groups",
        "routes",
        "models",
        "created",
        "status",
    )
    for r in records:
        table.add_row(
            r.id,
            r.user_id,
            r.role.value,
            r.department,
            r.project,
            ",".join(r.groups),
            ",".join(r.allowed_routes) or "any",
            ",".join(r.allowed_models) or "any",
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            "revoked" if r.revoked_at else "active",
        )
    console.print(table)


@keys_app.command("revoke")
@friendly_errors
def keys_revoke(key_id: str = typer.Argument(..., help="The key's id, e.g. lg_ab12cd34.")) -> None:
    """Revoke a key: it is refused from now on (other processes: within 5 seconds)."""
    r = _parts().keys.revoke(key_id)
    _audited("key.revoke", r.id)
    console.print(f"revoked {r.id} ({r.user_id})")


# Budgets --------------------------------------------------------------------------------------
@budgets_app.command("set")
@friendly_errors
def budgets_set(
    scope: str = typer.Option(..., "--scope", help="department | project | user."),
    name: str = typer.Option(..., "--name", help="The department, project or user id."),
    period: str = typer.Option("month", "--period", help="day | month (UTC)."),
    hard: str = typer.Option(..., "--hard", help="Hard limit: refused beyond it."),
    soft: str = typer.Option(None, "--soft", help="Soft limit: cheaper route beyond it."),
    currency: str = typer.Option(
        "USD", "--currency", help="ISO 4217 code of the limits (enforced at the rate in force)."
    ),
) -> None:
    """Create or change a budget (spending so far is kept)."""
    b = _parts().budgets.set(
        scope, name, period=period, hard_usd=hard, soft_usd=soft, currency=currency
    )
    _audited(
        "budget.set", f"{scope}:{name}", period=period, hard=hard, soft=soft, currency=currency
    )

    def money(nano: int) -> str:  # exact, as set
        amount = nano_to_usd_str(nano)
        return f"${amount}" if b.currency == "USD" else f"{amount} {b.currency}"

    soft_txt = f", soft {money(b.soft_limit_nano)}" if b.soft_limit_nano is not None else ""
    console.print(f"budget {b.label}: hard {money(b.hard_limit_nano)}{soft_txt} per {b.period}")


@budgets_app.command("list")
@friendly_errors
def budgets_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Budgets with what is spent and reserved in the current window."""
    states = _parts().budget_states()
    if as_json:
        _print_json([s.as_dict() for s in states])
        return
    table = Table(
        "budget", "period", "window", "spent $", "reserved $", "soft $", "hard $", "used", "state"
    )
    for s in states:
        d = s.as_dict()
        state = (
            "[red]over hard[/]"
            if s.over_hard
            else ("[yellow]over soft[/]" if s.over_soft else "[green]ok[/]")
        )
        table.add_row(
            s.budget.label,
            s.budget.period,
            s.window,
            str(d["spent_usd"]),
            str(d["reserved_usd"]),
            str(d["soft_limit_usd"] or "-"),
            str(d["hard_limit_usd"]),
            f"{s.used_ratio:.1%}",
            state,
        )
    console.print(table)


@budgets_app.command("remove")
@friendly_errors
def budgets_remove(
    scope: str = typer.Option(..., "--scope"), name: str = typer.Option(..., "--name")
) -> None:
    """Remove a budget."""
    b = _parts().budgets.remove(scope, name)
    _audited("budget.remove", f"{scope}:{name}")
    console.print(f"removed budget {b.label}")


# Rate limits ----------------------------------------------------------------------------------
@limits_app.command("set")
@friendly_errors
def limits_set(
    scope: str = typer.Option(..., "--scope", help="key | department | model."),
    subject: str = typer.Option(
        ..., "--name", help="Key id, department, model alias or route; '*' for each one."
    ),
    rpm: int = typer.Option(None, "--rpm", help="Requests per minute."),
    tpm: int = typer.Option(None, "--tpm", help="Tokens per minute (input + output)."),
) -> None:
    """Set a rate limit (replaces the previous one of that scope and name)."""
    r = _parts().rules.set(scope, subject, rpm=rpm, tpm=tpm)
    _audited("limit.set", f"{scope}:{subject}", rpm=rpm, tpm=tpm)
    console.print(
        f"limit {r.scope} {r.subject!r}: {r.requests_per_minute or '-'} requests/min, "
        f"{r.tokens_per_minute or '-'} tokens/min"
    )


@limits_app.command("list")
@friendly_errors
def limits_list() -> None:
    """Rate-limit rules."""
    table = Table("scope", "name", "requests/min", "tokens/min")
    for r in _parts().rules.all().values():
        table.add_row(
            r.scope, r.subject, str(r.requests_per_minute or "-"), str(r.tokens_per_minute or "-")
        )
    console.print(table)


@limits_app.command("remove")
@friendly_errors
def limits_remove(
    scope: str = typer.Option(..., "--scope"), subject: str = typer.Option(..., "--name")
) -> None:
    """Remove a rate limit."""
    _parts().rules.remove(scope, subject)
    _audited("limit.remove", f"{scope}:{subject}")
    console.print(f"removed limit {scope} {subject!r}")


# Prompts --------------------------------------------------------------------------------------
@prompts_app.command("list")
@friendly_errors
def prompts_list() -> None:
    """Prompt ids, their active version and every version seen."""
    table = Table("prompt", "active", "file version", "pinned", "versions")
    for p in _parts().prompts.list_prompts():
        table.add_row(
            p.prompt_id,
            p.active,
            p.current_file or "-",
            "yes" if p.pinned else "no",
            ", ".join(p.versions),
        )
    console.print(table)


@prompts_app.command("show")
@friendly_errors
def prompts_show(ref: str = typer.Argument(..., help="id or id@version.")) -> None:
    """Print one version's text (default: the active one) and the activation history."""
    registry = _parts().prompts
    pv = registry.resolve_ref(ref)
    active = registry.active(pv.prompt_id)
    marker = " (active)" if pv.version == active.version else ""
    err_console.print(f"[bold]{pv.ref}[/]{marker}")
    print(pv.text, end="" if pv.text.endswith("\n") else "\n")
    for h in registry.history(pv.prompt_id):
        err_console.print(f"[dim]{h['at']}  {h['action']:<8} {h['version']}  by {h['by']}[/]")


@prompts_app.command("diff")
@friendly_errors
def prompts_diff(
    ref_a: str = typer.Argument(..., help="id@version (the old side)."),
    ref_b: str = typer.Argument(None, help="id@version (default: the active version)."),
) -> None:
    """A unified diff between two versions."""
    diff = _parts().prompts.diff(ref_a, ref_b)
    if not diff:
        console.print("no difference")
        return
    console.print(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))


@prompts_app.command("activate")
@friendly_errors
def prompts_activate(ref: str = typer.Argument(..., help="id@version to make active.")) -> None:
    """Make a version active (new requests use it within 2 seconds)."""
    pv = _parts().prompts.activate(ref, by="cli")
    _audited("prompt.activate", pv.ref)
    console.print(f"active: {pv.ref}")


@prompts_app.command("rollback")
@friendly_errors
def prompts_rollback(prompt_id: str = typer.Argument(..., help="The prompt id.")) -> None:
    """Re-activate the version that was active before the current one."""
    pv = _parts().prompts.rollback(prompt_id, by="cli")
    _audited("prompt.rollback", pv.ref)
    console.print(f"rolled back: {pv.ref} is active")


# The commands this module adds to `loregate` ----------------------------------------------
app = typer.Typer()

app.add_typer(keys_app, name="keys")
app.add_typer(budgets_app, name="budgets")
app.add_typer(limits_app, name="limits")
app.add_typer(prompts_app, name="prompts")
app.add_typer(governance_audit_cmds.app)
