"""The baseline: fastapi-users wired up the way its documentation shows, nothing changed.

SQLAlchemyUserDatabase + FastAPIUsers + the stock auth/register/users routers with
BearerTransport and JWTStrategy. Its BaseUserManager hashes on the event loop; that is
what `login_hashing` compares against. Serve with
`STOCK_DATABASE_URL=postgresql+asyncpg://... uvicorn bench.stock_app:app`.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from pwdlib import PasswordHash
from pwdlib.hashers.bcrypt import BcryptHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.stock_models import Base, StockUser, UserCreate, UserRead, UserUpdate

DATABASE_URL = os.environ.get("STOCK_DATABASE_URL", "sqlite+aiosqlite:///./stock.db")
SECRET = os.environ.get("STOCK_SECRET", "change-me-" + "0" * 32)
BCRYPT_ROUNDS = int(os.environ.get("STOCK_BCRYPT_ROUNDS", "12"))

engine = create_async_engine(DATABASE_URL)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)
password_helper = PasswordHelper(PasswordHash((BcryptHasher(rounds=BCRYPT_ROUNDS),)))


async def get_async_session() -> AsyncIterator[AsyncSession]:
    async with async_session_maker() as session:
        yield session


async def get_user_db(
    session: Annotated[AsyncSession, Depends(get_async_session)],
) -> AsyncIterator[SQLAlchemyUserDatabase[StockUser, uuid.UUID]]:
    yield SQLAlchemyUserDatabase(session, StockUser)


class UserManager(UUIDIDMixin, BaseUserManager[StockUser, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(
    user_db: Annotated[SQLAlchemyUserDatabase[StockUser, uuid.UUID], Depends(get_user_db)],
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db, password_helper)


def get_jwt_strategy() -> JWTStrategy[StockUser, uuid.UUID]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


auth_backend = AuthenticationBackend[StockUser, uuid.UUID](
    name="jwt",
    transport=BearerTransport(tokenUrl="auth/jwt/login"),
    get_strategy=get_jwt_strategy,
)
fastapi_users = FastAPIUsers[StockUser, uuid.UUID](get_user_manager, [auth_backend])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:  # the docs' create_db_and_tables()
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
app.include_router(
    fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"]
)
app.include_router(
    fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"]
)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
