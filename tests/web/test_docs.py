"""/docs: Swagger UI served whole from this process, under the app's strict CSP."""

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient
from playwright.async_api import Browser, async_playwright, expect

from app.api.middleware import CONTENT_SECURITY_POLICY
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, run_server


async def test_docs_page_uses_only_same_origin_assets_and_the_strict_csp(
    client: AsyncClient,
) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script>" not in page.text  # every script is a file
    urls = re.findall(r'\b(?:src|href)="([^"]+)"', page.text)
    assert len(urls) == 4 and all(url.startswith("/docs/assets/") for url in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_docs_assets_are_compressed(client: AsyncClient) -> None:
    page = await client.get("/docs")
    [bundle] = re.findall(r'src="(/docs/assets/[^"]*/swagger-ui-bundle\.js[^"]*)"', page.text)

    response = await client.get(bundle, headers={"Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 2


async def test_production_serves_no_docs_assets(client_for: object) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as production:  # type: ignore[operator]
        response = await production.get("/docs/assets/swagger-init.js")

    assert response.status_code == 404


# -- in Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "docs") as server:
        yield server


@pytest.fixture(scope="module")
async def chromium_browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install it with `make browser`.")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.mark.e2e
async def test_docs_render_the_operations_offline_with_no_csp_violation(
    chromium_browser: Browser, docs_server: LiveServer
) -> None:
    context = await chromium_browser.new_context(base_url=docs_server.url)
    # Recorded by the browser itself, before any page script runs (and outside the CSP).
    await context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = await context.new_page()
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto("/docs")

        await expect(page.locator(".opblock-tag-section").first).to_be_visible()
        await expect(page.locator(".opblock-summary-path").first).to_be_visible()
        assert await page.locator(".opblock").count() > 10
        violations = await page.evaluate("window.__violations")
    finally:
        await context.close()

    assert violations == []
    assert errors == []
    assert hosts == {urlsplit(docs_server.url).netloc}
