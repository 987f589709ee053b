"""Asterisk queue membership over AMI: read it (QueueStatus), change it (QueueAdd, QueueRemove,
QueuePause). Values are checked for line breaks by the AMI protocol before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass

from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event

#: device states (AST_DEVICE_*) in which a member is busy with a call
BUSY_STATES = frozenset({2, 3, 6, 7, 8})


@dataclass(frozen=True)
class QueueMember:
    queue: str
    interface: str
    name: str
    state_interface: str
    dynamic: bool
    paused: bool
    paused_reason: str
    in_call: bool
    status: int

    @property
    def busy(self) -> bool:
        return self.in_call or self.status in BUSY_STATES

    @classmethod
    def from_event(cls, event: Event) -> QueueMember:
        def number(name: str) -> int:
            try:
                return int(event.get(name, "0") or 0)
            except ValueError:
                return 0

        return cls(
            queue=event.get("Queue", "") or "",
            interface=event.get("Location") or event.get("Interface") or "",
            name=event.get("Name") or event.get("MemberName") or "",
            state_interface=event.get("StateInterface", "") or "",
            dynamic=(event.get("Membership", "") or "").lower() == "dynamic",
            paused=number("Paused") == 1,
            paused_reason=event.get("PausedReason", "") or "",
            in_call=number("InCall") == 1,
            status=number("Status"),
        )


async def queue_status(ami: AMIClient, queue: str | None = None) -> dict[str, list[QueueMember]]:
    """Queue -> its members, for every queue Asterisk knows (or just `queue`)."""
    _, events = await ami.action_list("QueueStatus", {"Queue": queue} if queue else {})
    queues: dict[str, list[QueueMember]] = {}
    for event in events:
        if event.name == "QueueParams":
            queues.setdefault(event.get("Queue", "") or "", [])
        elif event.name == "QueueMember":
            member = QueueMember.from_event(event)
            queues.setdefault(member.queue, []).append(member)
    return queues


async def add_member(
    ami: AMIClient,
    queue: str,
    interface: str,
    *,
    name: str = "",
    state_interface: str = "",
    paused: bool = False,
    reason: str = "",
) -> None:
    headers: dict[str, object] = {
        "Queue": queue,
        "Interface": interface,
        "Paused": "true" if paused else "false",
        "MemberName": name or interface,
        "StateInterface": state_interface or interface,
    }
    if paused and reason:
        headers["Reason"] = reason
    await ami.action("QueueAdd", headers)


async def remove_member(ami: AMIClient, queue: str, interface: str) -> None:
    await ami.action("QueueRemove", {"Queue": queue, "Interface": interface})


async def pause_member(
    ami: AMIClient, interface: str, paused: bool, *, reason: str = "", queue: str | None = None
) -> None:
    """Pause or unpause `interface` in `queue` (every queue it is in when None)."""
    headers: dict[str, object] = {"Interface": interface, "Paused": "true" if paused else "false"}
    if queue:
        headers["Queue"] = queue
    if reason:
        headers["Reason"] = reason
    await ami.action("QueuePause", headers)
