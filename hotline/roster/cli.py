"""`hotline roster` (import a month, who is on duty) and `hotline bench route`.

hotline roster import december.csv --month 2026-12
hotline roster on-duty [--at 2026-12-01T10:00+08:00]
hotline bench route [--calls 5000]      decision time p50/p99, classification included
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

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


def _bench_route(calls: int, output: Path) -> None:
    from ivr.routing_port import CallFacts
    from routing import default_classifier
    from routing.decision import CallerHistory, OpenCase
    from routing.roster import Assignment, Operator, Roster, Shift
    from routing.router import RosterRouter

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
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    result = {
        "calls": calls,
        "operators": len(operators),
        "shifts": len(shifts),
        "p50_ms": round(p50, 4),
        "p99_ms": round(p99, 4),
        "max_ms": round(samples[-1], 4),
        "target_p99_ms": 2.0,
        "met": p99 <= 2.0,
        "queues": queues,
    }
    typer.echo("| measure | value |\n| --- | ---: |")
    typer.echo(f"| decisions | {calls:,} |")
    typer.echo(f"| p50 (classification + decision) | {p50:.3f} ms |")
    typer.echo(f"| p99 | {p99:.3f} ms (target <= 2 ms: {'met' if p99 <= 2 else 'NOT met'}) |")
    typer.echo(f"| max | {samples[-1]:.3f} ms |")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"written to {output}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    roster_app = typer.Typer(help="Shift rosters: import a month, who is on duty.")
    app.add_typer(roster_app, name="roster")

    def _store() -> object:
        from hotline.core import db
        from hotline.core.settings import load_settings
        from hotline.roster.store import RosterStore

        settings = load_settings()
        db.upgrade(settings.database_url)
        return RosterStore(
            db.session_factory(db.make_engine(settings.database_url)), settings.timezone
        )

    @roster_app.command("import")
    def import_cmd(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
        month: Annotated[str, typer.Option(help="YYYY-MM: its assignments are replaced")],
    ) -> None:
        """Replace a month's assignments with a CSV (date,shift,extension); all rows or none."""
        from hotline.roster.store import RosterImportError, RosterStore
        from routing.roster import RosterError

        store = _store()
        assert isinstance(store, RosterStore)
        try:
            count = store.import_csv(file.read_text(encoding="utf-8"), month)
        except RosterImportError as exc:
            for error in exc.errors:
                typer.echo(error.message, err=True)
            typer.echo(f"{len(exc.errors)} bad row(s): nothing imported", err=True)
            raise typer.Exit(1) from None
        except RosterError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{count} assignments imported for {month}")

    @roster_app.command("on-duty")
    def on_duty_cmd(
        at: Annotated[str | None, typer.Option(help="ISO time with offset; default now")] = None,
    ) -> None:
        """Who is working at a moment."""
        from hotline.roster.store import RosterStore

        store = _store()
        assert isinstance(store, RosterStore)
        moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
        if moment.tzinfo is None:
            typer.echo("--at needs a time zone offset, e.g. 2026-12-01T10:00+08:00", err=True)
            raise typer.Exit(2)
        for d in store.roster().on_duty(moment):
            skills = ",".join(sorted(d.operator.skills))
            typer.echo(
                f"{d.operator.extension}\t{d.operator.name}\t{d.operator.group}\t{skills}\t{d.shift}"
            )

    @bench_app.command("route")
    def bench_route(
        calls: Annotated[int, typer.Option(min=100)] = 5000,
        output: Annotated[Path, typer.Option()] = Path("bench-results/route.json"),
    ) -> None:
        """Routing decision time, classification of a typical transcript included."""
        _bench_route(calls, output)
