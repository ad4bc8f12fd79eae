"""/openapi.json documents the OAuth 2.0 endpoints' form bodies and error shape."""

from typing import Any

import pytest

from app.main import create_app
from tests.conftest import make_settings

SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=["qr_login"])).openapi()
FORM = "application/x-www-form-urlencoded"


def operation(path: str) -> dict[str, Any]:
    found: dict[str, Any] = SPEC["paths"][path]["post"]
    return found


def schema(ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = SPEC["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return found


@pytest.mark.parametrize(
    ("path", "required", "fields"),
    [
        (
            "/v1/oauth/token",
            ["grant_type"],
            {"grant_type", "username", "password", "refresh_token", "device_code", "client_id"},
        ),
        ("/v1/oauth/revoke", ["token"], {"token", "token_type_hint", "client_id"}),
    ],
)
def test_the_form_body_is_documented_and_nothing_else(
    path: str, required: list[str], fields: set[str]
) -> None:
    body = operation(path)["requestBody"]

    assert body["required"] is True
    assert set(body["content"]) == {FORM}
    form = body["content"][FORM]["schema"]
    assert form["required"] == required
    assert fields <= set(form["properties"])


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/v1/oauth/token", {"200", "400", "401", "413", "429", "503"}),
        ("/v1/oauth/revoke", {"200", "400", "401", "413", "503"}),
    ],
)
def test_statuses_and_the_oauth_error_body_are_documented(path: str, statuses: set[str]) -> None:
    responses = operation(path)["responses"]

    assert statuses <= set(responses)
    for status in ("400", "401"):
        body = schema(responses[status]["content"]["application/json"]["schema"])
        assert {"error", "error_description", "code", "message"} <= set(body["properties"])
        assert "OAUTH_INVALID_REQUEST" in body["properties"]["code"]["enum"]


def test_the_token_endpoint_documents_its_answer_and_retry_after() -> None:
    responses = operation("/v1/oauth/token")["responses"]

    ok = schema(responses["200"]["content"]["application/json"]["schema"])
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(ok["properties"])
    assert "Retry-After" in responses["429"]["headers"]
    examples = responses["400"]["content"]["application/json"]["examples"]
    assert {example["value"]["error"] for example in examples.values()} >= {
        "invalid_request",
        "invalid_grant",
        "unsupported_grant_type",
    }
