"""The event types two-step sign-in adds; audited, and heard by other plugins. Those that
change the account carry detail.email: where its notice goes (see notices.py)."""

from app.plugins.api import plugin_event_type

MFA_ENABLED = plugin_event_type("mfa_enabled")
MFA_DISABLED = plugin_event_type("mfa_disabled")  # detail.by: "user" or "admin"
MFA_FAILED = plugin_event_type("mfa_failed")  # detail.method, detail.attempts_left
MFA_RECOVERY_CODES_REGENERATED = plugin_event_type("mfa_recovery_codes_regenerated")
# Listed in the plugin (Plugin(event_types=...)): the apps that enable it know them.
EVENT_TYPES = (MFA_ENABLED, MFA_DISABLED, MFA_FAILED, MFA_RECOVERY_CODES_REGENERATED)
