"""No input makes two-step sign-in answer 5xx: its routes against the core's battery of bad
requests (tests/api/test_no_server_errors.py), as an anonymous caller, a user with two-step
on and a superuser."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.api.test_no_server_errors import BAD_BODIES, BAD_QUERIES
from tests.conftest import bearer, login
from tests.plugins.totp.conftest import enrolled_user

USER_IDS = ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "%00", "x" * 3000]


def operations(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if "/mfa" in path
        for method in ops
    ]


async def test_bad_requests_never_get_a_server_error(
    client: AsyncClient, totp_app: FastAPI, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    transport = ASGITransport(app=totp_app, raise_app_exceptions=False)
    failures = []
    async with AsyncClient(transport=transport, base_url="http://testserver") as raw:
        who = [{}, bearer(ann.token), bearer(await login(raw, "root@example.com"))]
        for method, path in operations(totp_app):
            for user_id in USER_IDS if "{user_id}" in path else [""]:
                url = path.replace("{user_id}", user_id)
                for auth in who:
                    for content_type, body in BAD_BODIES:
                        headers = {**auth, "Content-Type": content_type}
                        answer = await raw.request(method, url, content=body, headers=headers)
                        if answer.status_code >= 500:
                            failures.append((method, url[:40], content_type, answer.status_code))
                    for params in BAD_QUERIES:
                        answer = await raw.request(method, url, params=params, headers=auth)
                        if answer.status_code >= 500:
                            failures.append((method, url[:40], "query", answer.status_code))

    assert failures == []
    assert len(operations(totp_app)) == 8


async def test_every_route_documents_its_statuses(totp_app: FastAPI) -> None:
    spec = totp_app.openapi()

    for method, path in operations(totp_app):
        operation = spec["paths"][path][method.lower()]
        statuses = set(operation["responses"])
        assert operation["description"], path
        assert "503" in statuses, path  # they use the database
        if "requestBody" in operation:
            assert {"413", "422"} <= statuses, path
        if operation.get("security"):
            assert {"401"} <= statuses, path


async def test_the_second_step_documents_each_wrong_code_message(totp_app: FastAPI) -> None:
    """A wrong app code and a wrong recovery code share a code but not their words."""
    spec = totp_app.openapi()

    examples = spec["paths"]["/v1/users/login/mfa"]["post"]["responses"]["401"]["content"][
        "application/json"
    ]["examples"]

    wrong = [e["value"] for e in examples.values() if e["value"]["code"] == "TOTP_CODE_INVALID"]
    assert len(wrong) == 2
    assert any("recovery code" in value["message"] for value in wrong)
    assert any("next code" in value["message"] for value in wrong)
    assert "TOTP_MFA_TOKEN_INVALID" in examples
