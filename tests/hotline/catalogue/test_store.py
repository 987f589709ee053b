"""The catalogue store on a real database: two editors saving on the same revision at the same
moment (one wins, the other is told its edit is stale, one draft stays); a publish whose
compile step fails leaves the live version as it was."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hotline.catalogue.document import shipped_document
from hotline.catalogue.store import Actor, CatalogueStore, CatalogueStoreError
from hotline.core import db


@pytest.fixture
def store(database_url: str) -> Iterator[CatalogueStore]:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    store = CatalogueStore(db.session_factory(engine))
    store.ensure_shipped(shipped_document())
    yield store
    engine.dispose()


def test_two_saves_on_one_revision_at_the_same_moment_one_wins(store: CatalogueStore) -> None:
    document = shipped_document()
    revision = store.head().revision
    start = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def save(name: str, matters: int) -> None:
        start.wait()
        try:
            outcomes[name] = store.save_draft(
                {"matters": document["matters"][:matters]}, revision, Actor(name, "ops")
            )
        except CatalogueStoreError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=save, args=(n, m)) for n, m in (("a", 10), ("b", 20))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes.values() if isinstance(o, CatalogueStoreError)]
    saved = [o for o in outcomes.values() if not isinstance(o, CatalogueStoreError)]
    assert len(saved) == 1 and len(refused) == 1
    assert refused[0].status == 409 and refused[0].code == "stale"
    head = store.head()
    assert head.draft is not None and head.draft.matters == saved[0].row.matters
    total, rows = store.versions()
    assert total == 2  # the shipped version and one draft


def test_a_publish_that_cannot_compile_leaves_the_live_version(store: CatalogueStore) -> None:
    saved = store.save_draft(shipped_document(), store.head().revision, Actor("a", "ops"))

    def fail(_: Any) -> None:
        raise RuntimeError("compile failed")

    with pytest.raises(RuntimeError):
        store.publish(saved.row.revision, Actor("a", "ops"), fail)
    assert store.live_id() == 1
    head = store.head()
    assert head.draft is not None and head.draft.status == "draft"
    assert store.ensure_shipped(shipped_document()) is None  # installed once only
