"""The password policy, shared by registration, password changes and the admin API."""

from app.core.security import MAX_PASSWORD_BYTES

MIN_PASSWORD_CHARACTERS = 8


def password_problem(password: str, *, email: str) -> str | None:
    """Why `password` is not acceptable for the account `email`, or None if it is."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return f"The password must be at least {MIN_PASSWORD_CHARACTERS} characters long."
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return (
            f"The password must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8 "
            "(letters with accents and other symbols take 2 to 4 bytes each)."
        )
    if not password.strip():
        return "The password must not be only spaces."
    if email and email.lower() in password.lower():
        return "The password must not contain your email address."
    return None
