"""What the running app holds for its requests: built at start-up, kept on `app.state`."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.events import EventBus
from app.core.keys import KeyRing, KeySet
from app.core.rate_limits import Throttle
from app.core.security import PasswordHasher, TokenSettings
from app.db.engine import (
    PROBE_TIMEOUT_SECONDS,
    create_engine,
    create_probe_engine,
    create_sessionmaker,
)
from app.services.mail import Mailer, build_mailer
from app.services.passwords import PasswordPolicy
from app.services.signing_keys import SigningKeys


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    probe_engine: AsyncEngine  # /readyz's own connections, never the request pool's
    sessionmaker: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    password_policy: PasswordPolicy
    tokens: TokenSettings
    signing_keys: SigningKeys | None  # None: JWT_ALGORITHM=HS256, no keys in the database
    events: EventBus
    throttle: Throttle
    mailer: Mailer

    async def close(self) -> None:
        self.hasher.close()
        await self.throttle.close()
        await self.engine.dispose()
        await self.probe_engine.dispose()

    @classmethod
    def build(cls, settings: Settings, events: EventBus) -> "AppContext":
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        signing_keys = None
        if settings.jwt_algorithm == "HS256":
            ring = KeyRing(KeySet.symmetric(settings.signing_key()))
        else:  # filled by start_keys() once the database answers
            signing_keys = SigningKeys(sessionmaker, settings)
            ring = KeyRing(reload=signing_keys.load, prepare=signing_keys.prepared)
        return cls(
            settings=settings,
            engine=engine,
            probe_engine=create_probe_engine(settings, timeout=PROBE_TIMEOUT_SECONDS),
            sessionmaker=sessionmaker,
            hasher=PasswordHasher(
                rounds=settings.bcrypt_rounds,
                concurrency=settings.hash_concurrency,
                queue_limit=settings.hash_queue_limit,
            ),
            password_policy=PasswordPolicy(
                service_name=settings.service_name, min_score=settings.password_min_score
            ),
            tokens=TokenSettings(
                key=settings.signing_key(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                lifetime_seconds=settings.access_token_lifetime_seconds,
                keys=ring,
            ),
            signing_keys=signing_keys,
            events=events,
            throttle=Throttle(settings),
            mailer=build_mailer(settings),
        )
