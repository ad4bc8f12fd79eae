"""Mails about security changes, sent after the change commits (never for one that rolled
back): to the old address when the email changes, to the account when its password does,
and the mails plugins compose for their own events (`Plugin(notices=...)`)."""

from collections.abc import Callable

from app.core.config import Settings
from app.core.events import AnyEventType, EventBus, EventType, SecurityEvent
from app.services.mail import (
    Mail,
    Mailer,
    build_mailer,
    deliver,
    email_changed_mail,
    password_changed_mail,
)


class Notifications:
    def __init__(self, settings: Settings, mailer: Mailer | None = None) -> None:
        self.settings = settings
        self.mailer = mailer or build_mailer(settings)

    def subscribe(self, events: EventBus) -> None:
        events.subscribe_after_commit(EventType.EMAIL_CHANGED, self.email_changed)
        events.subscribe_after_commit(EventType.PASSWORD_CHANGED, self.password_changed)
        events.subscribe_after_commit(EventType.PASSWORD_RESET, self.password_changed)

    def subscribe_notice(
        self, events: EventBus, type: AnyEventType, compose: Callable[[SecurityEvent], Mail | None]
    ) -> None:
        """Send the mail `compose` makes of each committed event of `type` (a plugin's)."""

        async def send(event: SecurityEvent) -> None:
            mail = compose(event)
            if mail is not None:
                await deliver(self.mailer, mail)

        events.subscribe_after_commit(type, send)

    async def email_changed(self, event: SecurityEvent) -> None:
        mail = email_changed_mail(
            self.settings,
            to=event.detail["old_email"],
            new_email=event.detail["new_email"],
            when=event.occurred_at,
            ip_address=event.ip_address,
            user_agent=event.user_agent,
        )
        await deliver(self.mailer, mail)

    async def password_changed(self, event: SecurityEvent) -> None:
        mail = password_changed_mail(
            self.settings,
            to=event.detail["email"],
            reset=event.type is EventType.PASSWORD_RESET,
            when=event.occurred_at,
            ip_address=event.ip_address,
            user_agent=event.user_agent,
        )
        await deliver(self.mailer, mail)
