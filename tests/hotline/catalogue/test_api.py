"""The dispatch catalogue over HTTP on a real database (SQLite and PostgreSQL): the shipped
catalogue is version 1; everyone signed in reads and searches the live one, only ops and
admins edit; a draft with problems is saved but not published, its problems named by matter
and field; publishing changes what the search finds and what the running service uses;
roll-back; an edit on a stale revision is refused with 409; every change is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app
from routing.catalogue import Catalogue

DRONE = {
    "name": "无人机飞行扰民",
    "department": "public_security",
    "domain": "social_management",
    "deadline_class": "general",
    "keywords": ["无人机扰民", "无人机在窗外"],
}
REQUEST = "楼下天天有无人机扰民"


class Client:
    def __init__(self, http: httpx.AsyncClient, service: Service, went_live: list[Catalogue]):
        self.http = http
        self.service = service
        self.went_live = went_live
        self.headers: dict[str, dict[str, str]] = {}

    def who(self, role: str) -> dict[str, str]:
        if role not in self.headers:
            department = "urban_management" if role == "department" else None
            token = create_user(self.service.sessions, f"u-{role}", role, department=department)
            self.headers[role] = {"Authorization": f"Bearer {token}"}
        return self.headers[role]

    async def request(self, method: str, path: str, role: str = "ops", **kw: Any) -> Any:
        return await self.http.request(method, path, headers=self.who(role), **kw)

    async def revision(self) -> int:
        response = await self.request("GET", "/api/catalogue", "operator")
        assert response.status_code == 200, response.text
        revision: int = response.json()["revision"]
        return revision


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    db.upgrade(settings.database_url)
    service = Service(settings.model_copy(update={"speech_enabled": False}))
    went_live: list[Catalogue] = []
    # What the running service would hand the classifier, kept here instead: the process's
    # default classifier is left to the other tests as it was.
    service.catalogue.on_live = went_live.append
    await service.catalogue.start()
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Client(http, service, went_live)
    await service.catalogue.stop()
    service.engine.dispose()


def audit_rows(service: Service) -> list[AuditEntry]:
    with service.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.subject == "catalogue").order_by(AuditEntry.id)
            ).all()
        )


async def test_the_shipped_catalogue_is_version_one_and_everyone_reads_it(client: Client) -> None:
    for role in ("operator", "supervisor", "ops", "admin", "department"):
        live = await client.request("GET", "/api/catalogue", role)
        assert live.status_code == 200, (role, live.text)
        assert live.json()["version"] == 1
        assert len(live.json()["matters"]) >= 250
        found = await client.request(
            "GET", "/api/catalogue/match", role, params={"q": "路灯不亮了"}
        )
        assert found.status_code == 200
        top = found.json()["results"][0]
        assert top["id"] == "urban.streetlight"
        assert top["department"] == "urban_management"
        assert top["matched"][0]["heard"] == "路灯不亮了"
        assert "路灯" in top["explanation"]
    assert (await client.http.get("/api/catalogue")).status_code == 401
    versions = (await client.request("GET", "/api/catalogue/versions")).json()
    assert versions["total"] == 1
    assert versions["items"][0]["created_by"] == "system"
    assert [a.action for a in audit_rows(client.service)] == ["install_shipped"]
    assert client.service.catalogue.live_version == 1


async def test_a_written_message_is_searched_through_the_body(client: Client) -> None:
    message = (
        "尊敬的领导：" + "我们小区的情况一直没有解决，" * 150 + "小区门口的路灯不亮了，晚上很危险。"
    )
    assert len(message) > 2_000
    found = await client.request("POST", "/api/catalogue/match", "operator", json={"q": message})
    assert found.status_code == 200, found.text
    assert found.json()["results"][0]["id"] == "urban.streetlight"
    too_long = await client.request(
        "GET", "/api/catalogue/match", "operator", params={"q": message}
    )
    assert too_long.status_code == 422


async def test_only_ops_and_admins_edit(client: Client) -> None:
    revision = await client.revision()
    for role in ("operator", "supervisor", "department"):
        for method, path, body in (
            ("GET", "/api/catalogue/versions", None),
            ("GET", "/api/catalogue/draft", None),
            ("PATCH", "/api/catalogue/draft/matters/urban.drone", {"revision": revision}),
            ("PUT", "/api/catalogue/draft", {"revision": revision, "document": "matters: []"}),
            ("POST", "/api/catalogue/draft/publish", {"revision": revision}),
            ("POST", "/api/catalogue/rollback", {}),
            ("GET", "/api/catalogue/diff?a=1&b=1", None),
        ):
            response = await client.request(method, path, role, json=body)
            assert response.status_code == 403, (role, method, path)
    admin = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/police.drone",
        "admin",
        json={"revision": revision, "fields": DRONE},
    )
    assert admin.status_code == 200, admin.text
    assert audit_rows(client.service)[-1].role == "admin"


async def test_a_bad_draft_is_saved_but_not_published_and_names_the_matter_and_field(
    client: Client,
) -> None:
    revision = await client.revision()
    saved = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/urban.streetlight",
        json={"revision": revision, "fields": {"department": "urban_managment"}},
    )
    assert saved.status_code == 200, saved.text
    draft = saved.json()
    assert draft["status"] == "draft" and not draft["valid"]
    [problem] = draft["problem_list"]
    assert problem["where"].startswith("urban.streetlight (matters[")
    assert problem["where"].endswith(").department")
    assert "did you mean 'urban_management'" in problem["what"]

    refused = await client.request(
        "POST", "/api/catalogue/draft/publish", json={"revision": draft["revision"]}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["problems"] == [problem]
    # Nothing went live: version 1 still answers, the draft is still there to fix.
    assert client.service.catalogue.live_version == 1
    assert len(client.went_live) == 1  # version 1, at the start
    got = await client.request("GET", "/api/catalogue/draft")
    assert got.status_code == 200 and got.json()["problem_list"] == [problem]

    # A whole document with a broken YAML line: 422 with the line, nothing stored.
    broken = await client.request(
        "PUT",
        "/api/catalogue/draft",
        json={"revision": draft["revision"], "document": "matters:\n  - id: [unclosed\n"},
    )
    assert broken.status_code == 422
    assert broken.json()["detail"]["problems"][0]["where"].startswith("line ")
    assert (await client.revision()) == draft["revision"]


async def test_publishing_changes_what_the_search_finds_and_what_runs(client: Client) -> None:
    before = await client.request("GET", "/api/catalogue/match", params={"q": REQUEST})
    assert "police.drone" not in [m["id"] for m in before.json()["results"]]
    starts = len(client.went_live)
    # A work order cannot name the matter before it is published.
    order = await client.request(
        "POST", "/api/work-orders", "operator", json={"channel": "web", "text": REQUEST}
    )
    assert order.status_code == 201, order.text
    edit = f"/api/work-orders/{order.json()['number']}"
    refused = await client.request(
        "PATCH", edit, "operator", json={"version": 1, "matter": "police.drone"}
    )
    assert refused.status_code == 422 and "not in the dispatch catalogue" in refused.text

    saved = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/police.drone",
        json={"revision": await client.revision(), "fields": DRONE},
    )
    assert saved.json()["done"] == "add" and saved.json()["valid"], saved.text
    # A draft changes nothing that runs.
    unchanged = await client.request("GET", "/api/catalogue/match", params={"q": REQUEST})
    assert unchanged.json() == before.json()

    published = await client.request(
        "POST", "/api/catalogue/draft/publish", json={"revision": saved.json()["revision"]}
    )
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 2 and published.json()["live"]

    after = await client.request("GET", "/api/catalogue/match", "operator", params={"q": REQUEST})
    top = after.json()["results"][0]
    assert after.json()["version"] == 2
    assert (top["id"], top["department"]) == ("police.drone", "public_security")
    assert top["matched"][0]["term"] == "无人机扰民"
    # The service runs it: the classifier was handed it, deadlines read it.
    assert len(client.went_live) == starts + 1
    assert client.went_live[-1].get("police.drone") is not None
    assert client.service.catalogue.live() is client.went_live[-1]
    assert client.service.catalogue.deadline_class_of("police.drone") == "general"
    # Work orders follow the live version: the matter is accepted and dispatched with it.
    taken = await client.request(
        "PATCH", edit, "operator", json={"version": 1, "matter": "police.drone"}
    )
    assert taken.status_code == 200 and taken.json()["matter"] == "police.drone", taken.text
    sent = await client.request(
        "POST", f"{edit}/dispatch", "operator", json={"department": "public_security"}
    )
    assert sent.status_code == 200, sent.text
    assert (sent.json()["department"], sent.json()["deadline_class"]) == (
        "public_security",
        "general",
    )

    changes = await client.request("GET", "/api/catalogue/diff", params={"a": 1, "b": 2})
    assert changes.json()["added"] == [{"id": "police.drone", "name": DRONE["name"]}]
    assert changes.json()["removed"] == [] and changes.json()["changed"] == []

    versions = (await client.request("GET", "/api/catalogue/versions")).json()
    assert versions["live"] == 2
    assert [(v["version"], v["published_by"]) for v in versions["items"]] == [
        (2, "u-ops"),
        (1, "system"),
    ]


async def test_roll_back_makes_the_earlier_version_run_again(client: Client) -> None:
    saved = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/police.drone",
        json={"revision": await client.revision(), "fields": DRONE},
    )
    revision = saved.json()["revision"]
    await client.request("POST", "/api/catalogue/draft/publish", json={"revision": revision})
    assert client.service.catalogue.live().get("police.drone") is not None

    back = await client.request("POST", "/api/catalogue/rollback", json={})
    assert back.status_code == 200, back.text
    assert back.json()["version"] == 1
    assert client.service.catalogue.live_version == 1
    assert client.service.catalogue.live().get("police.drone") is None
    assert client.went_live[-1].get("police.drone") is None
    found = await client.request("GET", "/api/catalogue/match", params={"q": REQUEST})
    assert "police.drone" not in [m["id"] for m in found.json()["results"]]

    again = await client.request("POST", "/api/catalogue/rollback", json={"to": 1})
    assert again.status_code == 409 and "already live" in again.json()["detail"]["message"]
    forward = await client.request("POST", "/api/catalogue/rollback", json={"to": 2})
    assert forward.status_code == 200 and client.service.catalogue.live_version == 2
    history = (await client.request("GET", "/api/catalogue/activations")).json()["items"]
    assert [(h["version"], h["action"]) for h in history] == [
        (2, "rollback"),
        (1, "rollback"),
        (2, "publish"),
        (1, "shipped"),
    ]
    missing = await client.request("POST", "/api/catalogue/rollback", json={"to": 99})
    assert missing.status_code == 404


async def test_an_edit_on_a_stale_revision_is_refused(client: Client) -> None:
    read = await client.revision()
    first = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/police.drone",
        json={"revision": read, "fields": DRONE},
    )
    assert first.status_code == 200
    # A second editor who read the same revision: refused, told what is current now.
    second = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/urban.streetlight",
        "admin",
        json={"revision": read, "fields": {"name": "路灯故障"}},
    )
    assert second.status_code == 409
    detail = second.json()["detail"]
    assert detail["error"] == "stale"
    assert detail["current"]["revision"] == first.json()["revision"]
    assert detail["current"]["updated_by"] == "u-ops"
    # Nothing of the refused edit was stored.
    draft = (await client.request("GET", "/api/catalogue/draft")).json()
    names = {m["id"]: m["name"] for m in draft["document"]["matters"]}
    assert names["urban.streetlight"] == "路灯"
    # Publishing what one read before the other's save is refused too.
    stale_publish = await client.request(
        "POST", "/api/catalogue/draft/publish", json={"revision": read}
    )
    assert stale_publish.status_code == 409
    # Once published, an edit made on the old live revision is stale as well.
    await client.request(
        "POST", "/api/catalogue/draft/publish", json={"revision": first.json()["revision"]}
    )
    late = await client.request(
        "PUT",
        "/api/catalogue/draft",
        json={"revision": read, "document": {"matters": draft["document"]["matters"][:5]}},
    )
    assert late.status_code == 409


async def test_whole_document_drafts_and_discarding(client: Client) -> None:
    live = (await client.request("GET", "/api/catalogue/versions/1")).json()
    matters = live["document"]["matters"]
    saved = await client.request(
        "PUT",
        "/api/catalogue/draft",
        json={
            "revision": await client.revision(),
            "document": {"matters": matters[:10]},
            "comment": "a smaller catalogue",
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["matters"] == 10 and saved.json()["comment"] == "a smaller catalogue"
    changes = await client.request("GET", "/api/catalogue/diff", params={"a": 1, "b": 2})
    assert len(changes.json()["removed"]) == len(matters) - 10
    gone = await client.request(
        "DELETE", "/api/catalogue/draft", params={"revision": saved.json()["revision"]}
    )
    assert gone.status_code == 200
    assert (await client.request("GET", "/api/catalogue/draft")).status_code == 404
    assert (await client.request("GET", "/api/catalogue/versions/2")).status_code == 404
    # Removing a matter the catalogue lacks: 404 naming it; an unknown field: named.
    absent = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/no.such",
        json={"revision": await client.revision(), "remove": True},
    )
    assert absent.status_code == 404 and "no.such" in absent.json()["detail"]["message"]
    odd = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/urban.streetlight",
        json={"revision": await client.revision(), "fields": {"colour": "red"}},
    )
    assert odd.status_code == 200
    assert odd.json()["problem_list"][0]["where"].endswith(".colour")


async def test_every_change_is_audited(client: Client) -> None:
    saved = await client.request(
        "PATCH",
        "/api/catalogue/draft/matters/police.drone",
        json={"revision": await client.revision(), "fields": DRONE},
    )
    await client.request(
        "POST", "/api/catalogue/draft/publish", json={"revision": saved.json()["revision"]}
    )
    await client.request("POST", "/api/catalogue/rollback", "admin", json={})
    # Reading and searching are not changes: not audited (a search can be a caller's words).
    await client.request("GET", "/api/catalogue/match", "operator", params={"q": REQUEST})
    rows = audit_rows(client.service)
    assert [(r.action, r.user_name) for r in rows] == [
        ("install_shipped", "system"),
        ("edit_matter", "u-ops"),
        ("publish", "u-ops"),
        ("rollback", "u-admin"),
    ]
    assert rows[1].detail["matter"] == "police.drone" and rows[1].detail["done"] == "add"
    assert rows[2].detail == {**rows[2].detail, "version": 2, "from": 1}
    assert rows[3].detail["from"] == 2 and rows[3].detail["to"] == 1
    assert all(REQUEST not in str(r.detail) for r in rows)


async def test_limits_on_documents_and_pages(client: Client) -> None:
    revision = await client.revision()
    too_many = {"matters": [{"id": f"m.n{i}"} for i in range(5_001)]}
    saved = await client.request(
        "PUT", "/api/catalogue/draft", json={"revision": revision, "document": too_many}
    )
    assert saved.status_code == 200
    assert saved.json()["problem_list"] == [
        {"where": "matters", "what": "5001 matters; at most 5000"}
    ]
    big = "matters:\n" + "  - id: a.b\n    note: " + "x" * 4_100_000 + "\n"
    refused = await client.request(
        "PUT",
        "/api/catalogue/draft",
        json={"revision": saved.json()["revision"], "document": big},
    )
    assert refused.status_code == 422
    page = await client.request("GET", "/api/catalogue/versions", params={"limit": 1000})
    assert page.status_code == 422
