"""What the console is given by the composition root: the API's own services, plus the
session store, the usage rollup and a dashboard executor of its own.

Every blocking call of the console runs on ``executor`` (a small thread pool of its own) and
every usage query on ``dashboard_engine`` (a connection pool of its own): a slow dashboard
query then waits for the console's threads and connections, never for the gateway's.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy import Engine

from console.rollup import UsageRollup
from console.sessions import SessionStore
from governance.parts import GovernanceParts
from kernel.errors import NotFound
from retrieval.answer import AnswerService
from retrieval.review import ReviewQueue

if TYPE_CHECKING:
    from evals.run_store import RunStore
    from gateway.service import Gateway
    from governance.billing.service import Billing
    from ingest.api import JobRequest
    from ingest.jobs import JobStore
    from ingest.pipeline import Ingestor

P = ParamSpec("P")
T = TypeVar("T")


def configured(part: T | None, what: str) -> T:
    """``part``, or ``NotFound`` naming what this deployment lacks."""
    if part is None:
        raise NotFound(f"{what} is not configured")
    return part


def dashboard_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="console")


@dataclass
class ConsoleServices:
    parts: GovernanceParts
    answers: AnswerService
    review: ReviewQueue | None
    sessions: SessionStore
    rollup: UsageRollup
    dashboard_engine: Engine
    ingestor: Ingestor | None = None
    gateway: Gateway | None = None  # audit replays go through it
    jobs: JobStore | None = None
    # ``ingest.api.submit_job`` bound to the app's ingestor, roots and runner: (request, by) -> id
    start_job: Callable[[JobRequest, str], str] | None = None
    runs: RunStore | None = None
    billing: Billing | None = None  # savings per department and month
    collection: str = "loregate"
    executor: ThreadPoolExecutor = field(default_factory=dashboard_executor)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` on the console's own threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))
