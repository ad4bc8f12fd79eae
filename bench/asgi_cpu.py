"""CPU time per request through an app's whole ASGI stack, in this process.

wrk's figures include the server's HTTP parsing and wrk itself on the same cores, and
move with whatever else the machine runs. This calls the app directly, the same
request again and again, and reads `time.process_time()`: the CPU one request costs
the app (middleware, routing, dependencies, the query through asyncpg, the response),
which the machine's load changes far less. The least of a few rounds is the figure.
"""

import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Scope

WARM_UP = 200


async def cpu_ms_per_request(
    app: ASGIApp, path: str, headers: dict[str, str], *, requests: int, rounds: int = 3
) -> float:
    """Milliseconds of CPU per GET `path`, the least of `rounds` rounds of `requests`.
    `app` must be started (its lifespan running); every answer must be a 2xx."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def serve(n: int) -> None:
        for _ in range(n):
            await app({**scope, "state": {}}, receive, send)

    await serve(WARM_UP)
    times: list[float] = []
    for _ in range(rounds):
        started = time.process_time()
        await serve(requests)
        times.append((time.process_time() - started) * 1000 / requests)
    _check(statuses)
    return min(times)


def _check(statuses: Sequence[int]) -> None:
    failed = [status for status in statuses if not 200 <= status < 300]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(statuses)} requests failed: {failed[:3]}")
