"""Mails to the account when two-step sign-in changes, sent by the host once the change
has committed: what happened, when, from where, and what to do if it wasn't the owner.
Never a code, a secret or a link that signs in: a mail can be read by others."""

from app.plugins.api import Mail, SecurityEvent, when_and_where


def _account_and_time(event: SecurityEvent) -> tuple[str, str]:
    to: str = event.detail["email"]
    return to, when_and_where(event.occurred_at, event.ip_address, event.user_agent)


def turned_on(event: SecurityEvent) -> Mail:
    to, when = _account_and_time(event)
    return Mail(
        to,
        "Two-step verification was turned on",
        (
            f"Two-step verification was turned on for your account {to} on {when}. "
            "Signing in now asks for a code from the authenticator app after the password.\n\n"
            "If this was you, there is nothing to do. If it wasn't, someone who knows your "
            "password set up an app of theirs and could lock you out: reset your password "
            'with "Forgot password" on the sign-in page, which signs every device out, and '
            "ask the service's administrator to turn two-step verification off for you."
        ),
    )


def turned_off(event: SecurityEvent) -> Mail:
    to, when = _account_and_time(event)
    if event.detail.get("by") == "admin":
        return Mail(
            to,
            "Two-step verification was turned off",
            (
                f"An administrator turned off two-step verification for your account {to} "
                f"on {when}, and signed it out on every device. Sign in with your password "
                "alone, then set up an authenticator app again under Security.\n\n"
                "If you didn't ask for this, contact the service's administrator at once."
            ),
        )
    return Mail(
        to,
        "Two-step verification was turned off",
        (
            f"Two-step verification was turned off for your account {to} on {when}: "
            "signing in now needs only the password, and your other devices were signed "
            "out.\n\n"
            "If this was you, there is nothing to do. If it wasn't, someone knows your "
            'password: reset it with "Forgot password" on the sign-in page, which signs '
            "every device out, turn two-step verification on again under Security, and "
            "contact the service's administrator."
        ),
    )


def new_recovery_codes(event: SecurityEvent) -> Mail:
    to, when = _account_and_time(event)
    return Mail(
        to,
        "New recovery codes were made for your account",
        (
            f"New two-step recovery codes were made for your account {to} on {when}; the "
            "earlier ones no longer work.\n\n"
            "If this was you, keep the new codes somewhere safe. If it wasn't, someone knows "
            "your password and holds codes that pass two-step sign-in: reset your password "
            'with "Forgot password" on the sign-in page, which signs every device out, make '
            "new recovery codes under Security (the ones they saw then stop working), and "
            "contact the service's administrator."
        ),
    )
