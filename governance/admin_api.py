"""Admin endpoints (admin role): keys, budgets, rate limits, prompts and the audit log.
Every change is also a record on the audit chain (``governance.admin_audit``).

POST   /admin/keys                          create a key (the key is in this answer only)
GET    /admin/keys                          list keys (ids/prefixes, never the keys)
POST   /admin/keys/{key_id}/revoke          revoke
GET    /admin/budgets                       every budget with its current-window usage
PUT    /admin/budgets/{scope}/{name}        create or change a budget
DELETE /admin/budgets/{scope}/{name}
GET    /admin/limits                        rate-limit rules
PUT    /admin/limits/{scope}/{subject}      set requests/tokens per minute
DELETE /admin/limits/{scope}/{subject}
GET    /admin/prompts                       prompt ids, active and known versions
GET    /admin/prompts/{prompt_id}           one version's text (?version=, default active)
GET    /admin/prompts/{prompt_id}/diff      ?a=<version>&b=<version>
POST   /admin/prompts/{prompt_id}/activate  {"version": "..."}
POST   /admin/prompts/{prompt_id}/rollback
GET    /admin/audit/verify                  the chain check (?expect_head=<hash>)
GET    /admin/audit/records/{ident}         one record by number or request id
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from governance.admin_audit import record_change
from governance.audit_verify import verify
from governance.parts import GovernanceParts
from kernel.auth import Authenticate, requires
from kernel.principal import Principal, Role


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=128)
    department: str = ""
    project: str = ""
    role: Role = Role.EMPLOYEE
    groups: list[str] = Field(default_factory=list)
    routes: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    description: str = ""
    tag: str = Field(default="", description="default allocation tag (cost centre or task)")


class BudgetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(pattern="^(day|month)$")
    hard_usd: str = Field(description="hard limit in `currency` (USD unless set), e.g. '250'")
    soft_usd: str | None = None
    currency: str = Field(default="USD", description="ISO 4217 code; enforced at the rate in force")


class LimitSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(default=None, gt=0)
    tokens_per_minute: int | None = Field(default=None, gt=0)


class Activate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=12)


def admin_router(parts: GovernanceParts, auth: Authenticate) -> APIRouter:
    admin = requires(auth, Role.ADMIN)
    router = APIRouter(prefix="/admin", tags=["admin"])

    # Keys -------------------------------------------------------------------------------------
    @router.post("/keys", status_code=201, summary="Create an API key (shown once)")
    def create_key(body: KeyCreate, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        new = parts.keys.create(
            user=body.user,
            department=body.department,
            project=body.project,
            role=body.role,
            groups=body.groups,
            routes=body.routes,
            models=body.models,
            description=body.description,
            created_by=who.key_id or who.user_id,
            tag=body.tag,
        )
        record_change(parts.audit, who, "key.create", new.record.id, user=body.user, role=body.role)
        return {"key": new.key, **new.record.as_dict()}

    @router.get("/keys", summary="List API keys (prefixes only)")
    def list_keys(include_revoked: bool = False, _: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {
            "keys": [k.as_dict() for k in parts.keys.list_keys(include_revoked=include_revoked)]
        }

    @router.post("/keys/{key_id}/revoke", summary="Revoke an API key")
    def revoke_key(key_id: str, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        revoked = parts.keys.revoke(key_id).as_dict()
        record_change(parts.audit, who, "key.revoke", key_id)
        return revoked

    # Budgets ----------------------------------------------------------------------------------
    @router.get("/budgets", summary="Budgets and their current-window usage")
    def list_budgets(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {"budgets": [s.as_dict() for s in parts.budget_states()]}

    @router.put("/budgets/{scope}/{name}", summary="Create or change a budget")
    def set_budget(
        body: BudgetSet,
        scope: str = Path(pattern="^(department|project|user)$"),
        name: str = Path(min_length=1, max_length=128),
        who: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        budget = parts.budgets.set(
            scope,
            name,
            period=body.period,
            hard_usd=body.hard_usd,
            soft_usd=body.soft_usd,
            currency=body.currency,
        )
        record_change(parts.audit, who, "budget.set", f"{scope}:{name}", **body.model_dump())
        return budget.as_dict()

    @router.delete("/budgets/{scope}/{name}", summary="Remove a budget")
    def remove_budget(scope: str, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        removed = parts.budgets.remove(scope, name).as_dict()
        record_change(parts.audit, who, "budget.remove", f"{scope}:{name}")
        return {"removed": removed}

    # Rate limits ------------------------------------------------------------------------------
    @router.get("/limits", summary="Rate-limit rules")
    def list_limits(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {"limits": [r.as_dict() for r in parts.rules.all().values()]}

    @router.put("/limits/{scope}/{subject}", summary="Set a rate limit")
    def set_limit(
        body: LimitSet,
        scope: str,
        subject: str,
        who: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        rule = parts.rules.set(
            scope, subject, rpm=body.requests_per_minute, tpm=body.tokens_per_minute
        )
        record_change(parts.audit, who, "limit.set", f"{scope}:{subject}", **body.model_dump())
        return rule.as_dict()

    @router.delete("/limits/{scope}/{subject}", summary="Remove a rate limit")
    def remove_limit(scope: str, subject: str, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        parts.rules.remove(scope, subject)
        record_change(parts.audit, who, "limit.remove", f"{scope}:{subject}")
        return {"removed": {"scope": scope, "subject": subject}}

    # Prompts ----------------------------------------------------------------------------------
    @router.get("/prompts", summary="Prompt ids with their active and known versions")
    def list_prompts(_: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        return {"prompts": [p.as_dict() for p in parts.prompts.list_prompts()]}

    @router.get("/prompts/{prompt_id}", summary="One prompt version's text")
    def show_prompt(
        prompt_id: str,
        version: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        pv = parts.prompts.get(prompt_id, version)
        active = parts.prompts.active(prompt_id)
        return {
            "ref": pv.ref,
            "active": pv.version == active.version,
            "text": pv.text,
            "history": parts.prompts.history(prompt_id),
        }

    @router.get("/prompts/{prompt_id}/diff", summary="Unified diff between two versions")
    def diff_prompt(
        prompt_id: str,
        a: str,
        b: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        ref_b = f"{prompt_id}@{b}" if b else None
        return {"diff": parts.prompts.diff(f"{prompt_id}@{a}", ref_b)}

    @router.post("/prompts/{prompt_id}/activate", summary="Make a version active")
    def activate_prompt(
        prompt_id: str,
        body: Activate,
        who: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        pv = parts.prompts.activate(f"{prompt_id}@{body.version}", by=who.key_id or who.user_id)
        record_change(parts.audit, who, "prompt.activate", pv.ref)
        return {"active": pv.ref}

    @router.post("/prompts/{prompt_id}/rollback", summary="Re-activate the previous version")
    def rollback_prompt(prompt_id: str, who: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        pv = parts.prompts.rollback(prompt_id, by=who.key_id or who.user_id)
        record_change(parts.audit, who, "prompt.rollback", pv.ref)
        return {"active": pv.ref}

    # Audit ------------------------------------------------------------------------------------
    @router.get("/audit/verify", summary="Check the audit chain; names tampered records")
    def verify_audit(
        expect_head: str | None = None,
        _: Principal = Depends(admin),  # noqa: B008
    ) -> dict[str, Any]:
        return verify(parts.audit, expect_head=expect_head).as_dict()

    @router.get("/audit/records/{ident}", summary="One audit record (number or request id)")
    def audit_record(ident: str, _: Principal = Depends(admin)) -> dict[str, Any]:  # noqa: B008
        entry = parts.audit.get(ident)
        return {
            "seq": entry.seq,
            "record_hash": entry.record_hash,
            "prev_hash": entry.prev_hash,
            "record": entry.record,
        }

    return router
