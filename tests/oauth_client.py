"""Authlib's OAuth 2.0 client over httpx, for the tests that drive the service with a
standard client library. Import it from here: Authlib warns once, on import, that it
prefers httpx2 (a fork of httpx), and installs an "always" filter for its warnings that
would outrank pytest's own; the project's HTTP client is httpx."""

import warnings

with warnings.catch_warnings():  # restores the filters Authlib's import changes
    # Authlib's "always" filter first, so the "ignore" below outranks it.
    import authlib.deprecate  # type: ignore[import-untyped]  # noqa: F401

    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        AsyncOAuth2Client,
        OAuth2Client,
    )

__all__ = ["AsyncOAuth2Client", "OAuth2Client", "OAuthError"]
