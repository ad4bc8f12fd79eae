"""The request's unit of work: one session, committed on success, rolled back on error."""

from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import Request
from sqlalchemy import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.context.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            # A request that only read (or ran nothing) has no transaction left to end: no
            # COMMIT round trip for it. Pending objects still reach the database here.
            if session.in_transaction() or _has_changes(session):
                await session.commit()


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


def _has_changes(session: AsyncSession) -> bool:
    return bool(session.new or session.dirty or session.deleted)
