"""The real web process from the Procfile, as deployed: production mode, its HTTP edge.

Requests go over real sockets; the raw-socket tests speak HTTP/1.1 byte by byte, where
a client library would refuse to send what an attacker sends.
"""

import select
import socket
import subprocess
import time
from typing import Any

import httpx

from app.core.config import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.live_server import (
    ProcfileServer,
    procfile_command,
    procfile_env,
    procfile_process,
    procfile_server_for_module,
    unique_email,
)

HEADER_TIMEOUT = 3.0
# Generous: two shared cores can delay a timer by seconds, never by tens of them.
CUT_OFF_WITHIN = HEADER_TIMEOUT + 20
MAX_HEADER_BYTES = 16 * 1024

server = procfile_server_for_module(HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))


def sign_up_and_in(server: ProcfileServer, email: str, **headers: str) -> str:
    with httpx.Client(base_url=server.url) as client:
        created = client.post("/v1/users/", json={"email": email, "password": PASSWORD})
        assert created.status_code == 201, created.text
        login = client.post(
            "/v1/users/login", json={"email": email, "password": PASSWORD}, headers=headers
        )
        assert login.status_code == 200, login.text
        token: str = login.json()["access_token"]
        return token


def session_addresses(server: ProcfileServer, token: str) -> list[Any]:
    response = httpx.get(
        f"{server.url}/v1/users/me/sessions", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return [session["ip_address"] for session in response.json()]


def connect(server: ProcfileServer, timeout: float = 60) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=timeout)


def send_all_you_can(sock: socket.socket, data: bytes) -> None:
    """Send `data`; the server may hang up midway, which is an answer too."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # a hang-up with our unread bytes in its buffer
        pass
    return received


def read_one_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return received


def status_of(response: bytes) -> int | None:
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response.split(b" ", 2)[1])


def exchange(server: ProcfileServer, request: bytes) -> bytes:
    with connect(server) as sock:
        send_all_you_can(sock, request)
        return read_until_closed(sock)


def request_with_headers(*lines: bytes) -> bytes:
    head = [b"GET /healthz HTTP/1.1", b"Host: 127.0.0.1", *lines, b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n"


def seconds_until_hung_up(sock: socket.socket, *, dribble: bytes = b"") -> float:
    """Wait for the server to close the connection, sending `dribble` a byte at a time."""
    started = time.monotonic()
    pending = dribble
    while time.monotonic() - started < CUT_OFF_WITHIN:
        readable, _, _ = select.select([sock], [], [], 0.5)
        if readable:
            try:
                if sock.recv(65536) == b"":
                    return time.monotonic() - started
            except ConnectionResetError:
                return time.monotonic() - started
            raise AssertionError("the server answered unfinished headers")
        if pending:
            try:
                sock.sendall(pending[:1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            pending = pending[1:]
    raise AssertionError(f"the connection was still open after {CUT_OFF_WITHIN} s")


# Finding 15: fail closed.


def _exits_or_serves(process: subprocess.Popen[bytes], port: int) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return "serving"
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return "neither"


def test_web_process_without_app_env_runs_in_production_and_refuses_to_start_without_a_key(
    migrated_database_url: str,
) -> None:
    with procfile_process(migrated_database_url, "no-app-env", APP_ENV=None, SECRET_KEY=None) as (
        process,
        port,
        _,
        log_path,
    ):
        outcome = _exits_or_serves(process, port)

        assert outcome == "exited"
        assert process.returncode != 0
        assert "SECRET_KEY is required when APP_ENV=production" in log_path.read_text()


def test_web_process_refuses_to_start_in_production_without_public_url(
    migrated_database_url: str,
) -> None:
    # Else emailed links and QR codes would point at the development default, 127.0.0.1.
    with procfile_process(migrated_database_url, "no-public-url", PUBLIC_URL=None) as (
        process,
        port,
        _,
        log_path,
    ):
        outcome = _exits_or_serves(process, port)

        assert outcome == "exited"
        assert process.returncode != 0
        assert "PUBLIC_URL is required when APP_ENV=production" in log_path.read_text()


def test_release_step_without_app_env_runs_in_production_too(migrated_database_url: str) -> None:
    env = procfile_env(migrated_database_url, 0, APP_ENV=None, SECRET_KEY=None)

    result = subprocess.run(  # noqa: S603 - the project's own Procfile line
        ["/bin/sh", "-c", procfile_command("release")],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert b"SECRET_KEY is required when APP_ENV=production" in result.stdout + result.stderr


def test_release_step_migrates_in_production_with_a_key(migrated_database_url: str) -> None:
    env = procfile_env(migrated_database_url, 0, APP_ENV=None)

    result = subprocess.run(  # noqa: S603 - the project's own Procfile line
        ["/bin/sh", "-c", procfile_command("release")],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_web_process_with_app_env_development_still_starts_without_a_key(
    migrated_database_url: str, tmp_path: Any
) -> None:
    with procfile_process(
        migrated_database_url,
        "development",
        APP_ENV="development",
        SECRET_KEY=None,
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        BCRYPT_ROUNDS="4",
    ) as (process, port, _, _log):
        assert _exits_or_serves(process, port) == "serving"


# Finding 13: what production shows.


def test_production_hides_the_openapi_document_and_the_docs(server: ProcfileServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        statuses = [client.get(path).status_code for path in ("/openapi.json", "/docs")]

    assert statuses == [404, 404]


def test_no_response_names_the_server_software(server: ProcfileServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        responses = [
            client.get("/healthz"),
            client.get("/v1/nothing-here"),
            client.post("/v1/users/login", json={}),
        ]

    assert [r.status_code for r in responses] == [200, 404, 422]
    assert all("server" not in r.headers for r in responses)


# Finding 1: without TRUSTED_PROXIES nobody chooses their own address.


def test_forwarded_for_from_an_untrusted_peer_is_ignored(server: ProcfileServer) -> None:
    token = sign_up_and_in(server, unique_email("spoof"), **{"X-Forwarded-For": "203.0.113.7"})

    assert session_addresses(server, token) == ["127.0.0.1"]


def test_rotating_forwarded_for_does_not_escape_the_failed_login_limit(
    server: ProcfileServer,
) -> None:
    email = unique_email("target")
    sign_up_and_in(server, email)
    wrong = {"email": email, "password": "not the password"}

    with httpx.Client(base_url=server.url) as client:
        statuses = [
            client.post(
                "/v1/users/login", json=wrong, headers={"X-Forwarded-For": f"198.51.100.{n}"}
            ).status_code
            for n in range(1, 13)
        ]

    # RATE_LIMIT_LOGIN_FAILURES defaults to 10 a minute per account and address.
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


# Finding 11: header caps and a deadline for headers.


def test_oversized_header_block_gets_431_json(server: ProcfileServer) -> None:
    response = exchange(server, request_with_headers(b"X-Big: " + b"a" * (4 * MAX_HEADER_BYTES)))

    assert status_of(response) == 431
    assert b'"code":"REQUEST_HEADERS_TOO_LARGE"' in response.replace(b" ", b"")
    assert b"x-content-type-options: nosniff" in response.lower()


def test_one_mebibyte_header_is_refused(server: ProcfileServer) -> None:
    response = exchange(server, request_with_headers(b"X-Big: " + b"a" * 1024 * 1024))

    # Either the 431 or, when the server hung up with our bytes unread, a reset.
    assert status_of(response) in (431, None)
    assert b"200 OK" not in response


def test_ten_thousand_headers_are_refused(server: ProcfileServer) -> None:
    lines = [b"X-N%d: 1" % n for n in range(10_000)]

    response = exchange(server, request_with_headers(*lines))

    assert status_of(response) in (431, None)
    assert b"200 OK" not in response


def test_more_headers_than_the_cap_get_431_even_when_small(server: ProcfileServer) -> None:
    lines = [b"X-N%d: 1" % n for n in range(150)]  # MAX_HEADER_COUNT defaults to 100

    response = exchange(server, request_with_headers(*lines))

    assert status_of(response) == 431
    assert b"REQUEST_HEADERS_TOO_LARGE" in response


def test_headers_within_the_caps_are_served(server: ProcfileServer) -> None:
    lines = [b"X-N%d: %s" % (n, b"v" * 100) for n in range(90)]

    response = exchange(server, request_with_headers(*lines))

    assert status_of(response) == 200


def test_garbage_instead_of_http_gets_400_json(server: ProcfileServer) -> None:
    response = exchange(server, b"\x16\x03\x01 hello\r\n\r\n")

    assert status_of(response) == 400
    assert b"MALFORMED_REQUEST" in response


def header_names(response: bytes) -> set[bytes]:
    head = response.partition(b"\r\n\r\n")[0].lower().split(b"\r\n")[1:]
    return {line.split(b":", 1)[0] for line in head}


def test_answers_the_server_process_writes_itself_carry_the_apps_headers(
    server: ProcfileServer,
) -> None:
    app_answer = exchange(server, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with connect(server) as sock:  # a head over the cap that never ends: the server gives up on it
        send_all_you_can(sock, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES + 1024))
        unfinished = read_until_closed(sock)
    garbage = exchange(server, b"\x16\x03\x01 hello\r\n\r\n")

    # No X-Request-ID: the server answers these before any request reaches the app, so no
    # log line carries an id to match.
    expected = header_names(app_answer) - {b"content-length", b"connection", b"x-request-id"}
    assert {b"content-security-policy", b"strict-transport-security", b"date"} <= expected
    for response, status in (
        (unfinished, b"431 Request Header Fields Too Large"),
        (garbage, b"400 Bad Request"),
    ):
        assert response.startswith(b"HTTP/1.1 " + status + b"\r\n")
        assert expected <= header_names(response)


def test_unfinished_headers_are_cut_off(server: ProcfileServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")

        elapsed = seconds_until_hung_up(sock)

    assert elapsed >= HEADER_TIMEOUT - 1


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: ProcfileServer) -> None:
    endless = b"GET /healthz HTTP/1.1\r\n" + b"X-Slow: " + b"a" * 1000

    with connect(server) as sock:
        elapsed = seconds_until_hung_up(sock, dribble=endless)

    assert elapsed >= HEADER_TIMEOUT - 1


def test_a_connection_that_sends_nothing_is_closed(server: ProcfileServer) -> None:
    with connect(server) as sock:
        seconds_until_hung_up(sock)


def test_next_request_on_a_kept_alive_connection_must_finish_its_headers_too(
    server: ProcfileServer,
) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(read_one_response(sock)) == 200
        # uvicorn's keep-alive timer stops at the first byte of the next request.
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")

        seconds_until_hung_up(sock, dribble=b"X-Slow: " + b"a" * 1000)


def test_pipelined_requests_are_all_answered(server: ProcfileServer) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    second = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

    response = exchange(server, first + second)

    assert response.count(b"HTTP/1.1 200 OK") == 2


def test_a_slow_body_after_complete_headers_is_not_cut_off(server: ProcfileServer) -> None:
    body = b'{"email": "slow@example.com", "password": "not the password"}'
    head = (
        b"POST /v1/users/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    with connect(server) as sock:
        sock.sendall(head)
        for part in (body[:10], body[10:20], body[20:]):
            time.sleep(HEADER_TIMEOUT * 0.6)  # the body takes longer than the header deadline
            sock.sendall(part)

        response = read_until_closed(sock)

    assert status_of(response) == 400
    assert b"LOGIN_BAD_CREDENTIALS" in response
