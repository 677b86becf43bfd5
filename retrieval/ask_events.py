"""What an ask yields as it goes (``AnswerService.ask_stream``; ``/v1/ask`` with ``stream``).

``Delta`` {text}: the answer as it is written. ``Retract`` {reason}: discard the text shown so
far (a weak or broken tier; the next one answers). ``Final`` {answer}: the ``Answer``, always the
last event, also when the answer came from the response cache or a reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.answer_types import Answer


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Retract:
    reason: str


@dataclass(frozen=True)
class Final:
    answer: Answer


AskEvent = Delta | Retract | Final
