"""Authlib's OAuth 2.0 client over httpx, for the tests that drive the service with a
standard client library. Import it from here: Authlib warns once, on import, that it
prefers httpx2 (a fork of httpx), and installs an "always" filter for its warnings that
would outrank pytest's own; the project's HTTP client is httpx."""

import warnings

with warnings.catch_warnings():  # restores the filters Authlib's import changes
    import authlib.deprecate  # noqa: F401  (installs the "always" filter, first)

    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client

__all__ = ["AsyncOAuth2Client", "OAuth2Client", "OAuthError"]
