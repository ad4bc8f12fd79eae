"""Example plugins: enable one with `PLUGINS=examples.plugins.hello`."""
