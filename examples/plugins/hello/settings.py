from pydantic import Field
from pydantic_settings import SettingsConfigDict

from app.plugins.api import PluginSettings


class HelloSettings(PluginSettings):
    """Read from HELLO_* variables: HELLO_GREETING=Bonjour."""

    model_config = SettingsConfigDict(env_prefix="HELLO_", env_file=".env", extra="ignore")

    greeting: str = Field(default="Hello", min_length=1, max_length=40)
