"""The carrier side of the sandbox: places real SIP calls into the hotline, as citizens do."""

from __future__ import annotations

from types import TracebackType

from hotline.core.settings import Settings
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Response


class Carrier:
    """A client of the carrier Asterisk's AMI. `call` originates ``PJSIP/<number>@hotline``;
    once the hotline answers, the carrier plays `audio` and sends `digits` (RFC 4733)."""

    def __init__(self, ami: AMIClient, called: str = "12345") -> None:
        self.ami = ami
        self.called = called

    @classmethod
    def from_settings(cls, settings: Settings) -> Carrier:
        return cls(
            AMIClient(
                "127.0.0.1",
                settings.carrier_ami_port,
                settings.carrier_ami_user,
                settings.carrier_ami_secret,
                name="carrier",
                timeout=10,
            )
        )

    async def __aenter__(self) -> Carrier:
        await self.ami.connect()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.ami.close()

    async def call(
        self,
        *,
        number: str = "13800138000",
        name: str = "",
        digits: str = "",
        audio: str = "",
        delay: float = 1.0,
        hold: float = 5.0,
        called: str | None = None,
        script: str = "",
    ) -> Response:
        caller_id = f'"{name}" <{number}>' if name else f"<{number}>"
        return await self.ami.action(
            "Originate",
            {
                "Channel": f"PJSIP/{called or self.called}@hotline",
                "Context": "caller",
                "Exten": "s",
                "Priority": 1,
                "CallerID": caller_id,
                "Timeout": 15000,
                "Async": "true",
            },
            variables={
                "CALL_DIGITS": digits,
                "CALL_AUDIO": audio,
                "CALL_DELAY": f"{delay:g}",
                "CALL_HOLD": f"{hold:g}",
                # Timed inputs ("7:1|9.5:3"): see asterisk-conf/carrier/extensions.conf.
                "CALL_DTMF_SCRIPT": script,
            },
        )
