"""Two-step sign-in keeps the promises of its OpenAPI document: schemathesis against a
live server with PLUGINS=totp, as an anonymous caller, a user and a superuser (the core's
own contract test runs without plugins)."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import Case

from app.main import create_app
from tests.api.test_schema_contract import ROLES, _login, accounts
from tests.conftest import make_settings
from tests.e2e.conftest import LiveServer, run_server

USER_EMAIL = "contract-user@example.com"
SUPERUSER_EMAIL = "contract-root@example.com"
_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=["totp"])).openapi()
# As the core's contract test: every check, a fixed seed; fewer examples for fewer operations.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261127,
        "suppress-health-check": ["too_slow"],
        "request-timeout": 30,
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
            },
        },
        "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
    }
)
schema = schemathesis.openapi.from_dict(_SPEC, config=CONFIG).include(path_regex=r"/mfa")

__all__ = ["accounts"]  # the core test's fixture: one user and one superuser


@pytest.fixture(scope="module")
def contract_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "totp-contract", PLUGINS="totp") as server:
        yield server


@pytest.fixture(scope="module")
def role_headers(contract_server: LiveServer, accounts: None) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "user": _login(contract_server, USER_EMAIL),
        "superuser": _login(contract_server, SUPERUSER_EMAIL),
    }


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_two_step_endpoints_answer_as_their_schema_says(
    case: Case[Any], role: str, contract_server: LiveServer, role_headers: dict[str, dict[str, str]]
) -> None:
    case.call_and_validate(base_url=contract_server.url, headers=role_headers[role])
