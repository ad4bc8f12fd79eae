"""The browser's checks agree with the server's rules, so a form never refuses what the
API would accept (and catches what it can before a round trip)."""

import pytest
from playwright.async_api import Page

from app.services.emails import canonical_email
from app.services.passwords import password_problem

pytestmark = pytest.mark.e2e

CHECK_PASSWORD = """async ([password, email]) =>
  (await import("/js/validation.js")).checkNewPassword(password, email)"""
CHECK_EMAIL = """async (email) => (await import("/js/validation.js")).checkEmail(email)"""

PASSWORDS = [
    "",
    "short",
    "1234567",
    "12345678",
    "correct horse battery",
    " " * 8,
    " " * 7 + "x",
    "é" * 7,
    "é" * 8,
    "é" * 36,
    "é" * 37,
    "😀" * 7,
    "😀" * 8,
    "😀" * 18,
    "😀" * 19,
    "a" * 72,
    "a" * 73,
    "my ann@example.com pass",
    "MY ANN@EXAMPLE.COM PASS",
    "ann@example.co is close",
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


def _server_accepts_email(email: str) -> bool:
    try:
        canonical_email(email)
    except ValueError:
        return False
    return True


async def test_new_password_checks_match_the_password_policy(page: Page) -> None:
    await page.goto("/register")
    email = "ann@example.com"
    for password in PASSWORDS:
        in_browser = await page.evaluate(CHECK_PASSWORD, [password, email])
        on_server = password_problem(password, email=email)
        assert (in_browser is None) == (on_server is None), (password, in_browser, on_server)


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
