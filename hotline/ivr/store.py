"""Menu versions in the database: the only code that writes `ivr_versions` and
`ivr_activations` (`hotline.ivr.tables`).

Versions: a draft is saved as given (even with problems), validated on demand, and published
only when valid; a published version never changes. Publishing or rolling back adds a row to
`ivr_activations`; the newest row names the live version. Both take a `prepare` step that runs
before that row is written (the runtime makes the version's placeholder prompts there): when
it fails, nothing is written and the live version stays as it was.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.db import utcnow
from hotline.ivr.tables import MenuActivation, MenuVersion
from ivr.validation import Problem, validate


class IvrError(Exception):
    error_id = "ivr-error"
    status = 400


class VersionNotFound(IvrError):
    error_id = "ivr-version-not-found"
    status = 404


class VersionImmutable(IvrError):
    error_id = "ivr-version-published"
    status = 409


class MenuInvalid(IvrError):
    error_id = "ivr-menu-invalid"
    status = 422

    def __init__(self, version: int, problems: list[Problem], not_done: str = "not published"):
        self.problems = problems
        super().__init__(f"version {version} has {len(problems)} problem(s); {not_done}")


class NothingToRollBack(IvrError):
    error_id = "ivr-nothing-to-roll-back"
    status = 409


#: a last step before a version goes live; raises to leave everything as it was
Prepare = Callable[[MenuVersion], None]


class MenuStore:
    """Menu versions in the database. Blocking: call from a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def versions(self) -> list[MenuVersion]:
        with self.sessions() as session:
            return list(session.scalars(select(MenuVersion).order_by(MenuVersion.id)).all())

    def get(self, version: int) -> MenuVersion:
        with self.sessions() as session:
            row = session.get(MenuVersion, version)
        if row is None:
            raise VersionNotFound(f"no menu version {version}")
        return row

    def create(
        self, document: dict[str, Any], by: str, comment: str = "", based_on: int | None = None
    ) -> MenuVersion:
        if based_on is not None:
            self.get(based_on)
        with self.sessions() as session:
            now = utcnow()
            row = MenuVersion(
                document=document,
                status="draft",
                comment=comment,
                based_on=based_on,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.commit()
            return row

    def update(
        self, version: int, document: dict[str, Any], by: str, comment: str | None
    ) -> MenuVersion:
        with self.sessions() as session:
            row = session.get(MenuVersion, version)
            if row is None:
                raise VersionNotFound(f"no menu version {version}")
            if row.status != "draft":
                raise VersionImmutable(
                    f"version {version} was published by {row.published_by} and cannot change; "
                    "create a new draft based on it"
                )
            row.document = document
            row.updated_at = utcnow()
            if comment is not None:
                row.comment = comment
            session.commit()
            return row

    def activations(self) -> list[MenuActivation]:
        with self.sessions() as session:
            return list(
                session.scalars(select(MenuActivation).order_by(MenuActivation.id.desc())).all()
            )

    def live(self) -> MenuVersion | None:
        activations = self.activations()
        return self.get(activations[0].version_id) if activations else None

    def publish(
        self,
        version: int,
        by: str,
        recorded: set[tuple[str, str]],
        prepare: Prepare | None = None,
    ) -> MenuVersion:
        """Make draft `version` live once it validates and `prepare` has run on it."""
        with self.sessions() as session:
            # Locked (PostgreSQL) so that the document prepared is the one published.
            row = session.get(MenuVersion, version, with_for_update=True)
            if row is None:
                raise VersionNotFound(f"no menu version {version}")
            if row.status != "draft":
                raise VersionImmutable(
                    f"version {version} is already published; roll back to it instead"
                )
            _, problems = validate(row.document, recorded)
            if problems:
                raise MenuInvalid(version, problems)
            if prepare is not None:
                prepare(row)
            now = utcnow()
            row.status = "published"
            row.published_by = by
            row.published_at = now
            session.add(MenuActivation(version_id=version, action="publish", by=by, at=now))
            session.commit()
            return row

    def rollback(
        self, by: str, to: int | None = None, prepare: Prepare | None = None
    ) -> MenuVersion:
        """Make `to` (or the version live before the current one) live again, once `prepare`
        has run on it."""
        with self.sessions() as session:
            activations = list(
                session.scalars(select(MenuActivation).order_by(MenuActivation.id.desc())).all()
            )
            if not activations:
                raise NothingToRollBack("no version has been published yet")
            current = activations[0].version_id
            if to is None:
                earlier = [a.version_id for a in activations if a.version_id != current]
                if not earlier:
                    raise NothingToRollBack(f"version {current} is the only version ever published")
                to = earlier[0]
            row = session.get(MenuVersion, to)
            if row is None:
                raise VersionNotFound(f"no menu version {to}")
            if row.status != "published":
                raise IvrError(f"version {to} is a draft: publish it instead of rolling back")
            if to == current:
                raise NothingToRollBack(f"version {to} is already live")
            if prepare is not None:
                prepare(row)
            session.add(MenuActivation(version_id=to, action="rollback", by=by, at=utcnow()))
            session.commit()
            return row
