"""Event types a plugin declares: strings like the core's, never one of the core's."""

import pytest

from app.core.events import EventType, PluginEventType, plugin_event_type


def test_a_plugin_event_type_is_a_string_with_a_value_like_the_core_ones() -> None:
    declared = plugin_event_type("tested_thing_happened")

    assert isinstance(declared, PluginEventType)
    assert declared == "tested_thing_happened" and declared.value == "tested_thing_happened"
    assert plugin_event_type("tested_thing_happened") is declared


@pytest.mark.parametrize("name", [EventType.LOGIN_FAILED.value, "Not Snake", "mfa-enabled", ""])
def test_core_names_and_names_that_are_not_snake_case_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name or "snake_case"):
        plugin_event_type(name)
