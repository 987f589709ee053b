"""`hotline bench route`: routing decision time, classification of the transcript included.

106 operators in six groups on eight overlapping shifts; each decision classifies one of a
few typical spoken requests (recogniser-style spacing included) and picks a queue.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ivr.routing_port import CallFacts
from routing import default_classifier
from routing.decision import CallerHistory, OpenCase
from routing.roster import Assignment, Operator, Roster, Shift
from routing.router import RosterRouter

#: typical spoken requests (what a caller says in the first seconds), recogniser-style included
TYPICAL = (
    "我家暖气不热，屋里才十二度，我要投诉供热公司",
    "我 家 暖气 不 热 屋里 才 十二 度",
    "小区门口有人占道经营，晚上很吵",
    "我想问一下公积金怎么提取",
    "上周反映的那个工单现在处理到哪一步了",
    "我们公司的稳岗补贴一直没有发下来",
    "楼下着火了，好多烟，快来人",
    "单位拖欠了我三个月的工资",
    "我要举报一家饭店卫生不合格",
    "停水两天了也没人通知",
)

#: the p99 a decision must stay under, in milliseconds
TARGET_P99_MS = 2.0


@dataclass(frozen=True)
class RouteReport:
    operators: int
    shifts: int
    #: each decision's time in milliseconds, sorted
    samples_ms: list[float]
    #: decisions per queue
    queues: dict[str, int]

    @property
    def calls(self) -> int:
        return len(self.samples_ms)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99_ms(self) -> float:
        return self.samples_ms[min(self.calls - 1, int(self.calls * 0.99))]

    @property
    def max_ms(self) -> float:
        return self.samples_ms[-1]

    @property
    def met(self) -> bool:
        return self.p99_ms <= TARGET_P99_MS

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "operators": self.operators,
            "shifts": self.shifts,
            "p50_ms": round(self.p50_ms, 4),
            "p99_ms": round(self.p99_ms, 4),
            "max_ms": round(self.max_ms, 4),
            "target_p99_ms": TARGET_P99_MS,
            "met": self.met,
            "queues": self.queues,
        }


def run_bench(calls: int) -> RouteReport:
    """Time `calls` decisions of a roster router with a typical roster."""
    groups = ("intake", "intake", "intake", "dispatch", "callback", "multimedia")
    operators = [
        Operator(
            f"{7000 + n}",
            f"op{n}",
            groups[n % len(groups)],  # type: ignore[arg-type]
            frozenset({"mandarin", "mongolian"} if n % 9 == 0 else {"mandarin"}),
        )
        for n in range(1, 107)
    ]
    shifts = [
        Shift(
            f"s{i}",
            (datetime(2026, 1, 1) + timedelta(hours=3 * i)).time(),
            (datetime(2026, 1, 1) + timedelta(hours=3 * i + 8)).time(),
        )
        for i in range(8)
    ]
    day = date(2026, 12, 1)
    assignments = [
        Assignment(day + timedelta(days=d), f"s{n % 8}", op.extension)
        for d in range(-1, 2)
        for n, op in enumerate(operators)
    ]
    roster = Roster(operators, shifts, assignments)
    at = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    router = RosterRouter(lambda: roster, clock=lambda: at)
    default_classifier()  # load the model outside the timing
    history = CallerHistory(open_cases=(OpenCase("GD-1", "heating"),), calls_today=1)
    facts = [
        CallFacts(f"b{i}", "13800138000", "", transcript=text, language=lang)
        for i, (text, lang) in enumerate(
            (t, "mongolian" if n % 7 == 0 else "mandarin") for n, t in enumerate(TYPICAL)
        )
    ]
    samples: list[float] = []
    queues: dict[str, int] = {}
    for i in range(calls):
        f = facts[i % len(facts)]
        t0 = time.perf_counter()
        decision, _ = router.decide(f, history, at)
        samples.append((time.perf_counter() - t0) * 1000)
        queues[decision.queue] = queues.get(decision.queue, 0) + 1
    samples.sort()
    return RouteReport(len(operators), len(shifts), samples, queues)
