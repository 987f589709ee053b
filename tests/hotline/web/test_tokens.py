"""Tokens: expiry, revocation, disabled users, role changes, failures logged and rate-limited."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import httpx
import pytest
from sqlalchemy import update

from hotline.core import auth, db
from hotline.core.auth import User, create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app


@pytest.fixture
def service(settings: Settings) -> Service:
    db.upgrade(settings.database_url)
    return Service(settings)


async def get(
    service: Service, token: str, path: str = "/api/me", client: str = "192.0.2.10"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(service), client=(client, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get(path, headers={"Authorization": f"Bearer {token}"})


def expire(service: Service, name: str) -> None:
    with service.sessions() as session:
        session.execute(
            update(User).where(User.name == name).values(expires_at=db.utcnow() - timedelta(1))
        )
        session.commit()


async def test_a_token_expires_after_its_days(service: Service) -> None:
    token = create_user(service.sessions, "alice", "ops", days=30)
    with service.sessions() as session:
        user = session.query(User).filter_by(name="alice").one()
        expires = user.expires_at.replace(tzinfo=user.expires_at.tzinfo or UTC)
        left = expires - db.utcnow()
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    assert (await get(service, token)).status_code == 200
    expire(service, "alice")
    response = await get(service, token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_the_default_lifetime_comes_from_the_settings(tmp_path) -> None:
    from hotline.core.settings import load_settings

    assert load_settings(state_dir=tmp_path).token_days == 90
    assert load_settings(state_dir=tmp_path, token_days=7).token_days == 7


async def test_a_revoked_token_is_refused_and_a_new_one_works(service: Service) -> None:
    old = create_user(service.sessions, "bob", "supervisor")
    auth.revoke_token(service.sessions, "bob")
    assert (await get(service, old)).status_code == 401
    new = auth.new_token(service.sessions, "bob", days=5)
    assert (await get(service, new)).status_code == 200
    assert (await get(service, old)).status_code == 401


async def test_a_disabled_user_is_refused_until_enabled(service: Service) -> None:
    token = create_user(service.sessions, "carol", "admin")
    auth.set_disabled(service.sessions, "carol", True)
    response = await get(service, token)
    assert response.status_code == 401
    auth.set_disabled(service.sessions, "carol", False)
    assert (await get(service, token)).status_code == 200


async def test_a_role_change_applies_to_the_next_request(service: Service) -> None:
    token = create_user(service.sessions, "dave", "supervisor")
    assert (await get(service, token, "/api/calls")).status_code == 200
    auth.set_role(service.sessions, "dave", "operator")
    assert (await get(service, token, "/api/calls")).status_code == 403
    assert (await get(service, token)).json() == {"name": "dave", "role": "operator"}


def test_user_changes_name_a_user_that_exists_and_a_role_that_exists(service: Service) -> None:
    create_user(service.sessions, "erin", "ops")
    with pytest.raises(auth.UserError, match="no user called 'nobody'"):
        auth.revoke_token(service.sessions, "nobody")
    with pytest.raises(auth.UserError, match="not one of"):
        auth.set_role(service.sessions, "erin", "root")
    with pytest.raises(auth.UserError, match="days"):
        create_user(service.sessions, "frank", "ops", days=0)


async def test_failures_are_logged_with_the_reason_and_address_never_the_token(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hotline.auth")
    expired = create_user(service.sessions, "gina", "ops")
    expire(service, "gina")
    disabled = create_user(service.sessions, "hank", "ops")
    auth.set_disabled(service.sessions, "hank", True)
    unknown = "made-up-token-" + "x" * 30
    for token in (unknown, expired, disabled):
        assert (await get(service, token, client="198.51.100.7")).status_code == 401
    messages = [r.getMessage() for r in caplog.records if r.name == "hotline.auth"]
    assert len(messages) == 3, messages
    assert "unknown token" in messages[0] and "198.51.100.7" in messages[0]
    assert "gina" in messages[1] and "expired" in messages[1]
    assert "hank" in messages[2] and "disabled" in messages[2]
    for token in (unknown, expired, disabled):
        assert token not in caplog.text
        assert auth.hash_token(token) not in caplog.text


async def test_the_eleventh_failure_in_a_minute_is_429_for_that_address_only(
    service: Service,
) -> None:
    token = create_user(service.sessions, "ivan", "ops")
    for n in range(10):
        assert (await get(service, f"guess-{n}", client="203.0.113.5")).status_code == 401
    refused = await get(service, "guess-10", client="203.0.113.5")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Blocked before the token is even looked at: a right guess is refused too.
    assert (await get(service, token, client="203.0.113.5")).status_code == 429
    # Another address is not held back.
    assert (await get(service, token, client="203.0.113.6")).status_code == 200


def test_the_failure_window_slides() -> None:
    now = [1000.0]
    limiter = auth.FailureLimiter(3, 60.0, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.failed("a")
    assert limiter.retry_after("a") == 60
    now[0] += 30
    assert limiter.retry_after("a") == 30
    now[0] += 30.5
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("b") == 0


def test_the_limiter_forgets_addresses_it_no_longer_needs() -> None:
    now = [0.0]
    limiter = auth.FailureLimiter(2, 60.0, clock=lambda: now[0], max_addresses=100)
    for n in range(500):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
        now[0] += 1
    assert len(limiter) <= 100


async def test_guessing_tokens_on_the_audio_route_is_logged_and_limited_too(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hotline.auth")
    path = "/api/recordings/hotline-1.1/audio"
    for n in range(10):
        assert (await get(service, f"guess-{n}", path, client="203.0.113.9")).status_code == 401
    assert (await get(service, "guess-10", path, client="203.0.113.9")).status_code == 429
    assert sum("203.0.113.9" in r.getMessage() for r in caplog.records) == 10
