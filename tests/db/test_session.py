"""read_once: a read outside a transaction runs on its own; inside one, it joins it."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.crud.user import create_user
from app.db.engine import create_sessionmaker
from app.db.models import User
from app.db.session import read_once

HASH = "$2b$04$" + "x" * 53


async def test_a_first_read_leaves_no_transaction_open_and_keeps_what_it_loaded(
    db_engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(db_engine)
    async with sessionmaker.begin() as session:
        await create_user(session, email="ann@example.com", hashed_password=HASH)

    async with sessionmaker() as session:
        user = (await read_once(session, select(User))).scalar_one()

        assert not session.in_transaction()
        assert user in session and user.email == "ann@example.com"


async def test_a_read_inside_a_transaction_sees_its_uncommitted_writes(
    db_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(db_engine)() as session:
        await create_user(session, email="ann@example.com", hashed_password=HASH)
        user = (await read_once(session, select(User))).scalar_one_or_none()
        found = None if user is None else user.email
        still_open = session.in_transaction()
        await session.rollback()

    assert found == "ann@example.com"
    assert still_open


async def test_a_read_with_changes_pending_flushes_them_into_a_transaction(
    db_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(db_engine)() as session:
        session.add(User(email="bob@example.com", hashed_password=HASH))
        user = (await read_once(session, select(User))).scalar_one_or_none()
        found = None if user is None else user.email
        still_open = session.in_transaction()
        await session.rollback()

    assert found == "bob@example.com"  # autoflush put it in this transaction, not committed alone
    assert still_open
    async with create_sessionmaker(db_engine)() as session:
        assert (await session.execute(select(User))).first() is None
