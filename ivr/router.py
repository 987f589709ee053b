"""`StaticRouter`: the router the IVR uses when no roster-aware router is configured.

It decides from the menu's tags and the classification alone, without knowing who is on
duty: an emergency is handed over to its number, a Mongolian speaker goes to the Mongolian
intake desk, an enterprise to the enterprise desk, a progress enquiry to dispatch, a returned
callback to the callback group, everyone else to intake. The roster router (routing/) adds
duty rosters, priorities and fallbacks on top of the same `Router` protocol.
"""

from __future__ import annotations

from ivr.routing_port import CallFacts, RouteTarget
from routing.taxonomy import DEPARTMENT_ZH

HANDOFF_PROMPT = "emergency-handoff"
DISPLAY = {
    "intake": "来电",
    "intake-mongolian": "蒙语",
    "enterprise": "企业",
    "dispatch": "催办",
    "callback": "回访",
}
KIND_ZH = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}


class StaticRouter:
    def __init__(self, handoff_prompt: str | None = HANDOFF_PROMPT) -> None:
        self.handoff_prompt = handoff_prompt

    async def route(self, facts: CallFacts) -> RouteTarget:
        c = facts.classification or {}
        tags = facts.tags
        if c.get("intent") == "emergency" and c.get("emergency"):
            number = str(c["emergency"])
            return RouteTarget(
                queue="handoff",
                handoff_number=number,
                prompt=self.handoff_prompt,
                reason=f"emergency: hand over to {number}",
                tags={"intent": "emergency", "emergency": number, "display": f"紧急|{number}"},
            )
        if facts.language == "mongolian":
            queue, reason = "intake-mongolian", "the caller chose Mongolian"
        elif tags.get("enterprise") == "true" or c.get("enterprise") is True:
            queue, reason = "enterprise", "an enterprise request"
        elif tags.get("request") == "follow_up" or c.get("intent") == "follow_up":
            queue, reason = "dispatch", "progress of an existing case"
        elif tags.get("request") == "callback":
            queue, reason = "callback", "returning a callback"
        else:
            queue, reason = "intake", "a new request"
        out = {"queue": queue}
        for key in ("kind", "department", "intent"):
            if c.get(key):
                out[key] = str(c[key])
        out.update({k: v for k, v in tags.items() if k not in out})
        # What the operator's phone shows as the caller's name, e.g. "投诉|供热".
        parts = [KIND_ZH.get(out.get("kind", ""), "") or DISPLAY[queue]]
        if out.get("department"):
            parts.append(DEPARTMENT_ZH.get(out["department"], out["department"]))
        if queue != "intake" and parts[0] != DISPLAY[queue]:
            parts.append(DISPLAY[queue])
        out["display"] = "|".join(parts)
        return RouteTarget(queue=queue, tags=out, reason=reason)
