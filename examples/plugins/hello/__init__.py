"""A complete minimal plugin: a setting, a table with its migration, a route, an event
subscription and a frontend part. README, "Writing a plugin", walks through it."""

from examples.plugins.hello.plugin import plugin

__all__ = ["plugin"]
