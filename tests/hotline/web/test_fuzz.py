"""Every operation of the OpenAPI, fuzzed with each role's token and with none: no request
gets a server error, and no role gets a 2xx from an operation it may not use.

Who may use what is the table below, kept here on purpose rather than read from the routes:
it is the specification the routes are checked against. A route the table does not name
fails the test, so a new route needs an entry. The app runs in-process on SQLite with a
Service that is not connected to Asterisk (queue operations answer 503); examples per
operation are bounded so the whole run stays near a minute on two cores.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import load_settings
from hotline.service import Service
from hotline.web.app import create_app

ANYONE = "anonymous"
STRANGER = "unknown token"
ROLES = ("admin", "ops", "supervisor", "operator")
SIGNED_IN = frozenset(ROLES)
PUBLIC = frozenset({ANYONE, *ROLES})
CALLS = frozenset({"admin", "supervisor", "ops"})
LISTENERS = frozenset({"supervisor", "admin"})
OPS = frozenset({"ops"})
SUPERVISOR = frozenset({"supervisor"})
#: work orders: operators, supervisors and admins (department users are not fuzzed: a
#: department sees only what was dispatched to it, tests/hotline/orders/test_api.py)
ORDERS = frozenset({"admin", "supervisor", "operator"})
ORDER_ACTIONS = ("answer", "dispatch", "accept_return", "to_callback", "close", "reopen", "extend")
#: the knowledge base's maintainers (everyone signed in reads it)
KB_EDITORS = frozenset({"ops", "admin"})
#: the dispatch catalogue's editors (everyone signed in reads and searches it)
CATALOGUE_EDITORS = frozenset({"ops", "admin"})
#: merging work orders (并单): the dispatch desk and those above it
MERGERS = frozenset({"operator", "supervisor", "admin"})

#: (method, path) -> who may get a 2xx from it
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    # Loopback clients without a token, by default; the fuzzing client is not one of them.
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/me"): SIGNED_IN,
    ("GET", "/api/calls"): CALLS,
    ("GET", "/api/calls/{unique_id}"): CALLS,
    ("GET", "/api/recordings"): LISTENERS,
    ("GET", "/api/recordings/{unique_id}"): LISTENERS,
    ("POST", "/api/recordings/{unique_id}/ticket"): LISTENERS,
    ("GET", "/api/recordings/{unique_id}/audio"): LISTENERS,
    ("PUT", "/api/recordings/{unique_id}/hold"): LISTENERS,
    ("DELETE", "/api/recordings/{unique_id}/hold"): LISTENERS,
    ("GET", "/api/recordings-audit"): frozenset({"admin"}),
    ("GET", "/api/audit"): frozenset({"admin"}),
    ("GET", "/api/ivr/versions"): OPS,
    ("POST", "/api/ivr/versions"): OPS,
    ("GET", "/api/ivr/versions/{version}"): OPS,
    ("PUT", "/api/ivr/versions/{version}"): OPS,
    ("POST", "/api/ivr/versions/{version}/validate"): OPS,
    ("POST", "/api/ivr/versions/{version}/publish"): OPS,
    ("POST", "/api/ivr/rollback"): OPS,
    ("GET", "/api/ivr/live"): OPS,
    ("GET", "/api/ivr/diff"): OPS,
    ("GET", "/api/ivr/versions/{version}/diagram"): OPS,
    ("POST", "/api/ivr/versions/{version}/simulate"): OPS,
    ("GET", "/api/ivr/prompts"): OPS,
    ("PUT", "/api/ivr/prompts/{name}/{language}"): OPS,
    ("GET", "/api/roster/operators"): SUPERVISOR,
    ("PUT", "/api/roster/operators/{extension}"): SUPERVISOR,
    ("DELETE", "/api/roster/operators/{extension}"): SUPERVISOR,
    ("GET", "/api/roster/shifts"): SUPERVISOR,
    ("PUT", "/api/roster/shifts/{name}"): SUPERVISOR,
    ("DELETE", "/api/roster/shifts/{name}"): SUPERVISOR,
    ("GET", "/api/roster/assignments"): SUPERVISOR,
    ("POST", "/api/roster/assignments"): SUPERVISOR,
    ("DELETE", "/api/roster/assignments/{assignment_id}"): SUPERVISOR,
    ("POST", "/api/roster/import"): SUPERVISOR,
    ("GET", "/api/roster/calendar"): SUPERVISOR,
    ("PUT", "/api/roster/calendar/{day}"): SUPERVISOR,
    ("DELETE", "/api/roster/calendar/{day}"): SUPERVISOR,
    ("GET", "/api/roster/on-duty"): SUPERVISOR,
    ("GET", "/api/roster/queues"): SUPERVISOR,
    ("POST", "/api/roster/queues/sync"): SUPERVISOR,
    ("POST", "/api/roster/operators/{extension}/pause"): SUPERVISOR,
    ("GET", "/api/roster/decisions/{unique_id}"): SUPERVISOR,
    ("GET", "/api/work-orders"): ORDERS,
    ("POST", "/api/work-orders"): ORDERS,
    ("GET", "/api/work-orders/search"): ORDERS,
    ("GET", "/api/work-orders/{number}"): ORDERS,
    ("PATCH", "/api/work-orders/{number}"): ORDERS,
    **{("POST", f"/api/work-orders/{{number}}/{action}"): ORDERS for action in ORDER_ACTIONS},
    # a department's answers: supervisors and admins may give them for it
    ("POST", "/api/work-orders/{number}/reply"): LISTENERS,
    ("POST", "/api/work-orders/{number}/return"): LISTENERS,
    ("GET", "/api/reports/{name}"): LISTENERS,
    ("GET", "/api/work-orders/{number}/merge-candidates"): MERGERS,
    ("POST", "/api/work-orders/{number}/merge"): MERGERS,
    ("POST", "/api/work-orders/{number}/unmerge"): MERGERS,
    ("GET", "/api/kb/search"): SIGNED_IN,
    ("POST", "/api/kb/search"): SIGNED_IN,
    ("GET", "/api/kb/entries"): SIGNED_IN,
    ("GET", "/api/kb/entries/{entry_id}"): SIGNED_IN,
    ("GET", "/api/kb/entries/{entry_id}/versions"): SIGNED_IN,
    ("POST", "/api/kb/entries"): KB_EDITORS,
    ("PATCH", "/api/kb/entries/{entry_id}"): KB_EDITORS,
    ("DELETE", "/api/kb/entries/{entry_id}"): KB_EDITORS,
    ("POST", "/api/kb/import"): KB_EDITORS,
    ("GET", "/api/kb/export"): KB_EDITORS,
    ("GET", "/api/catalogue"): SIGNED_IN,
    ("GET", "/api/catalogue/match"): SIGNED_IN,
    ("POST", "/api/catalogue/match"): SIGNED_IN,
    ("GET", "/api/catalogue/versions"): CATALOGUE_EDITORS,
    ("GET", "/api/catalogue/versions/{version}"): CATALOGUE_EDITORS,
    ("GET", "/api/catalogue/activations"): CATALOGUE_EDITORS,
    ("GET", "/api/catalogue/diff"): CATALOGUE_EDITORS,
    ("GET", "/api/catalogue/draft"): CATALOGUE_EDITORS,
    ("PUT", "/api/catalogue/draft"): CATALOGUE_EDITORS,
    ("DELETE", "/api/catalogue/draft"): CATALOGUE_EDITORS,
    ("PATCH", "/api/catalogue/draft/matters/{matter_id}"): CATALOGUE_EDITORS,
    ("POST", "/api/catalogue/draft/publish"): CATALOGUE_EDITORS,
    ("POST", "/api/catalogue/rollback"): CATALOGUE_EDITORS,
    # outbound calls: jobs and the do-not-call list hold citizens' numbers (supervisors and
    # admins); the dialer's switch also for ops; the survey is edited like the menus
    ("GET", "/api/outbound/jobs"): LISTENERS,
    ("GET", "/api/outbound/jobs/{job_id}"): LISTENERS,
    ("POST", "/api/outbound/jobs/{job_id}/retry"): LISTENERS,
    ("POST", "/api/outbound/jobs/{job_id}/cancel"): LISTENERS,
    ("GET", "/api/outbound/status"): CALLS,
    ("POST", "/api/outbound/pause"): CALLS,
    ("POST", "/api/outbound/resume"): CALLS,
    ("GET", "/api/outbound/do-not-call"): LISTENERS,
    ("POST", "/api/outbound/do-not-call"): LISTENERS,
    ("DELETE", "/api/outbound/do-not-call/{number}"): LISTENERS,
    ("GET", "/api/outbound/survey"): KB_EDITORS,
    ("POST", "/api/outbound/survey"): KB_EDITORS,
    ("POST", "/api/outbound/survey/{version}/live"): KB_EDITORS,
}

#: Operations that answer 503 while Asterisk is not reachable (as here) or, for /healthz,
#: while any part is down.
UNAVAILABLE = {
    ("GET", "/healthz"),
    ("GET", "/api/roster/queues"),
    ("POST", "/api/roster/queues/sync"),
    ("POST", "/api/roster/operators/{extension}/pause"),
}

#: Examples per operation, each sent as every role, with an unknown token and with none;
#: HOTLINE_FUZZ_EXAMPLES=200 makes a longer run (with HOTLINE_FUZZ_SEED, a different one).
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("HOTLINE_FUZZ_SEED")


class Api:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.app = create_app(service)
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.headers = {
            ANYONE: {},
            STRANGER: {"Authorization": "Bearer not-a-token-of-anyone"},
        } | {
            role: {"Authorization": f"Bearer {create_user(service.sessions, f'u-{role}', role)}"}
            for role in ROLES
        }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the whole module: what one operation stores, the next ones meet."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    settings_ = load_settings(
        state_dir=tmp_path / "state",
        database_url=f"sqlite:///{tmp_path / 'state' / 'hotline.db'}",
        prompts_dir=tmp_path / "prompts",
        recordings_monitor_dir=tmp_path / "monitor",
        speech_enabled=False,
        sandbox=False,
        # Fuzzing sends many requests without a token from one address: 429 would hide the
        # answers under test.
        auth_failures_per_minute=10_000,
    )
    db.upgrade(settings_.database_url)
    service = Service(settings_)
    asyncio.run(service.ivr.start())
    yield Api(service)
    service.engine.dispose()


def test_every_route_has_an_entry_in_the_table(api: Api) -> None:
    spec = api.app.openapi()
    routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert routes - ALLOWED.keys() == set(), "routes missing from ALLOWED"
    assert ALLOWED.keys() - routes == set(), "ALLOWED names routes that do not exist"


@pytest.mark.parametrize("route", sorted(ALLOWED), ids=" ".join)
def test_no_server_error_and_no_role_beyond_its_rights(api: Api, route: tuple[str, str]) -> None:
    method, path = route
    operation = api.schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any) -> None:
        # Who asks is this test's choice, not the generator's.
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
        }
        for who, headers in api.headers.items():
            response = case.call(headers=headers)
            where = f"{method} {case.formatted_path} as {who}"
            unavailable = response.status_code == 503 and route in UNAVAILABLE
            assert response.status_code < 500 or unavailable, (
                f"{where}: {response.status_code} {response.text[:300]}\n"
                + case.as_curl_command(headers=headers)
            )
            if 200 <= response.status_code < 300:
                assert who in ALLOWED[route], (
                    f"{where}: {response.status_code}, but {who} may not use it"
                )

    if SEED is not None:
        send = seed(int(SEED))(send)
    send()
