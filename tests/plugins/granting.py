"""Plugins used by the tests: OAuth 2.0 grant types, one of its own and two taken ones, and
discovery document entries that are taken."""

from fastapi import Response
from fastapi.responses import JSONResponse

from app.plugins.api import GrantRequest, Plugin, PluginSettings

ECHO_GRANT = "urn:example:params:oauth:grant-type:echo"


class Echo:
    """Answers with what the host handed it (no tokens: this is only a test)."""

    def __init__(self, settings: PluginSettings) -> None:
        self.settings = settings

    async def __call__(self, grant: GrantRequest) -> Response:
        return JSONResponse(
            {
                "grant_type": grant.grant_type,
                "params": dict(grant.params),
                "word": grant.param("word", max_length=5),
                "user_agent": grant.client.user_agent,
            }
        )


plugin = Plugin(name="echo", settings=PluginSettings, grants={ECHO_GRANT: Echo})
takes_password = Plugin(name="password_taker", settings=PluginSettings, grants={"password": Echo})
takes_echo = Plugin(name="echo_taker", settings=PluginSettings, grants={ECHO_GRANT: Echo})
# Discovery document names the core, or qr_login, publishes already.
publishes_token_endpoint = Plugin(
    name="token_endpoint_taker",
    settings=PluginSettings,
    discovery={"token_endpoint": "/v1/elsewhere"},
)
publishes_device_authorization = Plugin(
    name="device_authorization_taker",
    settings=PluginSettings,
    discovery={"device_authorization_endpoint": "/v1/elsewhere"},
)
