"""The default route suggestion the classifier attaches to its output.

This is deliberately simple; `routing.decision.decide` owns the real decision, which also
depends on who is on duty. Priority runs from 1 (most urgent) to 9.

| situation            | group      | skills                  | priority |
| -------------------- | ---------- | ----------------------- | -------- |
| emergency            | intake     | mandarin                | 1        |
| follow-up            | dispatch   | mandarin                | 5        |
| enterprise caller    | intake     | mandarin, enterprise    | 4        |
| out of scope         | intake     | mandarin                | 6        |
| anything else        | intake     | mandarin                | 5        |

Mongolian script in the text adds the `mongolian` skill.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from routing.taxonomy import Group


class Route(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    group: Group
    skills: list[str]
    priority: int = Field(ge=1, le=9)


def default_route(
    intent: str, *, enterprise: bool, mongolian: bool, out_of_scope: bool = False
) -> Route:
    """The suggestion for a classified request (see the table in the module header)."""
    skills = ["mandarin"]
    if mongolian:
        skills.append("mongolian")
    if intent == "emergency":
        return Route(group="intake", skills=skills, priority=1)
    if intent == "follow_up":
        return Route(group="dispatch", skills=skills, priority=5)
    if enterprise and not out_of_scope:
        return Route(group="intake", skills=[*skills, "enterprise"], priority=4)
    return Route(group="intake", skills=skills, priority=6 if out_of_scope else 5)
