"""The request's unit of work: one session, committed on success, rolled back on error."""

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from asyncpg.exceptions import (  # type: ignore[import-untyped]
    InterfaceError as DriverInterfaceError,
)
from asyncpg.exceptions import InternalClientError, PostgresConnectionError
from fastapi import Request
from sqlalchemy import Dialect, Result, Select
from sqlalchemy.exc import InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapper, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn
from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")
logger = logging.getLogger(__name__)


# The request's session, under this key of its ASGI scope (see request_session).
SCOPE_KEY = "auth_service.db_session"


def request_session(request: Request) -> AsyncSession:
    """The request's one session, made on first use and shared by all that need it.

    A token check reads the user into it without the unit of work (get_session, a
    `yield` dependency, costs FastAPI more than the check itself on a route that only
    reads); a route that writes adds the unit of work, on this same session, so what
    the check loaded is what it changes and commits. CloseRequestSession closes it."""
    session: AsyncSession | None = request.scope.get(SCOPE_KEY)
    if session is None:
        session = request.scope[SCOPE_KEY] = request.app.state.context.sessionmaker()
    return session


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The unit of work: the request's session, committed on success, rolled back on
    error, closed either way."""
    session = request_session(request)
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    else:
        # A request that only read (or ran nothing) has no transaction left to end: no
        # COMMIT round trip for it. Pending objects still reach the database here.
        if _holds_connection(session) or _has_changes(session):
            await session.commit()
    finally:
        request.scope.pop(SCOPE_KEY, None)
        await close(session)


async def close(session: AsyncSession) -> None:
    """Close `session`, giving back its connection if it holds one."""
    if _holds_connection(session):  # an error, a cancellation: give the connection back
        async with session:  # closes it as `async with` does, shielded from cancellation
            pass
    else:
        # Without a connection, closing sends nothing and never waits: the synchronous
        # close does it all, without the greenlet and the task of AsyncSession's. A
        # token check (EntityRead) runs without one, and this is a good part of its
        # request. (Closed, the session holds no reference cycle: no work for the GC.)
        session.sync_session.close()


class CloseRequestSession:
    """Closes the request's session (request_session) once the request is done, when no
    unit of work did. Changes left in it were never committed: they are discarded, and
    said (a route that writes must depend on the unit of work)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            session: AsyncSession | None = scope.pop(SCOPE_KEY, None)
            if session is not None:
                if _has_changes(session):
                    logger.error(
                        "%s %s changed data without the unit of work (SessionDep): discarded",
                        scope.get("method"),
                        scope.get("path"),
                    )
                await close(session)


async def read_once(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Run one read, in one round trip when it is the session's first statement.

    A single statement sees one consistent snapshot on its own, so outside a transaction
    it runs in autocommit (BEGIN and COMMIT would be two more round trips), and the
    connection goes back to the pool at once; what it loaded stays in the session
    (expire_on_commit=False), so a later write in the request starts a transaction of its
    own. Inside an open transaction, or with changes pending, it simply joins it.
    """
    if session.in_transaction() or _has_changes(session):
        return await session.execute(statement, parameters)
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    result = await session.execute(statement, parameters)  # buffered: readable after commit
    # Nothing to commit: this only ends the transaction-less unit. After an error the
    # request's rollback (get_session) does that instead, and the error stays the one seen.
    await session.commit()
    return result


class EntityRead(Generic[T]):
    """A select of one mapped entity, run on the pooled asyncpg connection itself.

    SQLAlchemy's ORM execution (a session connection, a Result, the loading machinery)
    costs about 0.9 ms of CPU more than the query does through asyncpg, and the token check
    runs one on every authenticated request. On asyncpg, when the session has nothing
    going on, `load` checks a connection out of the engine's pool (its events, metrics
    included, still fire), runs the statement compiled once, and puts the row in the
    session as a loaded instance: later writes in the request UPDATE it as usual. Anywhere
    else (SQLite, an open transaction) it is `read_once`.
    """

    def __init__(self, statement: Select[tuple[T]], entity: type[T]) -> None:
        self.statement = statement
        self.mapper: Mapper[T] = class_mapper(entity)
        self._compiled: dict[Dialect, _DriverQuery] = {}

    async def load(self, session: AsyncSession, parameters: Mapping[str, Any]) -> T | None:
        bind = session.bind
        if (
            not isinstance(bind, AsyncEngine)
            or bind.dialect.driver != "asyncpg"
            or session.in_transaction()
            or _has_changes(session)
        ):
            result = await read_once(session, self.statement, parameters)
            loaded: T | None = result.scalar_one_or_none()
            return loaded
        query = self._compiled.get(bind.dialect) or self._compile(bind.dialect)
        row = await _fetch_row(bind, query, parameters)
        if row is None:
            return None
        values = {key: convert(row[name]) for name, key, convert in query.columns}
        identity = self.mapper.identity_key_from_primary_key(
            tuple(values[key] for key in query.primary_key)
        )
        present = session.identity_map.get(identity)
        if present is not None:  # already in this request's session: that one stays
            return present
        instance: T = self.mapper.class_manager.new_instance()
        for key, value in values.items():
            set_committed_value(instance, key, value)
        make_transient_to_detached(instance)  # persistent, as if a query had loaded it...
        session.add(instance)  # ...in this session
        return instance

    def _compile(self, dialect: Dialect) -> "_DriverQuery":
        compiled = self.statement.compile(dialect=dialect)
        names = compiled.positiontup or []
        binds = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        ]
        columns: list[tuple[str, str, Callable[[Any], Any]]] = []
        for column in self.mapper.local_table.columns:
            key = self.mapper.get_property_by_column(column).key
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            columns.append((column.name, key, convert or _unchanged))
        primary_key = [self.mapper.get_property_by_column(c).key for c in self.mapper.primary_key]
        query = _DriverQuery(
            sql=compiled.string,
            parameters=list(zip(names, binds, strict=True)),
            columns=columns,
            primary_key=primary_key,
        )
        self._compiled[dialect] = query
        return query


@dataclass(frozen=True)
class _DriverQuery:
    sql: str
    parameters: list[tuple[str, Callable[[Any], Any] | None]]  # in $n order
    columns: list[tuple[str, str, Callable[[Any], Any]]]  # (column, attribute, converter)
    primary_key: list[str]


def _unchanged(value: Any) -> Any:
    return value


async def _fetch_row(
    engine: AsyncEngine, query: _DriverQuery, parameters: Mapping[str, Any]
) -> Any:
    arguments = [
        parameters[name] if convert is None else convert(parameters[name])
        for name, convert in query.parameters
    ]
    # The engine's pool, so its size, timeout, recycling and events hold as for any query.
    connection = await greenlet_spawn(engine.sync_engine.pool.connect)
    try:
        driver: Any = connection.driver_connection  # the asyncpg connection
        return await driver.fetchrow(query.sql, *arguments)
    except BaseException as error:
        if isinstance(error, DriverInterfaceError | InternalClientError | PostgresConnectionError):
            # The connection is gone, and likely its pool mates (a database restart): as
            # SQLAlchemy does, retire the whole pool, and say so in its words (a 503).
            engine.sync_engine.pool._invalidate(connection, error)
            raise InterfaceError(query.sql, None, error, connection_invalidated=True) from error
        # A timeout or a cancelled request leave the connection in a state nobody knows:
        # never hand it out again.
        connection.invalidate(error if isinstance(error, Exception) else None)
        raise
    finally:
        await greenlet_spawn(connection.close)


def _has_changes(session: AsyncSession) -> bool:
    return bool(session.new or session.dirty or session.deleted)


def _holds_connection(session: AsyncSession) -> bool:
    """Whether the session's transaction runs on a connection. EntityRead attaches what it
    loads without one, which begins a transaction in the session's bookkeeping only: ending
    that one sends nothing, so there is nothing to commit or give back."""
    transaction = session.sync_session.get_transaction()
    return transaction is not None and bool(transaction._connections)
