"""Test doubles shipped with loregate: everything a test, a benchmark or a demo needs instead of
a real model provider, a real embedding model or real time. Nothing here reaches the network
beyond 127.0.0.1, and no production package imports it (an import-linter contract; only the
``loregate emulator`` and ``demo`` commands do).

emulator/
    The Anthropic Messages API and the OpenAI chat API over real HTTP, so the official SDKs
    and our providers are tested on the wire: token counting, prompt caching with TTLs on an
    injected clock, scripted replies, and faults::

        with EmulatorServer(clock=clock) as emu:
            emu.faults.push(Fault.status(529), model="claude-haiku", times=2)
            provider = AnthropicProvider(api_key="test", base_url=emu.base_url)

scripted.py
    ``ScriptedProvider``: a provider in process that plays ``Reply`` and ``Fault`` steps in
    order, per model or shared, for gateway logic without HTTP::

        provider = ScriptedProvider("anthropic", Fault.status(429, retry_after=2), Reply("hi"))

faults.py
    ``Fault``: the one fault language both doubles play (status, slow, hang, reset,
    error_after_start, empty); the emulator refuses, with a clear error, what HTTP cannot
    carry::

        Fault.error_after_start()   # HTTP 200, the first events, then an error event

clock.py
    ``ManualClock``: time that moves only when told. It is a ``kernel.clock.Clock``
    (``monotonic``, ``now``), its ``sleep`` returns at once with the clock moved on (and
    recorded), and calling it reads the seconds (the emulator's form)::

        clock = ManualClock()
        gateway = Gateway(catalogue, clock=clock, sleep=clock.sleep)
        clock.advance(301)          # the emulator's 5-minute cache entries expire

embedders.py
    ``FakeEmbedder``: a bag-of-words embedder, deterministic and without torch::

        vectors = FakeEmbedder(dim=64).embed_documents(["notice period", "leave days"])

answer_service.py
    ``StubAnswerService``: answers an eval dataset's questions like a RAG service would
    (gold passages with probability ``quality``), derived from a hash, for evals without a
    model; ``FixedScorer`` scores without ragas::

        answer = await StubAnswerService(dataset.items, quality=0.9).ask(q, principal=alice)

samples.py
    ``sample_data``: the eval overview notebook's sample runs and ledger export::

        run_ids, ledger_export = sample_data(engine, home)
"""
