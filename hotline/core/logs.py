"""Logging set-up: every line carries the unique id of the call it concerns (or '-').

A caller's personal data never goes into a log message itself. A call site that has some to
tell hands it over as ``extra={"personal": {"caller_number": ..., "text": ...}}``; the
handler set up here shows it after the message as `hotline.core.privacy.View.for_logs`
allows: numbers masked (138****8000) and nothing else, unless `HOTLINE_LOG_PERSONAL_DATA=true`
asks for all of it (for debugging). Handlers that are not set up here show none of it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from hotline.core.privacy import View
from telephony.agi import current_call_id

TEXT_FORMAT = "%(asctime)s %(levelname)-7s call=%(call_id)s %(name)s: %(message)s%(personal_text)s"


class CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = current_call_id.get() or "-"
        return True


class PersonalDataFilter(logging.Filter):
    """Turns a record's `personal` data into what the logs may show of it: `personal` is
    replaced by the shown part (so no handler after this one sees more), and
    `personal_text` is that part as text for the line (empty when nothing is shown)."""

    def __init__(self, personal_data: bool = False) -> None:
        super().__init__()
        self.view = View.for_logs(personal_data)

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "personal_checked", False):
            personal = getattr(record, "personal", None)
            shown = self.view.personal(personal) if isinstance(personal, Mapping) else {}
            record.personal = shown
            record.personal_text = (
                " [" + "; ".join(f"{k}={v}" for k, v in shown.items()) + "]" if shown else ""
            )
            record.personal_checked = True
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "call_id": getattr(record, "call_id", "-"),
            "message": record.getMessage(),
        }
        shown = (
            getattr(record, "personal", None) if getattr(record, "personal_checked", 0) else None
        )
        if shown:
            payload["personal"] = shown
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure(
    level: str = "INFO",
    as_json: bool = False,
    personal_data: bool = False,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to `stream` (stderr) at `level`; `personal_data` shows callers' full numbers,
    names and words (`HOTLINE_LOG_PERSONAL_DATA`). Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(CallIdFilter())
    handler.addFilter(PersonalDataFilter(personal_data))
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel("WARNING")
    logging.getLogger("alembic").setLevel("WARNING")
    return handler
