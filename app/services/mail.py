"""Outgoing email: SMTP in production (aiosmtplib), the log in development."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from app.core.config import Settings
from app.core.log_context import mask_email
from app.core.tracing import client_span

logger = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, mail: Mail) -> None:
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        # The server only: neither the recipient nor the subject goes on the span.
        where: dict[str, str | int] = {
            "server.address": settings.smtp_host or "",
            "server.port": settings.smtp_port,
        }
        with client_span(settings, "smtp send", where):
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=SEND_TIMEOUT_SECONDS,
            )


class LogMailer:
    """Development stand-in: the message, links included, goes to the log."""

    def __init__(self, settings: Settings) -> None:
        # Links are credentials: in production they must never reach the logs.
        self.show_body = not settings.is_production

    async def send(self, mail: Mail) -> None:
        body = mail.text if self.show_body else "(hidden: configure SMTP_HOST to send mail)"
        to = mail.to if self.show_body else mask_email(mail.to)
        logger.warning("Mail not sent (no SMTP_HOST) to %s: %s\n%s", to, mail.subject, body)


def build_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer(settings)


async def deliver(mailer: Mailer, mail: Mail) -> None:
    """Send after the response: a failure is logged, never shown to the requester, whose
    answer must not depend on whether the address has an account."""
    try:
        await mailer.send(mail)
    except Exception:
        logger.exception("Could not send %r to %s", mail.subject, mask_email(mail.to))


def reset_password_mail(settings: Settings, *, to: str, token: str) -> Mail:
    link = f"{settings.public_url.rstrip('/')}/reset-password#token={token}"
    minutes = settings.reset_token_lifetime_seconds // 60
    return Mail(
        to,
        "Reset your password",
        (
            f"Someone asked to reset the password of the account {to}.\n\n"
            f"To choose a new password, open this link within {minutes} minutes:\n{link}\n\n"
            "If it wasn't you, ignore this email: your password stays as it is."
        ),
    )


def verify_email_mail(settings: Settings, *, to: str, token: str) -> Mail:
    link = f"{settings.public_url.rstrip('/')}/verify-email#token={token}"
    return Mail(
        to,
        "Confirm your email address",
        (
            f"Confirm that {to} is your email address by opening this link:\n{link}\n\n"
            "If you didn't create an account, ignore this email."
        ),
    )


def when_and_where(when: datetime, ip_address: str | None, user_agent: str | None) -> str:
    """ "2026-01-31 14:05 UTC from 192.0.2.1 (Firefox/…)": when and whence in every notice."""
    client = ip_address or "an unknown address"
    if user_agent:
        client += f" ({user_agent})"
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC from {client}"


def email_changed_mail(
    settings: Settings,
    *,
    to: str,
    new_email: str,
    when: datetime,
    ip_address: str | None,
    user_agent: str | None,
) -> Mail:
    """To the address an account just left, so a takeover can't pass unnoticed."""
    return Mail(
        to,
        "Your account's email address was changed",
        (
            f"The email address of your account was changed from {to} to {new_email} "
            f"on {when_and_where(when, ip_address, user_agent)}.\n\n"
            "If this was you, there is nothing to do. If it wasn't, someone else may control "
            "your account: contact the service's administrator at once."
        ),
    )


def password_changed_mail(
    settings: Settings,
    *,
    to: str,
    reset: bool,
    when: datetime,
    ip_address: str | None,
    user_agent: str | None,
) -> Mail:
    how = "reset with an emailed link" if reset else "changed"
    link = f"{settings.public_url.rstrip('/')}/forgot-password"
    return Mail(
        to,
        "Your password was changed",
        (
            f"The password of your account {to} was {how} "
            f"on {when_and_where(when, ip_address, user_agent)}.\n\n"
            "If this was you, there is nothing to do. If it wasn't, choose a new password now "
            f"at {link} and check your account's sessions."
        ),
    )
