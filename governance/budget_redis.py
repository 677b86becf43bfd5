"""Budget counters in Redis: reservation and settlement are each one Lua script (atomic).

Per budget and window, three keys share the ``{lgb}`` hash tag (one cluster slot):

    {lgb}:u:<budget id>:<window>   hash: spent, reserved (nano-USD)
    {lgb}:r:<budget id>:<window>   sorted set: open reservation ids scored by time (ms)
    {lgb}:a:<budget id>:<window>   hash: reservation id -> amount
    {lgb}:rate:<reservation id>    hash: budget id -> the exchange rate a budget set in another
                                   currency than USD was priced at (only for such budgets)

The reserve script first releases reservations older than ``stale_after_s`` (a request that
never settled), then checks every budget and reserves on all of them or none. The settle
script is idempotent (a ``{lgb}:s:<reservation id>`` marker), so a retried batch never counts
a request twice. Keys expire a while after their window ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.budgets import Budget, BudgetState, Reservation, exceeded

if TYPE_CHECKING:
    import redis

_RESERVE = """
local rid = ARGV[1]
local now = tonumber(ARGV[2])
local stale = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local n = #KEYS / 3
local out = {1}
for i = 1, n do
  local u, r, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local old = redis.call('ZRANGEBYSCORE', r, '-inf', now - stale)
  for _, m in ipairs(old) do
    local amt = tonumber(redis.call('HGET', a, m) or '0')
    redis.call('HINCRBY', u, 'reserved', 0 - amt)
    redis.call('HDEL', a, m)
    redis.call('ZREM', r, m)
  end
  local spent = tonumber(redis.call('HGET', u, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', u, 'reserved') or '0')
  local hard = tonumber(ARGV[4 + 2*i - 1])
  if spent + reserved + amount > hard or spent + reserved >= hard then
    return {0, i, spent, reserved}
  end
  out[#out + 1] = spent
  out[#out + 1] = reserved + amount
end
for i = 1, n do
  local u, r, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local ttl = tonumber(ARGV[4 + 2*i])
  redis.call('HINCRBY', u, 'reserved', amount)
  redis.call('ZADD', r, now, rid)
  redis.call('HSET', a, rid, amount)
  redis.call('EXPIRE', u, ttl)
  redis.call('EXPIRE', r, ttl)
  redis.call('EXPIRE', a, ttl)
end
return out
"""

_SETTLE = """
local rid = ARGV[1]
local actual = tonumber(ARGV[2])
local n = (#KEYS - 1) / 3
local first = redis.call('SET', KEYS[#KEYS], '1', 'NX', 'EX', 172800)
local out = {}
for i = 1, n do
  local u, r, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  if first then
    local amt = redis.call('HGET', a, rid)
    if amt then
      redis.call('HINCRBY', u, 'reserved', 0 - tonumber(amt))  -- never -0
      redis.call('HDEL', a, rid)
      redis.call('ZREM', r, rid)
    end
    redis.call('HINCRBY', u, 'spent', actual)
  end
  out[#out + 1] = tonumber(redis.call('HGET', u, 'spent') or '0')
  out[#out + 1] = tonumber(redis.call('HGET', u, 'reserved') or '0')
end
return out
"""

_TTL_S = {"day": 3 * 86400, "month": 40 * 86400}


def _keys(budget: Budget, window: str) -> list[str]:
    tail = f"{budget.id}:{window}"
    return [f"{{lgb}}:u:{tail}", f"{{lgb}}:r:{tail}", f"{{lgb}}:a:{tail}"]


class RedisBudgetCounter:
    def __init__(
        self, client: redis.Redis, *, stale_after_s: float = 900.0, prefix: str = ""
    ) -> None:
        self.client = client
        self.stale_after_s = stale_after_s
        self.prefix = prefix
        self._reserve: Any = client.register_script(_RESERVE)
        self._settle: Any = client.register_script(_SETTLE)

    def _all_keys(self, budgets: Sequence[Budget], windows: Sequence[str]) -> list[str]:
        return [self.prefix + k for b, w in zip(budgets, windows, strict=True) for k in _keys(b, w)]

    def reserve(self, budgets: Sequence[Budget], amount_nano: int, now: datetime) -> Reservation:
        ordered = tuple(sorted(budgets, key=lambda b: b.id))
        windows = tuple(b.window(now) for b in ordered)
        reservation = Reservation("rsv_" + uuid.uuid4().hex, amount_nano, ordered, windows)
        if not ordered:
            return reservation
        args: list[int | str] = [
            reservation.id,
            int(now.timestamp() * 1000),
            int(self.stale_after_s * 1000),
            amount_nano,
        ]
        for b in ordered:
            args += [b.hard_limit_nano, _TTL_S[b.period]]
        out = [int(x) for x in self._reserve(keys=self._all_keys(ordered, windows), args=args)]
        if out[0] == 0:
            i = out[1] - 1
            raise exceeded(BudgetState(ordered[i], windows[i], out[2], out[3]), amount_nano)
        for i, (b, w) in enumerate(zip(ordered, windows, strict=True)):
            reservation.states.append(BudgetState(b, w, out[1 + 2 * i], out[2 + 2 * i]))
        priced = [b for b in ordered if b.rate]
        if priced:  # a record of the rate used, kept as long as a settle marker
            key = f"{self.prefix}{{lgb}}:rate:{reservation.id}"
            pipe = self.client.pipeline(transaction=False)
            for b in priced:
                pipe.hset(key, str(b.id), str(b.rate))
            pipe.expire(key, 172800)
            pipe.execute()
        return reservation

    def settle(self, reservation: Reservation, actual_nano: int) -> list[BudgetState]:
        return self.settle_many([(reservation, actual_nano)])[0]

    def settle_many(self, items: Sequence[tuple[Reservation, int]]) -> list[list[BudgetState]]:
        """Settle several reservations in one round trip (each script stays atomic)."""
        pipe = self.client.pipeline(transaction=False)
        todo = [(r, actual) for r, actual in items if r.budgets]
        for r, actual in todo:
            keys = [*self._all_keys(r.budgets, r.windows), f"{self.prefix}{{lgb}}:s:{r.id}"]
            self._settle(keys=keys, args=[r.id, actual], client=pipe)
        replies = iter(pipe.execute() if todo else [])
        results: list[list[BudgetState]] = []
        for r, _ in items:
            if not r.budgets:
                results.append([])
                continue
            out = [int(x) for x in next(replies)]
            results.append(
                [
                    BudgetState(b, w, out[2 * i], out[2 * i + 1])
                    for i, (b, w) in enumerate(zip(r.budgets, r.windows, strict=True))
                ]
            )
        return results

    def usage(self, budgets: Sequence[Budget], now: datetime) -> list[BudgetState]:
        states = []
        pipe = self.client.pipeline(transaction=False)
        windows = [b.window(now) for b in budgets]
        for b, w in zip(budgets, windows, strict=True):
            pipe.hmget(self.prefix + _keys(b, w)[0], ["spent", "reserved"])
        for b, w, (spent, reserved) in zip(budgets, windows, pipe.execute(), strict=True):
            states.append(BudgetState(b, w, int(spent or 0), int(reserved or 0)))
        return states
