"""fastapi-users' inherited entry points can't bypass our hashing, policy or sessions.

BaseUserManager and JWTStrategy come with working-looking methods (create, update,
authenticate, reset_password, write_token, ...). Each one is either replaced by a route
through our code or refuses clearly; the first test fails when a fastapi-users upgrade
adds a coroutine nobody has looked at.
"""

import asyncio
import inspect
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import bcrypt
import pytest
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication import JWTStrategy
from fastapi_users.manager import BaseUserManager
from fastapi_users.schemas import BaseUserCreate, BaseUserUpdate
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.deps import auth_backend
from app.context import AppContext
from app.core import errors
from app.core.config import Settings
from app.core.events import EventBus
from app.db.models import User
from app.services.auth import AccessTokenStrategy
from app.services.sessions import Client, SessionService
from app.services.users import UserDatabase, UserManager
from tests.conftest import PASSWORD, make_settings

# Reads and do-nothing hooks (our event bus replaces the hooks): nothing to hash or write.
HARMLESS = {
    "get",
    "get_by_email",
    "get_by_oauth_account",
    "on_after_register",
    "on_after_update",
    "on_after_request_verify",
    "on_after_verify",
    "on_after_forgot_password",
    "on_after_reset_password",
    "on_before_delete",
    "on_after_delete",
}
TRAPS = ("password_helper", "self._update(", "user_db.create", "user_db.update", "generate_jwt")
REFUSED = (
    "request_verify",
    "verify",
    "forgot_password",
    "reset_password",
    "oauth_callback",
    "oauth_associate_callback",
)
NOWHERE = Client(user_agent=None, ip_address=None)


@asynccontextmanager
async def manager_for(settings: Settings) -> AsyncIterator[tuple[UserManager, AppContext]]:
    """A UserManager wired as the app wires it, on a session of its own."""
    context = AppContext.build(settings, EventBus())
    if context.signing_keys is not None:  # what app.bootstrap.started does
        await context.signing_keys.start(context.tokens.ring)
    try:
        async with context.sessionmaker() as session:
            events = context.events.bind(session, context.sessionmaker)
            sessions = SessionService(session, settings, events)
            yield (
                UserManager(
                    UserDatabase(session, User),
                    hasher=context.hasher,
                    password_policy=context.password_policy,
                    events=lambda: events,
                    sessions=lambda _: sessions,
                ),
                context,
            )
            await session.commit()
    finally:
        await context.throttle.close()
        await context.engine.dispose()


@pytest.fixture
async def manager(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[UserManager]:
    async with manager_for(settings) as (manager, _):
        yield manager


def test_every_inherited_coroutine_is_replaced_or_harmless() -> None:
    coroutines = dict(inspect.getmembers(BaseUserManager, inspect.iscoroutinefunction))

    inherited = {name for name, base in coroutines.items() if getattr(UserManager, name) is base}

    assert inherited == HARMLESS
    for name in inherited:
        source = inspect.getsource(coroutines[name])
        assert not [trap for trap in TRAPS if trap in source], name


def test_every_strategy_coroutine_is_replaced() -> None:
    for name, base in inspect.getmembers(JWTStrategy, inspect.iscoroutinefunction):
        assert getattr(AccessTokenStrategy, name) is not base, name


async def test_the_password_helper_is_our_bcrypt_at_the_configured_cost(
    manager: UserManager, settings: Settings
) -> None:
    assert manager.password_helper is manager.hasher.helper  # NFKC, like the async path
    hashed = manager.password_helper.hash("a good password")

    assert hashed.startswith(f"$2b${settings.bcrypt_rounds:02d}$")
    assert manager.password_helper.verify_and_update("a good password", hashed) == (True, None)
    assert await manager.hasher.verify("a good password", hashed) == (True, None)


async def test_inherited_create_hashes_with_our_hasher_off_the_event_loop(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    rounds = 13  # a hash long enough that running it on the loop would stall the heartbeat
    started = time.perf_counter()
    bcrypt.hashpw(b"x", bcrypt.gensalt(rounds))
    one_hash = time.perf_counter() - started
    gaps: list[float] = []

    async def heartbeat() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async with manager_for(make_settings(migrated_database_url, bcrypt_rounds=rounds)) as (
        manager,
        _,
    ):
        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.02)
        user = await manager.create(BaseUserCreate(email="Ann@Example.com ", password=PASSWORD))
        beat.cancel()
        found = await manager.check_credentials(email="ann@example.com", password=PASSWORD)

    assert user.email == "ann@example.com"
    assert user.hashed_password.startswith(f"$2b${rounds}$")
    assert found is not None and found.id == user.id
    assert max(gaps) < 0.5 * one_hash, (max(gaps), one_hash)


async def test_inherited_create_applies_the_policy_and_safe_drops_privileges(
    manager: UserManager,
) -> None:
    with pytest.raises(errors.InvalidPassword):
        await manager.create(BaseUserCreate(email="ann@example.com", password="short"))
    privileged = {"is_superuser": True, "is_verified": True}

    safe = await manager.create(
        BaseUserCreate(email="bob@example.com", password=PASSWORD, **privileged), safe=True
    )
    trusted = await manager.create(
        BaseUserCreate(email="root@example.com", password=PASSWORD, **privileged)
    )

    assert (safe.is_superuser, safe.is_verified) == (False, False)
    assert (trusted.is_superuser, trusted.is_verified) == (True, True)


async def test_inherited_update_goes_through_change_and_ends_the_sessions(
    manager: UserManager, settings: Settings
) -> None:
    user = await manager.register(email="ann@example.com", password=PASSWORD)
    await manager.sessions.start(user, NOWHERE)

    updated = await manager.update(BaseUserUpdate(password="a brand new password"), user)

    assert updated.hashed_password.startswith(f"$2b${settings.bcrypt_rounds:02d}$")
    assert await manager.hasher.verify("a brand new password", updated.hashed_password) == (
        True,
        None,
    )
    assert list(await manager.sessions.live_sessions(user)) == []
    with pytest.raises(errors.InvalidNewPassword):
        await manager.update(BaseUserUpdate(password="short"), user)
    await manager.update(BaseUserUpdate(is_superuser=True), user, safe=True)
    assert user.is_superuser is False


async def test_inherited_authenticate_has_check_credentials_semantics(
    manager: UserManager,
) -> None:
    user = await manager.register(email="ann@example.com", password=PASSWORD)
    right = OAuth2PasswordRequestForm(username=" ANN@example.com", password=PASSWORD)
    wrong = OAuth2PasswordRequestForm(username="ann@example.com", password="not the password")

    found = await manager.authenticate(right)
    refused = await manager.authenticate(wrong)
    await manager.change(user, {"is_active": False})

    assert found is not None and found.id == user.id
    assert refused is None
    assert await manager.authenticate(right) is None  # stock returns an inactive user


@pytest.mark.parametrize("name", REFUSED)
async def test_inherited_link_and_oauth_flows_refuse_clearly(
    manager: UserManager, name: str
) -> None:
    with pytest.raises(NotImplementedError, match="Not available in this service"):
        await getattr(manager, name)()


async def test_fastapi_users_backend_login_and_logout_start_and_end_a_real_session(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with manager_for(settings) as (manager, context):
        strategy = AccessTokenStrategy(context.tokens, manager.sessions)
        user = await manager.register(email="ann@example.com", password=PASSWORD)

        response = await auth_backend.login(strategy, user)
        token = json.loads(bytes(response.body))["access_token"]
        reader = await strategy.read_token(token, manager)
        live = list(await manager.sessions.live_sessions(user))
        await auth_backend.logout(strategy, user, token)

        assert reader is not None and reader.id == user.id
        assert len(live) == 1
        assert await strategy.read_token(token, manager) is None
        assert list(await manager.sessions.live_sessions(user)) == []
