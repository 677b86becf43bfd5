"""Resilience composed per request from the route.

    Escalation        escalation.py   tiers in order; a weak answer (the caller's judge) or a
                                      failed tier moves the request up
    Tier              tier.py         a tier's model, then each fallback; a complete answer
                                      in one loop made of the same decisions as the wrappers
                                      below, which a stream goes through
    Fallback          fallback.py     a tier's model, then each fallback (streams)
    Recorded          model_call.py   one AttemptRecord per model tried (cost, latency, TTFT)
    Retry             retry.py        a plain loop on the injected sleep, honours retry-after
    Circuit           breaker.py      a circuit per provider/model on the injected clock
    AttemptTimeout    timeout.py      per attempt, capped by the tier's Deadline; with a
                                      circuit, the attempt's breaker too (admission, outcome)
    Pinned            model_call.py   the pinned model id on the request

``plan.py`` resolves a route to the available models and composes the chain; ``streams.py``
holds the commit point (the first content event) before which a stream may still be retried,
and ``Handoff``, by which the layers that only choose a stream (Retry, Fallback, Escalation
without a judge) hand the chosen one to their caller instead of relaying each event.
"""
