"""A plugin used by the tests: a security notice to the operators for every new superuser
(and none for an account promoted to one)."""

from app.plugins.api import EventType, Mail, Plugin, PluginSettings, SecurityEvent, when_and_where

OPERATORS = "ops@example.com"


def new_superuser(event: SecurityEvent) -> Mail | None:
    if event.detail["promoted"]:
        return None
    when = when_and_where(event.occurred_at, event.ip_address, event.user_agent)
    return Mail(OPERATORS, "A superuser was created", f"User {event.user_id} on {when}.")


plugin = Plugin(
    name="noticing",
    settings=PluginSettings,
    notices={EventType.SUPERUSER_CREATED: new_superuser},
)
