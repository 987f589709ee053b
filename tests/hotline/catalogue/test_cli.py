"""`hotline catalogue validate | import | export | versions | match` on a real database, and a
version published from the command line reaching a running service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.catalogue.feature import CatalogueFeature
from hotline.cli import app
from hotline.core import db
from hotline.core.audit import AuditEntry
from routing.catalogue import Catalogue

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    return tmp_path


def test_validate_names_each_problem_by_matter_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "matters:\n"
        "  - {id: water.cut, name: 停水, department: water, domain: public_services,"
        " deadline_class: utilities, keywords: [停水了]}\n"
        "  - {id: water.cut, name: 水压低, department: water_supply,"
        " domain: public_services, deadline_class: soon, keywords: [水压]}\n",
        "utf-8",
    )
    result = runner.invoke(app, ["catalogue", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "water.cut (matters[0]).department: unknown department 'water'" in lines[0]
    assert any(line.startswith("water.cut (matters[1]).deadline_class:") for line in lines)
    assert any("duplicate id, also matters[0]" in line for line in lines)
    broken = tmp_path / "broken.yaml"
    broken.write_text("matters: [\n", "utf-8")
    result = runner.invoke(app, ["catalogue", "validate", str(broken)])
    assert result.exit_code == 1 and "not valid YAML or JSON" in result.stderr
    shipped = runner.invoke(
        app, ["catalogue", "validate", str(Path("routing/data/catalogue.yaml").resolve())]
    )
    assert shipped.exit_code == 0 and shipped.stdout.startswith("valid: ")


def test_import_export_versions_and_match(env: Path, database_url: str) -> None:
    result = runner.invoke(app, ["catalogue", "versions"])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.split()[:3] == ["*", "1", "published"] and "system" in line

    out = env / "live.yaml"
    result = runner.invoke(app, ["catalogue", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text("utf-8"))
    for matter in document["matters"]:
        if matter["id"] == "urban.streetlight":
            matter["keywords"].append("灯杆歪了")
    edited = env / "edited.yaml"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")

    assert runner.invoke(app, ["catalogue", "match", "门口灯杆歪了"]).exit_code == 1
    result = runner.invoke(app, ["catalogue", "import", str(edited), "--by", "wang.ops"])
    assert result.exit_code == 0, result.output
    assert "saved as draft version 2" in result.stdout and "0 problem(s)" in result.stdout
    # A draft is not live.
    assert runner.invoke(app, ["catalogue", "match", "门口灯杆歪了"]).exit_code == 1
    result = runner.invoke(
        app, ["catalogue", "import", str(edited), "--publish", "--by", "wang.ops"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "version 2 is live"
    result = runner.invoke(app, ["catalogue", "match", "门口灯杆歪了"])
    assert result.exit_code == 0, result.output
    fields = result.stdout.split("\t")
    assert (fields[0], fields[2]) == ("urban.streetlight", "urban_management")
    assert "灯杆歪了" in fields[3]

    # A file with a problem is kept as a draft and not published.
    document["matters"][0]["department"] = "heatin"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    result = runner.invoke(app, ["catalogue", "import", str(edited), "--publish"])
    assert result.exit_code == 1
    assert "not published" in result.stderr
    assert f"{document['matters'][0]['id']} (matters[0]).department" in result.stderr
    result = runner.invoke(app, ["catalogue", "versions"])
    assert [line.split()[:3] for line in result.stdout.splitlines()] == [
        ["3", "draft", "317"],
        ["*", "2", "published"],
        ["1", "published", "317"],
    ]
    result = runner.invoke(app, ["catalogue", "export", "--draft", "--json"])
    assert result.exit_code == 0 and '"heatin"' in result.stdout

    sessions = db.session_factory(db.make_engine(database_url))
    with sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == "catalogue")
        ).all()
    assert actions == ["install_shipped", "save_draft", "save_draft", "publish", "save_draft"]


async def test_a_version_published_elsewhere_reaches_a_running_service(
    env: Path, database_url: str
) -> None:
    db.upgrade(database_url)
    went_live: list[Catalogue] = []
    feature = CatalogueFeature(
        db.session_factory(db.make_engine(database_url)),
        on_live=went_live.append,
        poll_interval=0,
    )
    await feature.start()
    assert feature.live_version == 1 and len(went_live) == 1
    out = env / "live.yaml"
    assert runner.invoke(app, ["catalogue", "export", "-o", str(out)]).exit_code == 0
    document = yaml.safe_load(out.read_text("utf-8"))
    document["matters"] = document["matters"][:20]
    out.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    result = runner.invoke(app, ["catalogue", "import", str(out), "--publish"])
    assert result.exit_code == 0, result.output

    await feature.refresh()  # what the service's poller runs every interval
    assert feature.live_version == 2
    assert len(feature.live()) == 20 and went_live[-1] is feature.live()
    await feature.refresh()  # nothing new: nothing recompiled, nobody told again
    assert len(went_live) == 2
    await feature.stop()
