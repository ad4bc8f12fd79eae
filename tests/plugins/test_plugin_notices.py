"""A plugin's security notices (`Plugin(notices=...)`) go out through the host's mailer
once their change commits: from the CLI as from the web app, and only when the plugin
makes a mail of the event."""

from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import create_superuser
from tests.conftest import PASSWORD, make_settings
from tests.plugins.noticing import OPERATORS
from tests.services.test_notifications import SMTP_SETTINGS, body, settle
from tests.smtp import smtp_server


async def test_a_plugin_notice_is_mailed_and_one_it_declines_is_not(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    with smtp_server() as (inbox, port):
        settings = make_settings(
            migrated_database_url,
            **SMTP_SETTINGS,
            smtp_port=port,
            plugins=["tests.plugins.noticing"],
        )
        await create_superuser(settings, "root@example.com", PASSWORD)
        await create_superuser(settings, "root@example.com", PASSWORD)  # promoted: no mail

        [notice] = await settle(inbox, 1)

    assert (notice["To"], notice["Subject"]) == (OPERATORS, "A superuser was created")
    assert " UTC from an unknown address (" in body(notice)  # the CLI has no address
