"""A simulated phone (operator or softphone): a pyVoIP phone registered to the hotline
Asterisk, run in a child process (tests/support/phone_process.py), that answers every call
and keeps the headers of each INVITE it received."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("phone_process.py")


class OperatorPhone:
    def __init__(
        self,
        settings: Any,
        extension: str,
        sip_port: int,
        rtp_low: int,
        *,
        answer: bool = True,
        hangup_after: float | None = None,
    ) -> None:
        self.extension = extension
        self.invites: list[dict[str, Any]] = []
        self.registered = asyncio.Event()
        self.errors: list[str] = []
        self._config = {
            "server": settings.sip_bind,
            "port": settings.sip_port,
            "user": extension,
            "password": settings.phones[extension],
            "sip_port": sip_port,
            "rtp_low": rtp_low,
            "answer": answer,
            "hangup_after": hangup_after,
        }
        self.answered = 0
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    def header(self, name: str) -> list[str]:
        return [str(h[name]) for h in self.invites if name in h]

    def shown_names(self) -> list[str]:
        """The caller names the phone showed: the display names of the INVITEs' From
        headers (read from the raw header: pyVoIP's own parse mangles non-ASCII names)."""
        names = []
        for headers in self.invites:
            raw = str(headers.get("From", {}).get("raw", ""))
            match = re.match(r'\s*"((?:[^"\\]|\\.)*)"', raw)
            names.append(match.group(1) if match else raw.partition("<")[0].strip())
        return names

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUNNER),
            json.dumps(self._config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(self.registered.wait(), 15)
        except TimeoutError:
            await self.stop()
            raise AssertionError(
                f"phone {self.extension} did not register: {self.errors or 'no answer'}"
            ) from None

    async def call(self, number: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"call {number}\n".encode())
        await self._process.stdin.drain()

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.errors.append(line.decode(errors="replace").strip())
                continue
            if event["event"] == "registered":
                self.registered.set()
            elif event["event"] == "invite":
                self.invites.append(event["headers"])
            elif event["event"] == "answered":
                self.answered += 1
            elif event["event"] == "error":
                self.errors.append(event["message"])

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
