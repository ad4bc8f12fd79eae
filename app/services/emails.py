"""The one form an email address is stored and looked up in."""

import unicodedata

from email_validator import EmailNotValidError, validate_email


def canonical_email(value: str) -> str:
    """NFKC, then email-validator's normal form (Unicode domain), trimmed and lowercased.

    NFKC first, so a look-alike typed in full-width or other compatibility characters
    (`ａｎｎ@example.com`) is the same account as the plain one, not a second account
    next to it. Raises ValueError for a malformed address.
    """
    try:
        normalized = validate_email(_nfkc(value), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return _nfkc(normalized.lower())


def lookup_email(value: str) -> str:
    """canonical_email for lookups: a malformed address can't match, so it isn't an error."""
    try:
        return canonical_email(value)
    except ValueError:
        return _nfkc(value).lower()


def email_fragment(value: str) -> str:
    """Part of an address, for searching: in the stored form, so `ＡＮＮ` finds `ann@…`."""
    return _nfkc(value).lower()


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value.strip())
