"""Plugins: features that join the service without editing its core.

A plugin is a `Plugin` (app/plugins/plugin.py) exposed as the attribute `plugin` of a module
named in the PLUGINS setting: a short name for a first-party plugin (`qr_login` is
app/plugins/qr_login/), or a dotted module path (`examples.plugins.hello`). It imports only
app/plugins/api.py from `app`; app/plugins/loader.py is the host's side.
"""
