"""Cost per answer: loregate vs a naive RAG baseline, the same 100 questions, one run, both
through loregate's gateway against the bundled Claude emulator (prices from the model config).

- naive: dense search, the top 10 chunks stuffed into the prompt, always Sonnet, no caching;
- loregate: hybrid search, the context builder (relevance floor, near-duplicates, budget,
  adjacent merge), Haiku first with the answer judge (a weak answer escalates to Sonnet, then
  Opus), the prompt laid out for caching (prefix padded when the cache plan says it pays).

Corpus and questions: ../shared/data/anthropic_docs_rag, indexed as benchmarks/
retrieval_quality.py does. The emulator answers every model the same, extractively (the source
sentence closest to the question, with its citation; "not in the sources" when nothing
matches), so the share of Haiku answers reflects the judge on such answers. ``--haiku-miss``
makes Haiku answer "The sources do not contain the answer." for that share of the questions
(chosen by a hash), to see the cost when more questions escalate.

Two deployments, each with the naive baseline and loregate on the same questions:
  A. the answer template alone as the system prompt (~330 tokens: too short to cache);
  B. the same plus standing knowledge: the corpus's glossary page (11 entries, ~1.7k tokens),
     in the naive prompt too (uncached there).

A third row asks the same questions on the ``free-first`` route: the extractive answerer first
($0, milliseconds; the bundled embedder breaks its ties), what it is not confident of goes on
to Haiku, Sonnet, Opus. It prints the share the extractive tier absorbed, the cost against
Haiku-first, and the quality of both against the reference answers (token F1; cites a gold
chunk). The emulator's own answers are extractive too, so the quality gap shown here is smaller
than against a real Claude.

Prints $ per 1,000 answers, the cache-read share of input tokens, the share answered by the
Haiku tier, the recall of the chunks sent (gold chunks among them), and, when answers escalate,
their share of loregate's cost (an escalated answer pays for the Haiku call and the same prompt
again at Sonnet's prices, three times Haiku's; caches are per model). Target: loregate at least
70 % cheaper than the naive baseline at equal or better recall.

    .venv/bin/python benchmarks/cost_per_answer.py [--haiku-miss 0.2] [--questions 100]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_quality import DATA, FLT, GOLD, build_index  # noqa: E402

from evals.metrics.answer_overlap import token_f1  # noqa: E402
from gateway.hooks import NoGovernance  # noqa: E402
from gateway.ledger import MemoryLedger  # noqa: E402
from gateway.service import Gateway  # noqa: E402
from gateway.types import ModelRequest  # noqa: E402
from governance.billing.savings import savings  # noqa: E402
from governance.billing.usage import AttemptRow, Prices, from_ledger_rows, prices_from  # noqa: E402
from governance.redaction import NullRedactor  # noqa: E402
from kernel.principal import Principal  # noqa: E402
from loregate.graph import Loregate  # noqa: E402
from loregate.overrides import Overrides  # noqa: E402
from loregate.settings import load_settings  # noqa: E402
from retrieval.answer import AnswerService  # noqa: E402
from retrieval.answer_types import Answer  # noqa: E402
from retrieval.embedder import Embedder  # noqa: E402
from retrieval.prompt_layout import PROMPT_ID, natural_prefix  # noqa: E402
from retrieval.prompt_source import PackagedPrompts  # noqa: E402
from retrieval.sparse import SparseEncoder  # noqa: E402
from retrieval.store.base import IndexStore  # noqa: E402
from testkit.emulator import EmulatorServer, default_answer, last_user_text  # noqa: E402

ASKER = Principal(user_id="bench", department="eng")
# the other rows of the run, kept apart on the ledger (billing's savings read ``eng``'s rows)
NAIVE = Principal(user_id="bench", department="naive")
FREE_FIRST = Principal(user_id="bench", department="free-first")
NAIVE_K = 10
NOT_IN = "The sources do not contain the answer."


@dataclass
class Tally:
    cost: float = 0.0
    input: int = 0
    cache_write: int = 0
    cache_read: int = 0
    haiku: int = 0
    confident: int = 0
    escalated: int = 0  # answers whose first tier's answer was judged weak
    later_tiers_cost: float = 0.0  # what the calls past the first tier cost
    recall: list[float] = field(default_factory=list)
    chunks_sent: list[int] = field(default_factory=list)
    extractive: int = 0  # answered by the extractive tier
    f1: list[float] = field(default_factory=list)  # token F1 of confident answers
    cites_gold: int = 0  # confident answers citing a gold chunk

    def input_all(self) -> int:
        return self.input + self.cache_write + self.cache_read


def haiku_responder(rate: float) -> Any:
    def respond(body: dict[str, Any]) -> str:
        question = last_user_text(body).rsplit("Question:", 1)[-1].strip()
        bucket = int(hashlib.sha256(question.encode()).hexdigest()[:8], 16) % 1000
        return NOT_IN if bucket < rate * 1000 else default_answer(body)

    return respond


def gold_of(store: IndexStore, ids: list[str]) -> set[str]:
    return {str(c.payload[GOLD]) for c in store.retrieve(ids)}


def glossary(chunks: list[dict[str, str]]) -> str:
    return "\n\n".join(c["text"].strip() for c in chunks if "/glossary#" in c["chunk_link"])


async def naive(
    gw: Gateway,
    store: IndexStore,
    embedder: Embedder,
    system: str,
    q: dict[str, Any],
    tally: Tally,
) -> None:
    hits = await asyncio.to_thread(
        store.search_dense, embedder.embed_query(q["question"]), FLT, NAIVE_K
    )
    sources = "\n\n".join(f"[{i}] {h.payload['text']}" for i, h in enumerate(hits, start=1))
    request = ModelRequest(
        model="claude-sonnet-4-6",
        system=system,
        messages=[
            {"role": "user", "content": f"Sources:\n\n{sources}\n\nQuestion: {q['question']}"}
        ],
        max_tokens=600,
        temperature=0.0,
    )
    result = await gw.invoke(request, principal=NAIVE, source="eval")
    u = result.usage
    tally.cost += result.cost_usd
    tally.input += u.input_tokens
    tally.cache_write += u.cache_creation_input_tokens
    tally.cache_read += u.cache_read_input_tokens
    tally.confident += 1
    gold = set(q["correct_chunks"])
    tally.recall.append(len(gold & {str(h.payload[GOLD]) for h in hits}) / len(gold))
    tally.chunks_sent.append(len(hits))


def tally_answer(t: Tally, answer: Answer) -> None:
    """Add one answer's cost, tokens and escalation to the tally."""
    t.cost += answer.cost_usd
    t.input += answer.tokens.input
    t.cache_write += answer.tokens.cache_write
    t.cache_read += answer.tokens.cache_read
    t.haiku += int(answer.confident and answer.model == "claude-haiku-4-5")
    t.confident += int(answer.confident)
    t.escalated += int(any(step.outcome == "escalated" for step in answer.escalations))
    t.later_tiers_cost += sum(step.cost_usd for step in answer.escalations if step.tier > 0)


def cache_read_share(t: Tally) -> float:
    """Cache reads among all input tokens."""
    return t.cache_read / max(1, t.input_all())


def later_tiers_share(t: Tally) -> float:
    """The share of the cost spent on the tiers past the first."""
    return t.later_tiers_cost / t.cost if t.cost else 0.0


async def ours(
    service: AnswerService,
    store: IndexStore,
    q: dict[str, Any],
    t: Tally,
    route: str | None = None,
    principal: Principal = ASKER,
) -> None:
    sources = await service.retrieve(q["question"], principal=principal, filters=None, route=route)
    answer = await service.ask(q["question"], principal=principal, source="eval", route=route)
    tally_answer(t, answer)
    ids = [cid for s in sources for cid in s.chunk_ids]
    gold = set(q["correct_chunks"])
    t.recall.append(len(gold & gold_of(store, ids)) / len(gold))
    t.chunks_sent.append(len(ids))
    if answer.confident:
        t.extractive += int(answer.model == "extractive")
        t.f1.append(token_f1(answer.answer, q["correct_answer"]))
        cited = [c.chunk_id for c in answer.citations]
        t.cites_gold += int(bool(gold & gold_of(store, cited)))


def line(name: str, t: Tally, n: int) -> str:
    return (
        f"{name:<10} ${t.cost / n * 1000:>8.3f} per 1,000 answers · input tokens/answer "
        f"{t.input_all() / n:>6.0f} (cache read {cache_read_share(t):>5.1%}, "
        f"write {t.cache_write / max(1, t.input_all()):>5.1%}) · Haiku answered "
        f"{t.haiku / n:>5.1%} · confident {t.confident / n:>5.1%} · chunks sent "
        f"{sum(t.chunks_sent) / n:>4.1f} · recall of chunks sent "
        f"{sum(t.recall) / len(t.recall):.3f}"
    )


async def run(args: argparse.Namespace) -> None:
    chunks = json.loads((args.data / "anthropic_docs.json").read_text())
    questions = json.loads((args.data / "docs_evaluation_dataset.json").read_text())
    questions = questions[: args.questions]
    embedder, sparse = Embedder(), SparseEncoder()
    store, secs = build_index(chunks, embedder, sparse, prefix=True)
    print(f"indexed {store.count()} pieces in {secs:.0f} s; {len(questions)} questions")

    for label, knowledge in (("A", ""), ("B", glossary(chunks))):
        print(
            f"\n== deployment {label}: "
            f"{'template only' if not knowledge else 'template + glossary standing knowledge'}"
        )
        base, mine, free, rows = await scenario(args, store, embedder, sparse, questions, knowledge)
        report(base, mine, len(questions))
        from_the_ledger(mine, rows, len(questions))
        free_first(mine, free, len(questions))
    store.close()


async def scenario(
    args: argparse.Namespace,
    store: IndexStore,
    embedder: Embedder,
    sparse: SparseEncoder,
    questions: list[dict[str, Any]],
    knowledge: str,
) -> tuple[Tally, Tally, Tally, tuple[list[AttemptRow], Prices]]:
    async def no_sleep(_s: float) -> None:
        return None

    with EmulatorServer() as emu, tempfile.TemporaryDirectory(prefix="lg-cost-") as tmp:
        if args.haiku_miss > 0:
            emu.set_responder("claude-haiku-4-5", haiku_responder(args.haiku_miss))
        home = Path(tmp)
        standing = None
        if knowledge:
            standing = home / "standing.md"
            standing.write_text(knowledge, encoding="utf-8")
        settings = load_settings(
            home=home,
            anthropic_api_key="bench",
            anthropic_base_url=emu.base_url,
            asks_per_cache_window=args.per_window,
            standing_knowledge=standing,
        )
        prompts = PackagedPrompts()
        ledger = MemoryLedger()
        graph = Loregate(  # the app's graph: no governance, the ledger in memory
            settings,
            Overrides(
                providers={"openai": None, "local": None},
                stores={settings.collection: store},
                embedder=embedder,
                prompts=prompts,
                ledger=ledger,
                hooks=NoGovernance(),
                redactor=NullRedactor(),
                sleep=no_sleep,
            ),
        )
        graph.migrate()
        gw, service = graph.gateway, graph.answer_service()
        prefix = await service.prefix(None)
        print(f"cache plan: {prefix.plan.reason}; prefix {prefix.tokens} tokens")
        base, mine, free = Tally(), Tally(), Tally()
        system = natural_prefix(prompts.active(PROMPT_ID).text, knowledge)
        for q in questions:
            await naive(gw, store, embedder, system, q, base)
            await ours(service, store, q, mine)
            await ours(service, store, q, free, route="free-first", principal=FREE_FIRST)
        prices = prices_from(graph.catalogue.config)
        await graph.aclose()
    rows = [r for r in from_ledger_rows(ledger.rows) if r.department == ASKER.department]
    return base, mine, free, (rows, prices)


def from_the_ledger(mine: Tally, ledgered: tuple[list[AttemptRow], Prices], n: int) -> None:
    """Billing's savings (governance.billing.savings), computed from loregate's ledger rows of
    the same run: its two ratios must equal the ones above, computed from the answers."""
    s = savings(*ledgered)
    per_k = 1000 / n / 1e9
    print(
        f"from the ledger: cache read {s.cache_read_share:.1%} of input tokens (answers: "
        f"{cache_read_share(mine):.1%}); tiers past the first {s.later_tiers_share:.1%} of the "
        f"cost (answers: {later_tiers_share(mine):.1%}); ${s.actual_nano * per_k:.3f} per 1,000"
    )
    for name, value in (
        ("without prompt caching", s.without_prompt_cache_nano),
        ("each on its final tier only", s.final_tier_only_nano),
        (f"always {s.reference_model}", s.always_reference_nano),
    ):
        saved = 1 - s.actual_nano / value if value else 0.0
        print(f"  {name:<28} ${value * per_k:>8.3f} per 1,000 answers (saved {saved:.1%})")


def report(base: Tally, mine: Tally, n: int) -> None:
    print(line("naive", base, n))
    print(line("loregate", mine, n))
    saving = 1 - mine.cost / base.cost
    if mine.escalated:
        print(
            f"escalated  {mine.escalated / n:.0%} of the answers; the tiers past the first cost "
            f"${mine.later_tiers_cost / n * 1000:.3f} per 1,000 answers "
            f"({later_tiers_share(mine):.0%} of loregate's cost)"
        )
    recall_ok = sum(mine.recall) >= sum(base.recall)
    print(
        f"loregate is {saving:.1%} cheaper than the naive baseline (target >= 70 %) at "
        f"{'equal or better' if recall_ok else 'LOWER'} recall of the chunks sent "
        f"({sum(mine.recall) / n:.3f} vs {sum(base.recall) / n:.3f}) -> "
        f"{'target met' if saving >= 0.7 and recall_ok else 'target NOT met'}"
    )


def free_first(haiku_first: Tally, free: Tally, n: int) -> None:
    def quality(t: Tally) -> str:
        answered = max(1, len(t.f1))
        return (
            f"token F1 {sum(t.f1) / answered:.3f}, cites a gold chunk "
            f"{t.cites_gold / answered:.1%} of {len(t.f1)} confident"
        )

    print(line("free-first", free, n))
    print(
        f"free-first: the extractive tier absorbed {free.extractive / n:.0%} of the questions at "
        f"$0; cost ${free.cost / n * 1000:.3f} vs ${haiku_first.cost / n * 1000:.3f} per 1,000 "
        f"answers Haiku-first ({1 - free.cost / max(haiku_first.cost, 1e-12):.0%} less)"
    )
    print(f"  quality, Haiku-first: {quality(haiku_first)}")
    print(f"  quality, free-first:  {quality(free)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument(
        "--haiku-miss",
        type=float,
        default=0.0,
        help="share of questions Haiku answers 'not in the sources' (0-1)",
    )
    ap.add_argument(
        "--per-window",
        type=float,
        default=100.0,
        help="asks per 5-minute cache window the cache plan assumes",
    )
    args = ap.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
