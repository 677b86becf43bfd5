"""Governance of the gateway: who may call, what it may cost, what was said, and proof of it.

keys, authn          API keys (sha256-stored) -> Principal; the Authenticate dependency
budgets, budget_sql, budget_redis, budget_worker
                     budget definitions; atomic reserve/settle in SQL or a Redis Lua script
estimate             the worst-case cost reserved before a call
ratelimit            requests/tokens per minute (the ``limits`` library; memory or Redis)
prompts              the prompt registry (id@version by content hash, activate, roll back)
audit, audit_record, audit_writer, audit_verify
                     the hash-chained, append-only audit log and its verification
pii_rules, pii_recognizers, redaction, log_redaction
                     PII and secret redaction (presidio offline + our recognisers)
metrics              Prometheus metrics (multiprocess-safe)
exports              billing and call exports, usage summaries (from the ledger)
governor             ``Governance``: the GovernanceHooks the Gateway calls
parts, admin_api, usage_api
                     what the wiring builds once; the admin and usage HTTP routers
"""
