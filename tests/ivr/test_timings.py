"""The simulated answer-to-queue times of the default menu's paths (a simulated clock: prompt
lengths from their texts, a caller who takes a second per key)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hotline.cli import app
from hotline.ivr.ports import classify_text, requested_service, static_router
from ivr.document import default_menu_text, load, parse_text
from ivr.timings import PATHS, estimated_seconds, menu_timings, table


async def test_every_path_of_the_default_menu_reaches_its_destination() -> None:
    menu = load(parse_text(default_menu_text()))
    seconds_of = estimated_seconds(menu)
    timings = await menu_timings(
        menu,
        seconds_of,
        router=static_router(),
        classify=classify_text,
        requested_service=requested_service,
    )
    found = {t.path.name: t for t in timings}
    assert len(found) == len(PATHS)
    assert {name: t.destination for name, t in found.items()} == {
        "speak: an ordinary request": "intake",
        "speak: emergency, key 1 (hand-off)": "119",
        "speak: emergency, key 2 (go on)": "intake",
        "speak: emergency, no key": "intake",
        "speak: 帮我转120 (explicit)": "120",
        "0 during the speech prompt": "intake",
        "9 during the speech prompt (Mongolian)": "intake-mongolian",
        "nothing said, then key 2": "intake",
        "no speech: 1 enterprise": "enterprise",
        "no speech: 2 personal": "intake",
        "no speech: 3 progress + number": "dispatch",
        "no speech: 3 progress, no number": "dispatch",
        "no speech: 4 callback": "callback",
        "no speech: 9 Mongolian": "intake-mongolian",
        "no speech: 0 a person": "intake",
        "no speech: no key twice": "intake",
    }
    # The question costs its prompt and, unanswered, its whole timeout; it skips "connecting".
    ordinary = found["speak: an ordinary request"].seconds
    unanswered = found["speak: emergency, no key"].seconds
    assert ordinary is not None and unanswered is not None
    fire_said = len("楼下着火了，好大的烟，快来人") - len("我家暖气不热，屋里才十二度")
    expected = (
        seconds_of("confirm-119", "mandarin")
        + 5.0
        - seconds_of("connecting", "mandarin")
        + fire_said * 0.25
    )
    assert abs((unanswered - ordinary) - expected) < 0.05
    assert "speak: emergency, no key" in table(timings)


def test_the_timings_command_prints_a_table_or_json() -> None:
    result = CliRunner().invoke(app, ["ivr", "timings", "--estimate"])
    assert result.exit_code == 0, result.output
    assert "text length x 0.22 s a character" in result.output
    assert "speak: emergency, key 1 (hand-off)" in result.output
    rows = CliRunner().invoke(app, ["ivr", "timings", "--estimate", "--json"])
    assert [json.loads(line)["destination"] for line in rows.output.splitlines()][:2] == [
        "intake",
        "119",
    ]
