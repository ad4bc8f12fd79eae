"""Admin commands: `python -m app.cli create-superuser EMAIL`, `create-service-key NAME`,
`rotate-signing-key [--revoke-old]`.

The password comes from SUPERUSER_PASSWORD or an interactive prompt; there is no
default admin account. A service key is printed once, on the last line of the output.
"""

import argparse
import asyncio
import getpass
import os
import sys

from asyncpg.exceptions import PostgresError  # type: ignore[import-untyped]
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api.error_handlers import database_unavailable
from app.api.v1.service_keys.schemas import ServiceKeyName
from app.api.v1.users.schemas import EmailAddress
from app.bootstrap import build_events, load_plugins, started
from app.core.config import Settings, get_settings
from app.core.errors import AppError
from app.core.events import EventBus, EventType
from app.db.models import User
from app.services.service_keys import ServiceKeys
from app.services.sessions import SessionService
from app.services.signing_keys import RELOAD_SECONDS
from app.services.users import UserDatabase, UserManager

CLI_AGENT = "app.cli"


async def create_superuser(settings: Settings, email: str, password: str | None) -> str:
    """Create a superuser, or promote the existing account with this email.

    Starts like the app (audit log, notifications, plugins) and closes all it opened.
    """
    events = build_events(settings, load_plugins(settings))
    async with started(settings, events) as context:
        async with context.sessionmaker() as session:
            async with session.begin():
                emitter = events.bind(session, context.sessionmaker, user_agent=CLI_AGENT)
                manager = UserManager(
                    UserDatabase(session, User),
                    hasher=context.hasher,
                    password_policy=context.password_policy,
                    events=lambda: emitter,
                    sessions=lambda events: SessionService(
                        session, settings, events, key=context.tokens.key
                    ),
                )
                existing = await manager.user_db.get_by_email(email)
                if existing is not None:
                    user = await manager.change(existing, {"is_superuser": True, "is_active": True})
                    message = f"Promoted {email} to superuser."
                else:
                    user = await manager.register(
                        email=email, password=password or _ask_password(), is_superuser=True
                    )
                    message = f"Created superuser {email}."
                await emitter.emit(
                    EventType.SUPERUSER_CREATED,
                    user_id=user.id,
                    detail={"promoted": existing is not None},
                )
            await emitter.deliver_committed()
        return message


async def create_service_key(settings: Settings, name: str) -> str:
    """Make a service key (audited, without an actor); the message ends with the key."""
    events = build_events(settings, load_plugins(settings))
    async with started(settings, events) as context:
        async with context.sessionmaker() as session:
            async with session.begin():
                emitter = events.bind(session, context.sessionmaker, user_agent=CLI_AGENT)
                created = await ServiceKeys(session, emitter).create(name, actor_id=None)
            await emitter.deliver_committed()
    return (
        f"Created service key {created.record.name!r} (id {created.record.id}). "
        f"Store it now: it is not shown again.\n{created.key}"
    )


async def rotate_signing_key(settings: Settings, *, revoke_old: bool) -> str:
    """A new access-token key that signs at once (incident response); with `revoke_old`
    the older keys are deleted, so every token they signed stops working."""
    async with started(settings, EventBus()) as context:
        if context.signing_keys is None:
            raise AppError("JWT_ALGORITHM=HS256 signs with SECRET_KEY: change that key instead.")
        kid = await context.signing_keys.rotate(revoke_old=revoke_old)
        overlap = context.signing_keys.overlap_seconds()
    if revoke_old:
        ended = "Older keys are deleted: the tokens they signed no longer work"
    else:
        ended = f"Older keys stay published for {overlap} s, until their last tokens expire"
    return (
        f"New signing key {kid} signs from now on. {ended} (running instances see "
        f"the change within {RELOAD_SECONDS} s)."
    )


def _ask_password() -> str:
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat password: ")
    except EOFError:  # no terminal to ask on (a PaaS one-off process, a pipe)
        raise SystemExit(
            "No password given: set SUPERUSER_PASSWORD, or run this in a terminal."
        ) from None
    if password != repeated:
        raise SystemExit("The passwords don't match.")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create or promote a superuser")
    create.add_argument("email")
    create_key = commands.add_parser(
        "create-service-key", help="make a key for token introspection (printed once)"
    )
    create_key.add_argument("name")
    rotate = commands.add_parser(
        "rotate-signing-key", help="sign access tokens with a new key from now on"
    )
    rotate.add_argument(
        "--revoke-old",
        action="store_true",
        help="delete the older keys at once: every token they signed stops working",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "rotate-signing-key":
            print(asyncio.run(rotate_signing_key(get_settings(), revoke_old=args.revoke_old)))
            return 0
        if args.command == "create-service-key":
            try:
                name = TypeAdapter(ServiceKeyName).validate_python(args.name)
            except ValidationError:
                print(
                    f"Not a valid key name: {args.name!r} (1 to 64 letters, digits, "
                    "spaces inside, and ._:-)",
                    file=sys.stderr,
                )
                return 2
            print(asyncio.run(create_service_key(get_settings(), name)))
            return 0
        email = TypeAdapter(EmailAddress).validate_python(args.email)
        print(
            asyncio.run(
                create_superuser(get_settings(), email, os.environ.get("SUPERUSER_PASSWORD"))
            )
        )
    except ValidationError:
        print(f"Not a valid email address: {args.email}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except (DBAPIError, PoolTimeout, PostgresError, OSError, TimeoutError) as exc:
        if not database_unavailable(exc):  # a failing statement is a bug: its traceback
            raise
        # What the web process answers with a 503.
        print(f"The database is unavailable: {exc!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
