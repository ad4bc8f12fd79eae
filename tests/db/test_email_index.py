"""Login looks users up by lower(email) through the unique functional index, not a table scan."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.db.crud import user as crud
from app.db.models import User

USERS = 20_000
FAKE_HASH = "$2b$12$" + "N" * 53


@pytest.fixture
async def many_users(db_engine: AsyncEngine) -> AsyncIterator[None]:
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, hashed_password, is_active, is_superuser,"
                " is_verified) SELECT gen_random_uuid(), 'user' || g || '@example.com', :hash,"
                " true, false, false FROM generate_series(1, :count) AS g"
            ),
            {"hash": FAKE_HASH, "count": USERS},
        )
        await connection.execute(text("ANALYZE users"))
    yield  # conftest empties the table afterwards


async def capture_sql(
    engine: AsyncEngine, call: Callable[[AsyncSession], Awaitable[Any]]
) -> tuple[Any, tuple[str, Any]]:
    """Run `call` on a session and return its result and the one SELECT it sent."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with AsyncSession(engine) as session:
            result = await call(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(sent) == 1, sent
    return result, sent[0]


async def explain(connection: AsyncConnection, statement: str, parameters: Any) -> str:
    rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(row[0] for row in rows)


async def test_get_user_by_email_uses_the_functional_unique_index(
    db_engine: AsyncEngine, many_users: None
) -> None:
    found, (statement, parameters) = await capture_sql(
        db_engine, lambda session: crud.get_user_by_email(session, email="User12345@Example.com")
    )

    async with db_engine.connect() as connection:
        plan = await explain(connection, statement, parameters)

    assert found is not None and found.email == "user12345@example.com"
    assert "uq_users_email_lower" in plan, plan
    assert "Index Scan" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_get_user_by_email_misses_cleanly(db_engine: AsyncEngine, many_users: None) -> None:
    found, (statement, parameters) = await capture_sql(
        db_engine, lambda session: crud.get_user_by_email(session, email="nobody@example.com")
    )

    async with db_engine.connect() as connection:
        plan = await explain(connection, statement, parameters)

    assert found is None
    assert "uq_users_email_lower" in plan and "Seq Scan" not in plan, plan


async def test_stock_fastapi_users_lookup_would_scan_the_table_with_a_plain_index(
    db_engine: AsyncEngine, many_users: None
) -> None:
    # Why crud has its own lookup: fastapi-users compares lower(email) = lower(:email),
    # which a plain index on email can't serve.
    _, (stock_statement, stock_parameters) = await capture_sql(
        db_engine,
        lambda session: SQLAlchemyUserDatabase(session, User).get_by_email("user12345@example.com"),
    )

    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            plain_index = f"ix_plain_{uuid.uuid4().hex[:8]}"
            await connection.exec_driver_sql("DROP INDEX uq_users_email_lower")
            await connection.exec_driver_sql(f"CREATE INDEX {plain_index} ON users (email)")
            await connection.exec_driver_sql("ANALYZE users")
            stock_plan = await explain(connection, stock_statement, stock_parameters)
            control_plan = await explain(
                connection, "SELECT id FROM users WHERE email = $1", ("user12345@example.com",)
            )
        finally:
            await transaction.rollback()  # the real index comes back untouched

    assert plain_index in control_plan, control_plan  # the plain index is usable ...
    assert "Seq Scan" in stock_plan, stock_plan  # ... but not by the stock lookup
    assert plain_index not in stock_plan, stock_plan
