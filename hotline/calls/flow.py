"""The built-in call flow: what a call gets until an IVR menu is published.

A greeting, one key press, a goodbye; every step is written to the call's path.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.calls.store import CallRecord
from hotline.core.db import utcnow
from telephony.agi import AGISession


@dataclass(frozen=True)
class BasicFlowPrompts:
    greeting: str = "hello-world"
    ask_digit: str = "beep"
    goodbye: str = "auth-thankyou"
    digit_timeout: float = 5.0


async def basic_flow(
    session: AGISession, record: CallRecord, prompts: BasicFlowPrompts = BasicFlowPrompts()
) -> None:
    """Greeting (interruptible by a key), one key press, goodbye, hang up."""
    await session.answer()
    record.answered_at = utcnow()
    record.step("answer")
    digit = await session.play(prompts.greeting, "0123456789*#")
    record.step("play", prompt=prompts.greeting)
    if digit is None:
        digit, _ = await session.collect_digits(prompts.ask_digit, timeout=prompts.digit_timeout)
    record.step("digits", value=digit or None)
    await session.play(prompts.goodbye)
    record.step("play", prompt=prompts.goodbye)
    record.outcome = "completed"
    await session.hangup()
    record.step("hangup")
