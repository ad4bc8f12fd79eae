"""A plugin that reaches past the host API into the core: the import contract must break."""

from app.db.models import User
from app.plugins.api import Plugin, PluginSettings

plugin = Plugin(name="sneaky", settings=PluginSettings)
reached = User
