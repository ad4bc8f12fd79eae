"""Reading an OAuth 2.0 endpoint's request: a form, each parameter once (RFC 6749 §3.2),
from a public client (no client secret)."""

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from fastapi import Request

from app.core.errors import InvalidClient, InvalidRequest

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 32  # far more than any grant has; bounds the work on a body of junk
# Client authentication we can't check: this service has public clients only.
CLIENT_CREDENTIALS = ("client_secret", "client_assertion", "client_assertion_type")


async def read_form(request: Request) -> dict[str, str]:
    """The form's parameters, without the empty ones (RFC 6749 §3.2: sent without a value
    means omitted); raises InvalidRequest for another body type, a malformed form or a
    repeated parameter, and InvalidClient for client credentials."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequest(f"Send the parameters as a form ({FORM_TYPE}), not JSON.")
    try:
        pairs = parse_qsl(
            (await request.body()).decode(),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",  # percent-escapes must decode as UTF-8 too
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError included
        raise InvalidRequest("The body is not a well-formed form.") from None
    names = [name for name, _ in pairs]
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidRequest(f"Each parameter may be sent once: {', '.join(repeated)} repeats.")
    params = {name: value for name, value in pairs if value}
    if any(name in params for name in CLIENT_CREDENTIALS) or _basic_secret(request):
        raise InvalidClient()
    return params


def _basic_secret(request: Request) -> bool:
    """Whether HTTP Basic client authentication carries a secret (or can't be read). A
    public client may send `client_id:` with an empty secret: that is no secret at all."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False  # a bearer token (an API client's habit) says nothing about the client
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return True
    client_id, colon, secret = decoded.partition(":")
    return not colon or bool(unquote(secret))  # RFC 6749 §2.3.1 form-encodes both
