"""How a run gets its answers: the real query path, in-process or over HTTP.

- ``InProcessAnswerer`` calls ``AnswerService.ask(question, *, principal, filters, route)``
  (the same object ``POST /v1/ask`` uses).
- ``HttpAnswerer`` posts to a running loregate's ``/v1/ask`` with an evaluator key; a question
  asked as another principal uses that principal's key (``principal_keys``: user_id -> key).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from evals.dataset import DEFAULT_PRINCIPAL, EvalItem
from kernel.errors import ApiError, InvalidRequest, ProviderConnectionError
from retrieval.answer_types import Answer


class RemoteError(ApiError):
    """The remote loregate answered with an error; ``code`` and status are the server's."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Answerer(Protocol):
    mode: str

    async def answer(self, item: EvalItem) -> Answer: ...

    async def aclose(self) -> None: ...


class AskService(Protocol):
    """The part of ``retrieval``'s AnswerService a run needs (sync or async ``ask``)."""

    def ask(
        self, question: str, *, principal: Any, filters: Any = None, route: Any = None
    ) -> Any: ...


class InProcessAnswerer:
    mode = "in-process"

    def __init__(self, service: AskService, *, route: str | None = None) -> None:
        self.service = service
        self.route = route

    async def answer(self, item: EvalItem) -> Answer:
        result = self.service.ask(
            item.question,
            principal=item.principal.to_principal(),
            filters=item.filters,
            route=self.route,
        )
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, Answer):
            raise TypeError(f"AnswerService.ask returned {type(result).__name__}, not Answer")
        return result

    async def aclose(self) -> None:
        return None


class HttpAnswerer:
    mode = "url"

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        principal_keys: Mapping[str, str] | None = None,
        route: str | None = None,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidRequest(f"--url must start with http:// or https:// (got {base_url!r})")
        if not key:
            raise InvalidRequest("--url needs an evaluator key (--key or LOREGATE_EVAL_KEY)")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.principal_keys = dict(principal_keys or {})
        self.route = route
        self.client = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport
        )

    def key_for(self, item: EvalItem) -> str:
        if item.principal == DEFAULT_PRINCIPAL:
            return self.key
        try:
            return self.principal_keys[item.principal.user_id]
        except KeyError:
            raise InvalidRequest(
                f"question {item.id!r} asks as {item.principal.user_id!r}, but no key was given "
                "for that user (--principal-keys FILE maps user ids to keys)"
            ) from None

    def missing_keys(self, items: list[EvalItem]) -> list[str]:
        """User ids some question asks as and no key was given for (checked before a run)."""
        return sorted(
            {i.principal.user_id for i in items if i.principal != DEFAULT_PRINCIPAL}
            - set(self.principal_keys)
        )

    async def answer(self, item: EvalItem) -> Answer:
        body: dict[str, Any] = {"question": item.question}
        if item.filters is not None:
            body["filters"] = item.filters.model_dump(mode="json")
        if self.route:
            body["route"] = self.route
        try:
            resp = await self.client.post(
                "/v1/ask", json=body, headers={"authorization": f"Bearer {self.key_for(item)}"}
            )
        except httpx.HTTPError as exc:
            raise ProviderConnectionError(
                f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}", provider="loregate"
            ) from exc
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
                raise RemoteError(str(err["code"]), resp.status_code, str(err["message"]))
            except (ValueError, KeyError, TypeError):
                raise RemoteError("http_error", resp.status_code, resp.text[:300]) from None
        return Answer.model_validate(resp.json())

    async def aclose(self) -> None:
        await self.client.aclose()
