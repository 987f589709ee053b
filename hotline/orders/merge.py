"""Merging duplicate requests (并单): a parent order and the children that follow it.

Theory of operation: twenty calls about one burst water main are one matter, and the
department should get it once. `Merger.candidates(number)` proposes, for an open order, the
other open orders that look like the same request: the same place (`routing.place`: they
share a community, a street or a landmark, no different district or community), created
within a window of each other (24 hours unless asked otherwise), and the same matter, the
same department, or similar words (character bigrams of what the callers said). Each
candidate says what matched and a score; an operator decides.

`Merger.merge(number, children, version)` makes `number` the parent of `children` in one
transaction, with a history row on every order; it refuses (nothing changed) when the
parent's version is stale, an order is not open, a child is already merged or is itself a
parent: a tree is one level deep. `unmerge` undoes it for open children.

`follow_parent` is called by the store after each change of an order, in the change's
transaction: when a parent gets its reply, moves to callback or is closed, its open children
get the same reply and status, each with a `follow_parent` history row, so every child's
citizen hears the answer and is called back (一事一评). Closing the parent does not close a
child still waiting for its own callback: it stays in (or moves to) callback until the
callback group has called that citizen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.db import utcnow
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from routing.place import ANCHORS, Place, PlaceMatch, compare_places, parse_place
from routing.text import normalize

#: statuses an order can be merged in: still being worked on, not finished
MERGEABLE = ("draft", "dispatched", "replied", "callback", "returned", "reopened")
#: the parent's actions its children follow
FOLLOWED = ("reply", "to_callback", "close")
DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=30)
#: most children one request merges or unmerges
MAX_CHILDREN = 100
#: most candidates one answer lists
MAX_CANDIDATES = 100
#: most orders of the window that are compared (a 2,000-calls-a-day centre has about 4,000
#: in two days); the newest are compared first
MAX_SCANNED = 5000
#: how similar the words must be when neither the matter nor the department matches
TEXT_THRESHOLD = 0.3
#: how much of what was said is compared
MAX_TEXT_CHARS = 2000
#: weights of the score: place, matter, words
WEIGHTS = (0.4, 0.3, 0.3)


class MergeError(ValueError):
    """A merge that cannot be done as asked: `code` names the problem for the API, `status`
    is the HTTP status it answers with, `current` the parent's state for a stale version."""

    def __init__(
        self, code: str, message: str, *, status: int = 422, current: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.current = current


# ---- likeness of two requests (pure) -------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """What merging compares of an order."""

    number: str
    created_at: datetime
    department: str | None
    matter: str | None
    place: Place
    words: str


@dataclass(frozen=True)
class Likeness:
    """How alike two requests are: the place parts they share, whether the matter or the
    department is the same ("matter", "department" or ""), the similarity of their words in
    [0, 1], the hours between them and the score in [0, 1]."""

    place: PlaceMatch
    matter: str
    words: float
    hours_apart: float
    score: float

    def proposed(self, window: timedelta = DEFAULT_WINDOW) -> bool:
        """One matter at one place within `window`: worth proposing for merging."""
        within = self.hours_apart <= window.total_seconds() / 3600
        return within and self.place.same and (bool(self.matter) or self.words >= TEXT_THRESHOLD)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def words_similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two normalised texts, in [0, 1]."""
    ga, gb = _bigrams(a), _bigrams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def _as_utc(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def likeness(a: Request, b: Request) -> Likeness:
    """How alike `a` and `b` are (symmetric)."""
    place = compare_places(a.place, b.place)
    if a.matter and a.matter == b.matter:
        matter, matter_score = "matter", 1.0
    elif a.department and a.department == b.department:
        matter, matter_score = "department", 0.6
    else:
        matter, matter_score = "", 0.0
    words = round(words_similarity(a.words, b.words), 3)
    hours = abs((_as_utc(a.created_at) - _as_utc(b.created_at)).total_seconds()) / 3600
    wp, wm, ww = WEIGHTS
    score = wp * place.score + wm * matter_score + ww * words
    return Likeness(place, matter, words, round(hours, 2), round(score, 3))


def place_of_order(order: WorkOrder) -> Place:
    """The order's place: its `place` column, else what its summary and transcript name."""
    if order.place:
        return parse_place(order.place)
    return parse_place(f"{order.summary or ''}，{(order.transcript or '')[:MAX_TEXT_CHARS]}")


def request_of(order: WorkOrder) -> Request:
    """An order as merging compares it. The words leave out the place's names, which the
    place already compares: two complaints from one community are not alike for that."""
    place = place_of_order(order)
    words = normalize(f"{order.summary or ''} {(order.transcript or '')[:MAX_TEXT_CHARS]}")
    for part in (*ANCHORS, "district", "subdistrict"):
        value = getattr(place, part)
        if value:
            words = words.replace(normalize(value), "")
    return Request(order.number, order.created_at, order.department, order.matter, place, words)


# ---- proposals and merges (database) -------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    order: WorkOrder
    likeness: Likeness


@dataclass
class Proposal:
    """An order, the candidates to merge into it (best first), and its children already."""

    order: WorkOrder
    candidates: list[Candidate]
    children: list[WorkOrder] = field(default_factory=list)
    window: timedelta = DEFAULT_WINDOW


@dataclass
class Merged:
    """A parent after a merge or an unmerge: its new version and its children now."""

    parent: WorkOrder
    changed: list[str]
    children: list[WorkOrder]


def _order(session: Session, number: str) -> WorkOrder:
    order = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
    if order is None:
        raise MergeError("not_found", f"there is no work order {number}", status=404)
    return order


def _parent_number(session: Session, order: WorkOrder) -> str:
    return session.scalar(select(WorkOrder.number).where(WorkOrder.id == order.parent_id)) or ""


def children_of(session: Session, parent: WorkOrder) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder).where(WorkOrder.parent_id == parent.id).order_by(WorkOrder.id)
        )
    )


def _has_children(order_id: Any) -> Any:
    child = WorkOrder.__table__.alias("child")
    return exists().where(child.c.parent_id == order_id)


class Merger:
    """Proposes, makes and undoes merges (并单). Blocking: the API calls it from worker
    threads."""

    def __init__(self, sessions: sessionmaker[Session], window: timedelta = DEFAULT_WINDOW):
        self._sessions = sessions
        self.window = window

    def candidates(self, number: str, window: timedelta | None = None, limit: int = 20) -> Proposal:
        """The open orders that look like the same request as order `number`, best first.
        Raises MergeError: not_found (404); not_open, is_child (409) for an order that
        cannot be a parent; bad_window (422)."""
        window = window or self.window
        if not timedelta(hours=1) <= window <= MAX_WINDOW:
            raise MergeError("bad_window", "the window is 1 hour to 30 days")
        limit = max(1, min(limit, MAX_CANDIDATES))
        with self._sessions() as s:
            order = _order(s, number)
            self._check_parent(s, order)
            created = _as_utc(order.created_at)
            rows = s.scalars(
                select(WorkOrder)
                .where(
                    WorkOrder.created_at >= created - window,
                    WorkOrder.created_at <= created + window,
                    WorkOrder.id != order.id,
                    WorkOrder.status.in_(MERGEABLE),
                    WorkOrder.parent_id.is_(None),
                    ~_has_children(WorkOrder.id),
                )
                .order_by(WorkOrder.created_at.desc())
                .limit(MAX_SCANNED)
            )
            mine = request_of(order)
            found = []
            for row in rows:
                alike = likeness(mine, request_of(row))
                if alike.proposed(window):
                    found.append(Candidate(row, alike))
            found.sort(key=lambda c: (-c.likeness.score, c.likeness.hours_apart, c.order.id))
            return Proposal(order, found[:limit], children_of(s, order), window)

    @staticmethod
    def _check_parent(session: Session, order: WorkOrder) -> None:
        if order.parent_id is not None:
            raise MergeError(
                "is_child",
                f"work order {order.number} is merged into {_parent_number(session, order)}: "
                "merge into that order instead",
                status=409,
            )
        if order.status not in MERGEABLE:
            raise MergeError(
                "not_open",
                f"work order {order.number} is {order.status}: only open orders are merged",
                status=409,
            )

    @staticmethod
    def _current(session: Session, parent: WorkOrder) -> dict[str, Any]:
        return {
            "number": parent.number,
            "version": parent.version,
            "status": parent.status,
            "children": [c.number for c in children_of(session, parent)],
        }

    def _claim_parent(self, s: Session, parent: WorkOrder, version: int, at: datetime) -> None:
        """Take the parent's next version, or refuse a stale one (409 with its state)."""
        claimed = s.execute(
            update(WorkOrder)
            .where(WorkOrder.id == parent.id, WorkOrder.version == version)
            .values(version=version + 1, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            s.refresh(parent)
            raise MergeError(
                "stale_version",
                f"work order {parent.number} is at version {parent.version}, not {version}: "
                "reload it and try again",
                status=409,
                current=self._current(s, parent),
            )

    @staticmethod
    def _numbers(number: str, children: Sequence[str]) -> list[str]:
        if not 1 <= len(children) <= MAX_CHILDREN:
            raise MergeError("bad_children", f"name 1 to {MAX_CHILDREN} child orders")
        if len(set(children)) != len(children):
            twice = sorted({c for c in children if list(children).count(c) > 1})
            raise MergeError("bad_children", f"orders named twice: {', '.join(twice)}")
        if number in children:
            raise MergeError("bad_children", f"work order {number} cannot be its own child")
        return list(children)

    def merge(
        self,
        number: str,
        children: Sequence[str],
        version: int,
        actor: str,
        at: datetime | None = None,
    ) -> Merged:
        """Make order `number` (at `version`) the parent of `children`, all or nothing.
        Raises MergeError naming the first order that cannot be merged."""
        numbers = self._numbers(number, children)
        now = at or utcnow()
        with self._sessions() as s, s.begin():
            parent = _order(s, number)
            self._check_parent(s, parent)
            rows = {
                o.number: o
                for o in s.scalars(select(WorkOrder).where(WorkOrder.number.in_(numbers)))
            }
            missing = [n for n in numbers if n not in rows]
            if missing:
                raise MergeError("not_found", f"there is no work order {missing[0]}", status=404)
            for n in numbers:
                self._check_child(s, parent, rows[n])
            self._claim_parent(s, parent, version, now)
            for n in numbers:
                _move_child(s, rows[n], parent, into=True, actor=actor, now=now)
            s.add(
                WorkOrderEvent(
                    order_id=parent.id,
                    at=now,
                    actor=actor,
                    action="merge",
                    from_status=parent.status,
                    to_status=parent.status,
                    changes={"children": [[], numbers]},
                    note=f"{len(numbers)} merged into this order",
                )
            )
            s.flush()
            s.expire_all()
            return Merged(_order(s, number), numbers, children_of(s, parent))

    @staticmethod
    def _check_child(session: Session, parent: WorkOrder, child: WorkOrder) -> None:
        if child.parent_id == parent.id:
            raise MergeError(
                "already_merged",
                f"work order {child.number} is already merged into {parent.number}",
                status=409,
            )
        if child.parent_id is not None:
            raise MergeError(
                "already_merged",
                f"work order {child.number} is merged into {_parent_number(session, child)}",
                status=409,
            )
        if child.status not in MERGEABLE:
            raise MergeError(
                "not_open",
                f"work order {child.number} is {child.status}: only open orders are merged",
                status=409,
            )
        if session.scalar(select(_has_children(child.id))):
            raise MergeError(
                "has_children",
                f"work order {child.number} has merged orders of its own: "
                f"merge {parent.number} into it, or unmerge its children first",
                status=409,
            )

    def unmerge(
        self,
        number: str,
        children: Sequence[str],
        version: int,
        actor: str,
        at: datetime | None = None,
    ) -> Merged:
        """Take `children` out of order `number` (at `version`), all or nothing. Only open
        children: a closed child has followed its parent to the end."""
        numbers = self._numbers(number, children)
        now = at or utcnow()
        with self._sessions() as s, s.begin():
            parent = _order(s, number)
            rows = {
                o.number: o
                for o in s.scalars(select(WorkOrder).where(WorkOrder.number.in_(numbers)))
            }
            for n in numbers:
                child = rows.get(n)
                if child is None or child.parent_id != parent.id:
                    raise MergeError(
                        "not_a_child", f"work order {n} is not merged into {number}", status=409
                    )
                if child.status not in MERGEABLE:
                    raise MergeError(
                        "not_open",
                        f"work order {n} is {child.status}: it has followed its parent to the end",
                        status=409,
                    )
            self._claim_parent(s, parent, version, now)
            for n in numbers:
                _move_child(s, rows[n], parent, into=False, actor=actor, now=now)
            s.add(
                WorkOrderEvent(
                    order_id=parent.id,
                    at=now,
                    actor=actor,
                    action="unmerge",
                    from_status=parent.status,
                    to_status=parent.status,
                    changes={"children": [numbers, []]},
                    note=f"{len(numbers)} taken out of this order",
                )
            )
            s.flush()
            s.expire_all()
            return Merged(_order(s, number), numbers, children_of(s, parent))


# ---- children follow their parent ----------------------------------------------------------
def _awaits_callback(child: WorkOrder) -> bool:
    return bool(child.needs_callback) and not child.callback_result


def follow_parent(session: Session, parent: WorkOrder, event: WorkOrderEvent) -> None:
    """Carry a change of `parent` (its reply, its move to callback or closed) over to its
    merged children, in the caller's transaction. The store calls it after each change."""
    if event.action not in FOLLOWED or parent.parent_id is not None:
        return
    at = event.at or utcnow()
    children = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.parent_id == parent.id, WorkOrder.status.in_(MERGEABLE))
        .order_by(WorkOrder.id)
        .with_for_update()
    )
    for child in children:
        before = child.status
        target = parent.status
        if target == "closed" and _awaits_callback(child):
            # each citizen is called back on their own order (一事一评)
            target = "callback"
        changes: dict[str, Any] = {}
        if child.reply != parent.reply:
            changes["reply"] = [child.reply, parent.reply]
            child.reply = parent.reply
        if target != before:
            changes["status"] = [before, target]
            child.status = target
        if target == "closed":
            child.closed_at = parent.closed_at or at
        if not changes:
            continue
        child.version += 1
        child.updated_at = at
        session.add(
            WorkOrderEvent(
                order_id=child.id,
                at=at,
                actor=event.actor,
                action="follow_parent",
                from_status=before,
                to_status=target,
                changes=changes,
                note=f"{event.action} of {parent.number}",
            )
        )


def _move_child(
    s: Session, child: WorkOrder, parent: WorkOrder, *, into: bool, actor: str, now: datetime
) -> None:
    """Merge `child` into `parent` (or take it out again) if it is still at the version and
    parent read, with its history row. Raises MergeError (409) when it changed meanwhile."""
    was = WorkOrder.parent_id.is_(None) if into else WorkOrder.parent_id == parent.id
    taken = s.execute(
        update(WorkOrder)
        .where(WorkOrder.id == child.id, WorkOrder.version == child.version, was)
        .values(parent_id=parent.id if into else None, version=child.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise MergeError(
            "changed", f"work order {child.number} changed meanwhile: try again", status=409
        )
    s.add(
        WorkOrderEvent(
            order_id=child.id,
            at=now,
            actor=actor,
            action="merge" if into else "unmerge",
            from_status=child.status,
            to_status=child.status,
            changes={"parent": [None, parent.number] if into else [parent.number, None]},
            note=f"merged into {parent.number}" if into else f"taken out of {parent.number}",
        )
    )
