"""The password policy (shared by registration, self-service and admin changes)."""

import pytest

from app.services.passwords import MIN_PASSWORD_CHARACTERS, password_problem

EMAIL = "ann@example.com"


@pytest.mark.parametrize(
    "password",
    ["12345678", "a" * 72, "é" * 36, "€" * 24, "😀" * 18, "  spaced out  ", "ANN@example.co"],
    ids=[
        "8-chars",
        "72-ascii",
        "72-bytes-2-byte",
        "72-bytes-3-byte",
        "72-bytes-4-byte",
        "spaces-inside",
        "almost-the-email",
    ],
)
def test_acceptable_passwords_have_no_problem(password: str) -> None:
    assert password_problem(password, email=EMAIL) is None


@pytest.mark.parametrize("password", ["", "a", "1234567", "é" * 7, "😀" * 7])
def test_fewer_than_8_characters_is_a_problem_naming_the_minimum(password: str) -> None:
    problem = password_problem(password, email=EMAIL)

    assert problem is not None
    assert f"at least {MIN_PASSWORD_CHARACTERS} characters" in problem


def test_minimum_counts_characters_not_bytes() -> None:
    # Four 4-byte characters are 16 bytes but only 4 characters.
    assert password_problem("😀" * 4, email=EMAIL) is not None
    assert password_problem("😀" * 8, email=EMAIL) is None


@pytest.mark.parametrize("password", ["a" * 73, "é" * 36 + "a", "€" * 24 + "a", "😀" * 19])
def test_more_than_72_bytes_is_a_problem_naming_the_limit(password: str) -> None:
    problem = password_problem(password, email=EMAIL)

    assert problem is not None
    assert "72 bytes" in problem


@pytest.mark.parametrize("password", [" " * 8, "\t" * 10, " \n \t " * 3])
def test_only_whitespace_is_a_problem(password: str) -> None:
    problem = password_problem(password, email=EMAIL)

    assert problem is not None
    assert "spaces" in problem


@pytest.mark.parametrize(
    "password", [EMAIL, "xx" + EMAIL + "yy", "ANN@EXAMPLE.COM!!", "Ann@Example.Com"]
)
def test_containing_the_email_in_any_case_is_a_problem(password: str) -> None:
    problem = password_problem(password, email=EMAIL)

    assert problem is not None
    assert "email" in problem


def test_email_check_is_skipped_without_an_email() -> None:
    assert password_problem("ann@example.com", email="") is None
