"""Catalogue versions in the database: the only code that writes `catalogue_versions` and
`catalogue_activations` (`hotline.catalogue.tables`), and the audit entries of their changes.

Theory of operation: the whole catalogue document is versioned, as the IVR's menus are. At
most one version is a draft; it is saved as given (even with problems, which are counted and
listed on request) and published only when `routing.catalogue.validate` finds none. A
published version never changes. Publishing or rolling back adds a row to
`catalogue_activations`; the newest row names the live version. A database without versions
gets the shipped starter catalogue as version 1 (`ensure_shipped`).

Stale edits: every save takes the number of the catalogue's *head* revision the editor read
(the draft's, or the live version's when there is no draft) and gets a new one, higher than
any before and unique over the table. An edit made on anything but the head is refused with
409 and the head it missed; two saves at the same moment cannot both win (the unique
revision, and the one draft slot, are checked by the database).

`publish` and `rollback` take a `prepare` step that turns the document into what will run (the
compiled catalogue); when it fails nothing is written and the live version stays as it was.
Every change is audited (subject "catalogue") in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.catalogue.document import matters_of, stored_size, with_matter
from hotline.catalogue.tables import CatalogueActivation, CatalogueVersion
from hotline.core.audit import audit
from hotline.core.db import utcnow
from routing.catalogue import MAX_DOCUMENT_BYTES, Problem, validate

T = TypeVar("T")

MAX_COMMENT = 500
#: versions listed per page at most
MAX_PAGE = 200


class CatalogueStoreError(Exception):
    """A change refused: `code` names why (also the API's error id), `status` the HTTP one."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 422,
        detail: Mapping[str, Any] | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.detail = dict(detail or {})
        self.problems = problems or []


@dataclass(frozen=True)
class Actor:
    """Who changes the catalogue, for the versions and the audit log."""

    name: str
    role: str
    client: str = ""


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class Head:
    """What an edit must be made on: the draft if there is one, else the live version."""

    revision: int
    draft: CatalogueVersion | None
    live: CatalogueVersion | None

    def to_dict(self) -> dict[str, Any]:
        row = self.draft or self.live
        return {
            "revision": self.revision,
            "draft": self.draft.id if self.draft else None,
            "live": self.live.id if self.live else None,
            "updated_by": row.updated_by if row else None,
            # text: this goes in error bodies, which are not encoded as responses are
            "updated_at": row.updated_at.isoformat() if row else None,
        }


@dataclass
class Saved:
    row: CatalogueVersion
    problems: list[Problem] = field(default_factory=list)


def summary(row: CatalogueVersion, live: int | None) -> dict[str, Any]:
    """A version without its document: who, when, how many matters and problems."""
    return {
        "version": row.id,
        "status": row.status,
        "live": row.id == live,
        "revision": row.revision,
        "matters": row.matters,
        "problems": row.problems,
        "valid": row.problems == 0,
        "comment": row.comment,
        "based_on": row.based_on,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at,
        "published_by": row.published_by,
        "published_at": row.published_at,
    }


def _check_document(document: object) -> list[Problem]:
    size = stored_size(document)
    if size > MAX_DOCUMENT_BYTES:
        raise CatalogueStoreError(
            "too_large",
            f"the document is {size:,} bytes as stored; at most {MAX_DOCUMENT_BYTES:,}",
            413,
        )
    return validate(document)


def _comment(comment: str) -> str:
    if len(comment) > MAX_COMMENT:
        raise CatalogueStoreError("invalid", f"comment: at most {MAX_COMMENT} characters")
    return comment


class CatalogueStore:
    """Catalogue versions in the database. Blocking: call from a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # ---- reading --------------------------------------------------------------------------

    def versions(self, limit: int = 50, offset: int = 0) -> tuple[int, list[CatalogueVersion]]:
        """How many versions there are, and a page of them, newest first (documents not
        loaded: read one with `get`)."""
        limit = max(1, min(limit, MAX_PAGE))
        columns = [c for c in CatalogueVersion.__table__.columns if c.name != "document"]
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(CatalogueVersion)) or 0
            rows = session.execute(
                select(*columns).order_by(CatalogueVersion.id.desc()).limit(limit).offset(offset)
            ).all()
        return total, [CatalogueVersion(**row._asdict()) for row in rows]

    def get(self, version: int) -> CatalogueVersion:
        with self.sessions() as session:
            row = session.get(CatalogueVersion, version)
        if row is None:
            raise CatalogueStoreError("not_found", f"no catalogue version {version}", 404)
        return row

    def head(self) -> Head:
        with self.sessions() as session:
            return self._head(session)

    def live(self) -> CatalogueVersion | None:
        with self.sessions() as session:
            return self._live(session)

    def live_id(self) -> int | None:
        """The live version's number: one small query (to notice another process's publish)."""
        with self.sessions() as session:
            return session.scalar(
                select(CatalogueActivation.version_id)
                .order_by(CatalogueActivation.id.desc())
                .limit(1)
            )

    def activations(self, limit: int = 50) -> list[CatalogueActivation]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(CatalogueActivation)
                    .order_by(CatalogueActivation.id.desc())
                    .limit(max(1, min(limit, MAX_PAGE)))
                ).all()
            )

    # ---- the shipped catalogue --------------------------------------------------------------

    def ensure_shipped(self, document: Any, actor: Actor = SYSTEM) -> CatalogueVersion | None:
        """Make `document` (the shipped starter catalogue) version 1 and live when the
        database has no version; None when it has one already."""
        problems = _check_document(document)
        if problems:
            raise CatalogueStoreError(
                "invalid", "the shipped catalogue has problems", problems=problems
            )
        with self.sessions() as session:
            if session.scalar(select(func.count()).select_from(CatalogueVersion)):
                return None
            now = utcnow()
            row = CatalogueVersion(
                document=document,
                status="published",
                draft_slot=None,
                revision=1,
                matters=len(matters_of(document)),
                problems=0,
                comment="the shipped starter catalogue",
                created_by=actor.name,
                created_at=now,
                updated_by=actor.name,
                updated_at=now,
                published_by=actor.name,
                published_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # another process installed it at the same moment
                return None
            session.add(
                CatalogueActivation(version_id=row.id, action="shipped", by=actor.name, at=now)
            )
            self._audit(session, actor, "install_shipped", row, {"matters": row.matters})
            session.commit()
            return row

    # ---- drafts ---------------------------------------------------------------------------

    def save_draft(
        self, document: Any, revision: int, actor: Actor, comment: str | None = None
    ) -> Saved:
        """Save `document` as the draft (made from the head's `revision`; 409 when the head
        has moved on). A document with problems is saved too; they come back listed."""
        problems = _check_document(document)
        if comment is not None:
            _comment(comment)
        with self.sessions() as session:
            head = self._head_at(session, revision)
            row = self._write_draft(session, head, document, len(problems), actor, comment)
            self._audit(
                session,
                actor,
                "save_draft",
                row,
                {"matters": row.matters, "problems": row.problems, "comment": row.comment},
            )
            return Saved(self._commit(session, row), problems)

    def edit_matter(
        self,
        matter_id: str,
        changes: Mapping[str, Any] | None,
        revision: int,
        actor: Actor,
    ) -> tuple[Saved, str]:
        """Change (or add, or with None remove) one matter of the head document and save the
        result as the draft. Returns it and what was done (add, change, remove)."""
        with self.sessions() as session:
            head = self._head_at(session, revision)
            base = head.draft or head.live
            try:
                document, done = with_matter(base.document if base else None, matter_id, changes)
            except KeyError:
                raise CatalogueStoreError(
                    "not_found", f"matter {matter_id!r} is not in the catalogue", 404
                ) from None
            except ValueError as exc:
                raise CatalogueStoreError("invalid", str(exc)) from None
            if done == "unchanged":
                raise CatalogueStoreError(
                    "unchanged", f"matter {matter_id!r} already has these values", 422
                )
            problems = _check_document(document)
            row = self._write_draft(session, head, document, len(problems), actor, None)
            detail = {"matter": matter_id, "done": done, "problems": row.problems}
            if changes is not None:
                detail["fields"] = sorted(changes)
            self._audit(session, actor, "edit_matter", row, detail)
            return Saved(self._commit(session, row), problems), done

    def discard_draft(self, revision: int, actor: Actor) -> CatalogueVersion:
        """Delete the draft read at `revision`; the live version stays."""
        with self.sessions() as session:
            head = self._head_at(session, revision)
            if head.draft is None:
                raise CatalogueStoreError("no_draft", "there is no draft to discard", 404)
            row = head.draft
            self._audit(session, actor, "discard_draft", row, {"matters": row.matters})
            session.delete(row)
            self._commit(session, row)
            return row

    # ---- going live -------------------------------------------------------------------------

    def publish(
        self, revision: int, actor: Actor, prepare: Callable[[Any], T]
    ) -> tuple[CatalogueVersion, T]:
        """Make the draft read at `revision` live, once it validates and `prepare` (which
        compiles it) has run on it. Returns the published version and what `prepare` made."""
        with self.sessions() as session:
            head = self._head_at(session, revision, lock=True)
            row = head.draft
            if row is None:
                raise CatalogueStoreError(
                    "no_draft", "there is no draft to publish: save one first", 409
                )
            problems = validate(row.document)
            if problems:
                raise CatalogueStoreError(
                    "invalid",
                    f"the draft (version {row.id}) has {len(problems)} problem(s); not published",
                    problems=problems,
                )
            prepared = prepare(row.document)
            now = utcnow()
            row.status = "published"
            row.draft_slot = None
            row.published_by = actor.name
            row.published_at = now
            session.add(
                CatalogueActivation(version_id=row.id, action="publish", by=actor.name, at=now)
            )
            self._audit(
                session,
                actor,
                "publish",
                row,
                {"from": head.live.id if head.live else None, "matters": row.matters},
            )
            return self._commit(session, row), prepared

    def rollback(
        self, actor: Actor, prepare: Callable[[Any], T], to: int | None = None
    ) -> tuple[CatalogueVersion, T]:
        """Make published version `to` (default: the one live before the current one) live
        again, once `prepare` has run on it."""
        with self.sessions() as session:
            activations = list(
                session.scalars(
                    select(CatalogueActivation.version_id).order_by(CatalogueActivation.id.desc())
                ).all()
            )
            if not activations:
                raise CatalogueStoreError(
                    "nothing_to_roll_back", "no version has been published yet", 409
                )
            current = activations[0]
            if to is None:
                earlier = [v for v in activations if v != current]
                if not earlier:
                    raise CatalogueStoreError(
                        "nothing_to_roll_back",
                        f"version {current} is the only version ever live",
                        409,
                    )
                to = earlier[0]
            row = session.get(CatalogueVersion, to)
            if row is None:
                raise CatalogueStoreError("not_found", f"no catalogue version {to}", 404)
            if row.status != "published":
                raise CatalogueStoreError(
                    "not_published", f"version {to} is the draft: publish it instead", 409
                )
            if to == current:
                raise CatalogueStoreError(
                    "nothing_to_roll_back", f"version {to} is already live", 409
                )
            prepared = prepare(row.document)
            session.add(
                CatalogueActivation(version_id=to, action="rollback", by=actor.name, at=utcnow())
            )
            self._audit(session, actor, "rollback", row, {"from": current, "to": to})
            session.commit()
            return row, prepared

    # ---- inside a transaction ---------------------------------------------------------------

    @staticmethod
    def _live(session: Session) -> CatalogueVersion | None:
        version = session.scalar(
            select(CatalogueActivation.version_id).order_by(CatalogueActivation.id.desc()).limit(1)
        )
        return session.get(CatalogueVersion, version) if version is not None else None

    def _head(self, session: Session, lock: bool = False) -> Head:
        query = select(CatalogueVersion).where(CatalogueVersion.status == "draft")
        draft = session.scalar(query.with_for_update() if lock else query)
        live = self._live(session)
        row = draft or live
        return Head(row.revision if row else 0, draft, live)

    def _head_at(self, session: Session, revision: int, lock: bool = False) -> Head:
        head = self._head(session, lock)
        if revision != head.revision:
            what = (
                f"the draft (version {head.draft.id}) was saved by {head.draft.updated_by}"
                if head.draft
                else f"version {head.live.id if head.live else '-'} is live"
            )
            raise CatalogueStoreError(
                "stale",
                f"revision {revision} is not the catalogue's current one ({head.revision}): "
                f"{what} since; read it again and redo the change",
                409,
                {"current": head.to_dict()},
            )
        return head

    @staticmethod
    def _write_draft(
        session: Session,
        head: Head,
        document: Any,
        problems: int,
        actor: Actor,
        comment: str | None,
    ) -> CatalogueVersion:
        top = session.scalar(select(func.max(CatalogueVersion.revision))) or 0
        now = utcnow()
        values: dict[str, Any] = {
            "document": document,
            "revision": top + 1,
            "matters": len(matters_of(document)),
            "problems": problems,
            "updated_by": actor.name,
            "updated_at": now,
        }
        if comment is not None:
            values["comment"] = comment
        if head.draft is not None:
            # Compare-and-set: a save committed since `head` was read leaves this one no row.
            done = session.execute(
                update(CatalogueVersion)
                .where(
                    CatalogueVersion.id == head.draft.id,
                    CatalogueVersion.revision == head.draft.revision,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 1) != 1:
                raise _stale_now()
            session.expire(head.draft)
            row = session.get(CatalogueVersion, head.draft.id)
            assert row is not None
            return row
        values.setdefault("comment", "")
        row = CatalogueVersion(
            status="draft",
            draft_slot=1,
            based_on=head.live.id if head.live else None,
            created_by=actor.name,
            created_at=now,
            **values,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise _stale_now() from None
        return row

    @staticmethod
    def _commit(session: Session, row: CatalogueVersion) -> CatalogueVersion:
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise _stale_now() from None
        return row

    @staticmethod
    def _audit(
        session: Session,
        actor: Actor,
        action: str,
        row: CatalogueVersion,
        detail: dict[str, Any],
    ) -> None:
        audit(
            session,
            user=actor.name,
            role=actor.role,
            subject="catalogue",
            action=action,
            unique_id=str(row.id) if row.id is not None else None,
            client=actor.client,
            detail={"version": row.id, "revision": row.revision, **detail},
        )


def _stale_now() -> CatalogueStoreError:
    return CatalogueStoreError(
        "stale",
        "another change to the catalogue was saved at the same moment; read it again and redo",
        409,
    )
