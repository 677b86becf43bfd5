"""Redact log records as they are created, whatever handler later writes them.

``install_log_redaction`` wraps the logging record factory: each record's message (arguments
merged in) and any exception text pass through the redactor before a handler sees them.
Records of presidio's own loggers are left alone (no recursion), and so is a record created
while redacting. A redactor with ``redact_nowait`` (``PiiRedactor``) is used through it, so a
log call never waits for presidio to load.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol


class TextRedactor(Protocol):
    def redact(self, text: str) -> str: ...


_SKIP = ("presidio", "presidio-analyzer")
_state = threading.local()
_installed: dict[str, Any] = {}


def install_log_redaction(redactor: TextRedactor) -> None:
    """Idempotent: a second call only swaps the redactor."""
    _installed["redactor"] = redactor
    if "previous" in _installed:
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    _installed["previous"] = previous

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if getattr(_state, "busy", False) or record.name.startswith(_SKIP):
            return record
        _state.busy = True
        try:
            red: TextRedactor = _installed["redactor"]
            redact = getattr(red, "redact_nowait", red.redact)
            record.msg = redact(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[0] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = redact(text.rstrip("\n"))
                record.exc_info = None
        except Exception:  # a broken redactor must not break logging; drop the message
            record.msg, record.args = "<log message dropped: redaction failed>", None
        finally:
            _state.busy = False
        return record

    logging.setLogRecordFactory(factory)


def uninstall_log_redaction() -> None:
    previous = _installed.pop("previous", None)
    if previous is not None:
        logging.setLogRecordFactory(previous)
    _installed.pop("redactor", None)
