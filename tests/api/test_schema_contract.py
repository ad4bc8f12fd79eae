"""The API keeps the promises of its OpenAPI document: schemathesis against a live server.

Every operation the app declares (new ones included: the schema is built from the code) is
fuzzed with all of schemathesis' checks enabled, as an anonymous caller, as a normal user
and as a superuser, against the real app under uvicorn. The number of examples is bounded
and generation is derandomized, so a run is repeatable and fits in CI's time. Rate limits
are off for this server: the fuzzer sends hundreds of requests from one address, and the
limits have tests of their own (tests/api/v1/users/test_rate_limits.py).
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case

from app.core.config import PROJECT_ROOT
from app.main import create_app
from app.services.emails import canonical_email
from tests.conftest import PASSWORD, make_settings
from tests.e2e.conftest import LiveServer, run_server

ROLES = ("anonymous", "user", "superuser")
USER_EMAIL = "contract-user@example.com"
SUPERUSER_EMAIL = "contract-root@example.com"
LOGOUT = "POST /v1/users/logout"


def _accepted_email(value: str) -> bool:
    try:
        canonical_email(value)
    except ValueError:
        return False
    return True


# `format: email` is loose; the service holds addresses to email-validator's rules, which
# refuse special-use domains such as `.test` (the schema's description says so). Generate
# the addresses it means, so a refusal of one of those is a finding, not noise.
schemathesis.openapi.format("email", st.emails().filter(_accepted_email))

# The first-party plugins' routes keep the same promises as the core's.
PLUGINS = ["qr_login"]
# The operations as this code base declares them (no database needed to build the spec).
_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=PLUGINS)).openapi()
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261127,
        # A loaded CI machine is slow, not wrong: no time-based health check, and room to answer.
        "suppress-health-check": ["too_slow"],
        "request-timeout": 30,
        "checks": {
            "enabled": True,  # `--checks all`
            # A 400 is this API's answer to a rule no schema can state (a wrong current
            # password, a used reset link, a taken email, a password over 72 bytes), each
            # with its own documented code. Schema violations are 422, and a schema-valid
            # request that gets one still fails this check.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
            },
        },
        "generation": {
            "max-examples": int(os.environ.get("CONTRACT_MAX_EXAMPLES", "40")),
            "deterministic": True,
            "database": "none",
        },
    }
)
schema = schemathesis.openapi.from_dict(_SPEC, config=CONFIG)


@pytest.fixture(scope="module")
def contract_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "contract", PLUGINS=",".join(PLUGINS)) as server:
        yield server


@pytest.fixture(scope="module")
def accounts(contract_server: LiveServer) -> None:
    """One normal user and one superuser, made the documented ways."""
    with httpx.Client(base_url=contract_server.url) as client:
        response = client.post("/v1/users/", json={"email": USER_EMAIL, "password": PASSWORD})
        assert response.status_code == 201, response.text
    subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-m", "app.cli", "create-superuser", SUPERUSER_EMAIL],
        env={**contract_server.env, "SUPERUSER_PASSWORD": PASSWORD},
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _login(server: LiveServer, email: str) -> dict[str, str]:
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def role_headers(contract_server: LiveServer, accounts: None) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "user": _login(contract_server, USER_EMAIL),
        "superuser": _login(contract_server, SUPERUSER_EMAIL),
    }


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_api_answers_as_its_schema_says(
    case: Case[Any], role: str, contract_server: LiveServer, role_headers: dict[str, dict[str, str]]
) -> None:
    headers = role_headers[role]
    if headers and case.operation.label == LOGOUT:
        # Logging out ends the session its bearer token names: give it one of its own.
        headers = _login(contract_server, USER_EMAIL if role == "user" else SUPERUSER_EMAIL)
    case.call_and_validate(base_url=contract_server.url, headers=headers)
