"""The frontend under the strict Content-Security-Policy, and the rules that keep it there."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.core.config import PROJECT_ROOT

pytestmark = pytest.mark.e2e

PUBLIC = PROJECT_ROOT / "public"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# Ways to turn a string into markup or code, and places a token must never be kept.
# Reading document.cookie is allowed: api.js looks for the non-secret `signed_in` hint.
FORBIDDEN_IN_SCRIPTS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"localStorage|sessionStorage|indexedDB|document\.cookie\s*=(?!=)|\.style\b|"
    r"setAttribute\(\"style"
)


async def test_the_app_is_served_with_the_strict_csp_and_runs_under_it(page: Page) -> None:
    response = await page.goto("/login")

    assert response is not None
    # The one inline script allowed is the page's import map, by its hash (app/web/frontend.py).
    policy = re.sub(r" 'sha256-[A-Za-z0-9+/]+=*'", "", response.headers["content-security-policy"])
    assert policy == CSP
    # The page fixture fails the test on any console error, which is where
    # Chromium reports CSP violations.
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


def _files(suffix: str) -> list[Path]:
    files = sorted(PUBLIC.rglob(f"*{suffix}"))
    assert files, f"no {suffix} files in {PUBLIC}"
    return files


@pytest.mark.parametrize("path", _files(".html"), ids=lambda p: str(p.relative_to(PUBLIC)))
def test_html_has_no_inline_script_or_style(path: Path) -> None:
    html = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for url in re.findall(r'\s(?:src|href)="([^"]*)"', html):
        assert url.startswith(("/", "#")) and not url.startswith("//"), f"{url} is off-site"


@pytest.mark.parametrize("path", _files(".js"), ids=lambda p: str(p.relative_to(PUBLIC)))
def test_scripts_build_the_dom_without_markup_strings_or_storage(path: Path) -> None:
    offending = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN_IN_SCRIPTS.search(line) and not line.strip().startswith("//")
    ]
    assert offending == []
