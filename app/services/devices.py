"""A short, readable name for the device behind a user agent: "Chrome 131 on Linux"."""

from functools import lru_cache

from ua_parser import parse

UNKNOWN_DEVICE = "Unknown device"
# The raw header is shown when the parser knows nothing about it, cut to what fits a row.
MAX_RAW_CHARACTERS = 60


@lru_cache(maxsize=1024)  # a user lists the same few agents again and again
def describe_device(user_agent: str | None) -> str:
    """Browser and major version on an OS ("Firefox 133 on Windows"), a tool with its full
    version ("curl 8.4.0"), or the raw header when the parser doesn't know it."""
    if not user_agent or not user_agent.strip():
        return UNKNOWN_DEVICE
    parsed = parse(user_agent)
    agent, system = parsed.user_agent, parsed.os
    if agent is None:
        raw = user_agent.strip()
        return raw if len(raw) <= MAX_RAW_CHARACTERS else raw[: MAX_RAW_CHARACTERS - 1] + "…"
    if system is None or system.family == "Other":
        # No platform: a command-line tool or a library, where the exact version matters.
        version = ".".join(part for part in (agent.major, agent.minor, agent.patch) if part)
        return f"{agent.family} {version}".strip()
    browser = f"{agent.family} {agent.major}" if agent.major else agent.family
    return f"{browser} on {system.family}"
