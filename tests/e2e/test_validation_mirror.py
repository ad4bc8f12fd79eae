"""The browser's checks agree with the server's rules, so a form never refuses what the
API would accept (and catches what it can before a round trip)."""

import pytest
from playwright.async_api import Page
from pydantic import ValidationError

from app.api.v1.users.schemas import SESSION_NAME_CHARACTERS, SessionRename
from app.services.emails import canonical_email
from app.services.passwords import Reason, password_problem

pytestmark = pytest.mark.e2e

CHECK_PASSWORD = """async ([password, email]) =>
  (await import("/js/validation.js")).checkNewPassword(password, email)"""
CHECK_EMAIL = """async (email) => (await import("/js/validation.js")).checkEmail(email)"""
CHECK_DEVICE_NAME = """async (name) => (await import("/js/validation.js")).checkDeviceName(name)"""

# The server's rules that need no data; the rest (the common-password list, the
# service's name, zxcvbn's score) only the server checks, and the form shows its answer.
MIRRORED = {Reason.TOO_SHORT, Reason.TOO_LONG, Reason.INVISIBLE, Reason.CONTAINS_EMAIL}
ACCOUNT_EMAIL = "Ann.Lee@Example.com"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


PASSWORDS = [
    "",
    "short",
    "1234567",
    "Xk9#mQ2v",
    "correct horse battery",
    " " * 8,
    " " * 7 + "x",
    "é" * 7,
    "é" * 8,
    "é" * 36,
    "é" * 37,
    "e\u0301" * 7,  # decomposed: 14 code points, 7 characters once composed
    "e\u0301" * 36,  # 108 bytes as typed, 72 once composed
    "😀" * 7,
    "😀" * 8,
    "😀" * 18,
    "😀" * 19,
    "a" * 72,
    "a" * 73,
    _fullwidth("violet tractor quietly 1987"),  # 3 bytes a letter as typed, 1 after NFKC
    "\ufdfa" * 3,  # 9 bytes as typed, 99 after NFKC
    "\ufb03" * 2 + "xyz",  # ligatures: 5 typed, 9 after NFKC
    "\u200b" * 8,
    "\x00" * 8,
    "\u200b\u200c\u200d\ufeff" * 3,
    "\u3164" * 8,
    "\u2800" * 8,
    "\u00a0\u3000" * 5,
    "\u0301\u0308" * 5,
    "abcde" + "\u200b" * 5,
    "my ann.lee@example.com pass",
    "MY ANN.LEE@EXAMPLE.COM PASS",
    "ann.lee@example.co is close",
    "ann.lee2024",
    "annlee!!",
    "example1234",
    "annual report crocus",
    "12345678",  # common: only the server knows
    "Auth service 2024",  # the service's name: only the server knows
    "abcdefghijklmn",  # guessable: only the server knows
]
EMAILS = [
    "ann@example.com",
    "Ann.Lee@Example.COM",
    "  ann@example.com  ",
    "ann+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "ann@example.c",
    "jürgen@müller.de",
    "ann@xn--mller-kva.de",
    "ann",
    "ann@",
    "@example.com",
    "ann@example",
    "ann example@example.com",
    "ann@@example.com",
    "a..b@example.com",
    ".ann@example.com",
    "ann.@example.com",
    "ann@-example.com",
    "ann@example-.com",
    "ann@example..com",
    "ann@example.com.",
    "ann@example.123",
    "a" * 65 + "@example.com",
    "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com",
    "ann@" + "a" * 250 + ".com",
]

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points, one emoji
DEVICE_NAMES = [
    "Work laptop",
    "a" * 64,
    "a" * 65,
    "\U0001f98a" * 40,  # 80 UTF-16 units: the old maxlength cut it at 32
    "\U0001f98a" * 64,
    "\U0001f98a" * 65,
    FAMILY * 9,
    FAMILY * 10,
    "e\u0301" * 32,  # 64 code points, 32 letters on screen: the server counts code points
    "e\u0301" * 33,
    "  " + "a" * 64 + "\u3000\u00a0",
    "\u1680" + "a" * 64 + "\x85",  # trimmed by the server (str.strip), not by String#trim
    "\x1f" + "a" * 64,
    "\ufeff" + "a" * 64,  # the other way round: String#trim removes it, the server keeps it
    " " * 100,
    "\u200b" * 70,  # no name at all for the server, but too long to send as one
    "a\x00b",  # refused for its characters: the server's answer says so
]


def _server_length_message(name: str) -> str | None:
    """The server's message if it refuses this name for its length, else None."""
    try:
        SessionRename.model_validate({"name": name})
    except ValidationError as error:
        for problem in error.errors():
            # Our validator's own words, as the API shows them (without "Value error, ").
            if problem["type"] == "value_error":
                message = str(problem["ctx"]["error"])
                if f"at most {SESSION_NAME_CHARACTERS} characters" in message:
                    return message
    return None


async def test_device_names_are_counted_as_the_server_counts_them(page: Page) -> None:
    await page.goto("/register")
    refused = 0
    for name in DEVICE_NAMES:
        in_browser = await page.evaluate(CHECK_DEVICE_NAME, name)
        # Refused by the browser exactly when the server refuses it for its length, in the
        # server's words; the server's other rule (characters) is left to its answer.
        assert in_browser == _server_length_message(name), (name, in_browser)
        refused += in_browser is not None
    assert refused >= 5


def _server_accepts_email(email: str) -> bool:
    try:
        canonical_email(email)
    except ValueError:
        return False
    return True


async def test_new_password_checks_match_the_rules_the_browser_can_mirror(page: Page) -> None:
    await page.goto("/register")
    server_only = 0
    for password in PASSWORDS:
        in_browser = await page.evaluate(CHECK_PASSWORD, [password, ACCOUNT_EMAIL])
        problem = password_problem(password, email=canonical_email(ACCOUNT_EMAIL))
        # The browser refuses exactly what the server refuses for a rule it can mirror, and
        # never refuses what the server accepts.
        mirrored = problem is not None and problem.reason in MIRRORED
        assert (in_browser is not None) == mirrored, (password, in_browser, problem)
        server_only += problem is not None and not mirrored
    assert server_only >= 3  # the list exercises the server-only rules too


async def test_the_browser_never_refuses_an_email_the_server_accepts(page: Page) -> None:
    await page.goto("/register")
    for email in EMAILS:
        in_browser = await page.evaluate(CHECK_EMAIL, email)
        if _server_accepts_email(email):
            assert in_browser is None, (email, in_browser)
        # The converse isn't required: the server also refuses reserved
        # domains and more, and its answer is shown at the field.


async def test_the_browser_catches_most_malformed_emails_itself(page: Page) -> None:
    await page.goto("/register")
    refused_by_server = [email for email in EMAILS if not _server_accepts_email(email)]
    caught = [email for email in refused_by_server if await page.evaluate(CHECK_EMAIL, email)]
    assert caught == refused_by_server
