"""The one form an email address is stored and looked up in."""

from email_validator import EmailNotValidError, validate_email


def canonical_email(value: str) -> str:
    """email-validator's normal form (NFC, Unicode domain), trimmed and lowercased.

    Raises ValueError for a malformed address.
    """
    try:
        normalized = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return normalized.lower()


def lookup_email(value: str) -> str:
    """canonical_email for lookups: a malformed address can't match, so it isn't an error."""
    try:
        return canonical_email(value)
    except ValueError:
        return value.strip().lower()
