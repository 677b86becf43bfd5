"""A gateway process for the two-process rate-limit test.

    python worker_proc.py <database url> <redis url> <go file> <requests>

Builds a Gateway (scripted provider) with the real governance hooks, rate limits counted in
Redis; prints ``ready``, waits for the go file, sends <requests> requests at once as the same
key, and prints a JSON line: how many were answered, how many got 429 and their retry-after.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from gateway.types import ModelRequest
from kernel.errors import RateLimited
from loregate.database import make_engine
from tests.governance.helpers import ALICE, GovRig


async def main(db_url: str, redis_url: str, go: Path, n: int) -> dict[str, object]:
    rig = GovRig(make_engine(db_url), redis_url=redis_url)
    assert rig.gateway is not None
    gateway = rig.gateway
    request = ModelRequest(model="default", messages=[{"role": "user", "content": "hi"}])
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not go.exists():  # noqa: ASYNC240
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        await asyncio.sleep(0.01)

    async def one() -> float | None:
        try:
            await gateway.invoke(request, principal=ALICE)
        except RateLimited as exc:
            return exc.retry_after
        return None

    results = await asyncio.gather(*(one() for _ in range(n)))
    limited = [r for r in results if r is not None]
    await rig.aclose()
    return {"ok": n - len(limited), "limited": len(limited), "retry_after": limited}


if __name__ == "__main__":
    out = asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])))
    print(json.dumps(out), flush=True)
