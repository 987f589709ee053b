"""A simulated caller who presses keys when a menu listens, not at fixed times.

A citizen hears the menu and presses a key. The carrier's timed script (`Carrier.call` with
`script="7.7:1|9.2:3"`) guesses when each menu will listen from the prompts' lengths; a key
that arrives early, during the greeting that cannot be interrupted, is lost and the call takes
another path. This caller instead watches the hotline Asterisk's AMI: each ``AGIExecStart`` of
a ``GET DATA`` on its channel is a menu that has started listening, and the next key is sent
(RFC 4733, from the carrier's side of the call) a moment later. When a speech step starts
listening (an ``EXEC AudioSocket``), the carrier is told to play the caller's words then (its
channel is redirected to ``caller,speak``). It stops at the first of: the call joining a queue,
either side hanging up, or the time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hotline.devtools.carrier import Carrier
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event


@dataclass
class MenuCall:
    """What happened to a call placed by `call_through_menu`, as the two Asterisks told."""

    number: str
    #: the menus that listened (their prompts' names), in order
    menus: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    #: the queue the call joined, if it did
    queue: str | None = None
    #: the dialplan sent the call to a human without the controller (it is down or slow)
    degraded: bool = False
    #: the call ended before reaching a queue
    ended: bool = False
    #: the carrier's side of the call (``PJSIP/hotline-…``) once the hotline answered
    channel: str = ""
    #: the hotline's side (``PJSIP/carrier-…``)
    hotline_channel: str = ""
    #: the caller spoke into a speech step
    spoke: bool = False


def menu_prompt(command: str) -> str:
    """``GET DATA "/…/choose-language-1a2b" 5000 1`` -> ``choose-language-1a2b``."""
    argument = command.removeprefix("GET DATA").strip()
    if argument.startswith('"'):
        argument = argument[1:].partition('"')[0]
    else:
        argument = argument.partition(" ")[0]
    return argument.rsplit("/", 1)[-1]


async def call_through_menu(
    carrier: Carrier,
    hotline: AMIClient,
    *,
    number: str = "13800138000",
    name: str = "",
    keys: str | Sequence[str] = "12",
    think: float = 1.0,
    speech: str = "",
    timeout: float = 120.0,
    on_progress: Callable[[str], None] | None = None,
) -> MenuCall:
    """Call 12345 from `number` and press one of `keys` in each menu that listens, `think`
    seconds after it starts (an entry of several keys, e.g. a work-order number and "#", is
    keyed one key after the other into a step that collects digits); when a speech step
    listens, play `speech` (a sound file of the carrier, without extension) into it. Return
    once the call joins a queue or ends, or after `timeout` seconds (the call is then still
    up: see `hang_up`).

    `hotline` is a connected AMI client of the hotline Asterisk (any user that reads agi and
    call events); `carrier` is connected to the carrier's."""
    call = MenuCall(number)
    menus: asyncio.Queue[str] = asyncio.Queue()
    listening = asyncio.Event()  # a speech step has started
    answered = asyncio.Event()
    finished = asyncio.Event()

    def progress(message: str) -> None:
        if on_progress is not None:
            on_progress(message)

    def mine(event: Event) -> bool:
        return event.get("CallerIDNum") == number

    def on_hotline(event: Event) -> None:
        if not mine(event) or finished.is_set():
            return
        channel = event.get("Channel", "") or ""
        if not call.hotline_channel:
            if event.name != "Newchannel":
                return
            call.hotline_channel = channel
        if channel != call.hotline_channel:
            return  # another leg with this caller id (a transfer, an operator's phone)
        if event.name == "AGIExecStart":
            command = event.get("Command", "") or ""
            if command.startswith("GET DATA"):
                menus.put_nowait(menu_prompt(command))
            elif command.startswith("EXEC AudioSocket"):
                listening.set()
        elif event.name == "UserEvent" and event.get("UserEvent") == "HotlineDegraded":
            call.degraded = True
            progress("the controller did not take the call: the dialplan sends it to intake")
        elif event.name == "QueueCallerJoin":
            call.queue = event.get("Queue", "") or ""
            progress(f"joined queue {call.queue}")
            finished.set()
        elif event.name == "Hangup":
            call.ended = True
            progress("the hotline hung up")
            finished.set()

    def on_carrier(event: Event) -> None:
        if event.name == "OriginateResponse" and mine(event):
            if event.get("Response") == "Success":
                call.channel = event.get("Channel", "") or ""
                progress("the hotline answered")
                answered.set()
            else:
                call.ended = True
                progress(f"the call failed: {event.get('Reason', '?')}")
                finished.set()
        elif event.name == "Hangup" and call.channel and event.get("Channel") == call.channel:
            call.ended = True
            finished.set()

    async def press_keys() -> None:
        for key in keys:
            prompt = await menus.get()
            call.menus.append(prompt)
            await answered.wait()
            await asyncio.sleep(think)
            progress(f"menu {prompt} is listening: pressing {key}")
            for i, digit in enumerate(key):
                if i:
                    await asyncio.sleep(0.4)  # a digit's 200 ms and a gap, as a finger keys
                await carrier.ami.action(
                    "PlayDTMF", {"Channel": call.channel, "Digit": digit, "Duration": 200}
                )
            call.pressed.append(key)

    async def speak() -> None:
        await listening.wait()
        await answered.wait()
        progress("the speech step is listening: speaking")
        await carrier.ami.action(
            "Setvar", {"Channel": call.channel, "Variable": "CALL_AUDIO", "Value": speech}
        )
        await carrier.ami.action(
            "Redirect",
            {"Channel": call.channel, "Context": "caller", "Exten": "speak", "Priority": 1},
        )
        call.spoke = True

    unsubscribe = [
        hotline.on_event(name, on_hotline)
        for name in ("Newchannel", "AGIExecStart", "UserEvent", "QueueCallerJoin", "Hangup")
    ]
    unsubscribe += [carrier.ami.on_event(n, on_carrier) for n in ("OriginateResponse", "Hangup")]
    tasks: list[asyncio.Task[object]] = []
    try:
        # The carrier's dialplan keeps the line open; the call ends by `hang_up` or the hotline.
        await carrier.call(number=number, name=name, delay=0, hold=timeout + 60)
        progress(f"calling {carrier.called} from {name or '-'} <{number}>")
        deadline = asyncio.get_running_loop().time() + timeout
        presser = asyncio.create_task(press_keys(), name=f"keys-{number}")
        waiting = asyncio.create_task(finished.wait())
        tasks = [presser, waiting]
        if speech:
            tasks.append(asyncio.create_task(speak(), name=f"speak-{number}"))
        done, _ = await asyncio.wait(tasks[:2], timeout=timeout, return_when="FIRST_COMPLETED")
        if presser in done:
            presser.result()  # raises if a key could not be sent
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await waiting
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stop in unsubscribe:
            stop()
    return call


async def hang_up(carrier: Carrier, call: MenuCall) -> None:
    """End the call from the caller's side (nothing happens if it has ended)."""
    if call.channel:
        await carrier.ami.action("Hangup", {"Channel": call.channel}, check=False)
