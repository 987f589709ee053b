"""The short version of `hotline bench calls`: 20 real calls at once walk the default menu
with DTMF and a speech step; none is lost."""

from __future__ import annotations

import pytest

from hotline.bench.calls import run_calls
from hotline.devtools.carrier import Carrier

pytestmark = pytest.mark.sandbox


async def test_twenty_calls_walk_the_menu_and_none_is_lost(
    start_service, carrier: Carrier, sandbox
) -> None:
    service = await start_service(speech=True, recordings_enabled=False)
    service.ivr.configured_router = lambda: None  # the menu's own rules, not the roster
    report = await run_calls(service, carrier, sandbox, 20, ramp=3.0, deadline=120)
    assert report.lost == 0, report
    assert report.completed == 20
    # Every call went through several AGI steps (answer, prompts, key presses, speech).
    assert report.agi_steps >= 20 * 5
    assert set(report.queues) == {"intake"}, report.queues
