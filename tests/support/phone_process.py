"""Runs one pyVoIP phone in a child process (see tests/support/operator_phone.py).

pyVoIP's threads can block for good (a lost SIP reply leaves `call()` or `stop()` waiting on
a lock), and a blocked thread would keep the test process from exiting; in a child process
a stuck phone is simply killed. Protocol: one JSON object on argv; JSON lines on stdout:
{"event": "registered"}, {"event": "invite", "headers": {...}}, {"event": "calling"},
{"event": "error", "message": ...}. A line "call <number>" on stdin places a call.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from typing import Any

from pyVoIP.VoIP import PhoneStatus, VoIPPhone

# pyVoIP prints its own messages to stdout; events go to the real stdout, its prints to stderr.
EVENTS = sys.stdout
sys.stdout = sys.stderr


def emit(**event: Any) -> None:
    EVENTS.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    EVENTS.flush()


def main() -> None:
    config = json.loads(sys.argv[1])

    def ring(call: Any) -> None:
        emit(event="invite", headers=dict(call.request.headers))
        if config.get("answer", True):
            call.answer()
            emit(event="answered")
            if config.get("hangup_after"):
                threading.Timer(config["hangup_after"], call.hangup).start()

    phone = VoIPPhone(
        config["server"],
        config["port"],
        config["user"],
        config["password"],
        myIP="127.0.0.1",
        sipPort=config["sip_port"],
        rtpPortLow=config["rtp_low"],
        rtpPortHigh=config["rtp_low"] + 40,
        callCallback=ring,
    )
    # pyVoIP numbers its Call-IDs and branches from counters that start at 1 in every process:
    # a second phone within a transaction's lifetime would repeat the first one's ids, and
    # Asterisk would take its INVITE for a retransmission. Start them somewhere unique.
    offset = random.randrange(1_000, 1_000_000_000)  # CSeq numbers stay below 2**31
    for counter in (
        phone.sip.inviteCounter,
        phone.sip.registerCounter,
        phone.sip.subscribeCounter,
        phone.sip.byeCounter,
        phone.sip.callID,
        phone.sip.sessID,
    ):
        counter.x = offset
    phone.start()
    deadline = time.monotonic() + 10
    while phone.get_status() != PhoneStatus.REGISTERED:
        if time.monotonic() > deadline:
            emit(event="error", message="did not register within 10 s")
            return
        time.sleep(0.05)
    emit(event="registered")
    for line in sys.stdin:
        verb, _, arg = line.strip().partition(" ")
        if verb == "call":
            phone.call(arg)
            emit(event="calling", number=arg)


if __name__ == "__main__":
    main()
