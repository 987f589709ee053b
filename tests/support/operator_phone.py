"""A simulated operator phone: a pyVoIP phone registered to the hotline Asterisk that answers
every call and keeps the headers of each INVITE it received."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pyVoIP.VoIP import PhoneStatus, VoIPPhone


class OperatorPhone:
    def __init__(self, settings: Any, extension: str, sip_port: int, rtp_low: int) -> None:
        self.extension = extension
        self.invites: list[dict[str, Any]] = []
        self.calls: list[Any] = []
        self.phone = VoIPPhone(
            settings.sip_bind,
            settings.sip_port,
            extension,
            settings.phones[extension],
            myIP="127.0.0.1",
            sipPort=sip_port,
            rtpPortLow=rtp_low,
            rtpPortHigh=rtp_low + 40,
            callCallback=self._ring,
        )

    def _ring(self, call: Any) -> None:
        self.invites.append(dict(call.request.headers))
        self.calls.append(call)
        call.answer()

    def header(self, name: str) -> list[str]:
        return [str(h[name]) for h in self.invites if name in h]

    def shown_names(self) -> list[str]:
        return [h["From"]["caller"] for h in self.invites if "From" in h]

    async def start(self) -> None:
        await asyncio.to_thread(self.phone.start)
        deadline = time.monotonic() + 10
        while self.phone.get_status() != PhoneStatus.REGISTERED:
            if time.monotonic() > deadline:
                raise AssertionError(f"phone {self.extension} did not register")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        await asyncio.to_thread(self.phone.stop)
