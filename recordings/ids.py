"""Recording ids are Asterisk unique ids (``hotline-1795978848.0``); they name files.

Every id that reaches the file system or a URL is checked here first: letters, digits,
'_', '-' and single dots between them, so no id can climb out of a folder (``..``, ``/``)
or hide as a dot-file.
"""

from __future__ import annotations

import re

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*$")
MAX_ID_LENGTH = 64


class RecordingIdError(ValueError):
    """An id or file name that is not a recording id; the message says what is allowed."""

    error_id = "recording-id-invalid"


def check_recording_id(value: str) -> str:
    """Return `value` when it is a safe recording id; raise RecordingIdError otherwise."""
    if not value or len(value) > MAX_ID_LENGTH or not _ID.match(value):
        raise RecordingIdError(
            f"{value[:80]!r} is not a recording id: use up to {MAX_ID_LENGTH} letters, digits, "
            "'_', '-' and single dots between them"
        )
    return value
