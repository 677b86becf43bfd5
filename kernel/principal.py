"""Who is calling: the identity every request carries through the gateway and retrieval."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    EMPLOYEE = "employee"
    DOC_OWNER = "doc_owner"
    EVALUATOR = "evaluator"
    REVIEWER = "reviewer"
    DEPT_LEAD = "dept_lead"  # sees and answers for their department's usage and budgets
    ADMIN = "admin"


class Principal(BaseModel):
    """The caller behind an API key (or the local operator on the CLI)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    department: str = ""
    project: str = ""
    groups: tuple[str, ...] = ()
    role: Role = Role.EMPLOYEE
    allowed_routes: tuple[str, ...] = Field(default=(), description="empty means any")
    allowed_models: tuple[str, ...] = Field(default=(), description="empty means any")
    key_id: str = ""
    # allocation tag (cost centre or task) written on the ledger: the key's default, or the
    # request's ``X-Loregate-Tag`` header
    tag: str = ""

    def access_tokens(self) -> list[str]:
        """The access-list tokens this principal may read (see ``retrieval.schema``)."""
        tokens = ["public", f"user:{self.user_id}"]
        if self.department:
            tokens.append(f"dept:{self.department}")
        tokens.extend(f"group:{g}" for g in self.groups)
        return sorted(set(tokens))

    def may_use_route(self, route: str) -> bool:
        return not self.allowed_routes or route in self.allowed_routes

    def may_use_model(self, alias: str) -> bool:
        return not self.allowed_models or alias in self.allowed_models


LOCAL_OPERATOR = Principal(user_id="local-operator", role=Role.ADMIN)
"""The principal of a CLI user on the machine itself (no key needed)."""
