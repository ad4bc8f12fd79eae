"""Load generators: wrk and hey (Debian packages) when installed, else a small httpx one.

Each returns the same summary, so a benchmark doesn't care which tool ran.
"""

import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field

import anyio
import httpx

from bench.stats import percentile

GRACE_SECONDS = 60.0  # for the requests still in flight when the time is up
INSTALL_HINT = "install with: apt-get update && apt-get install -y wrk hey"


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Load:
    tool: str
    requests: int
    failures: int  # non-2xx responses and transport errors
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float

    def checked(self, what: str, *, max_failure_share: float = 0.01) -> "Load":
        """Itself, or an error if too many requests failed for the numbers to mean anything."""
        if self.failures > max_failure_share * max(self.requests, 1):
            raise RuntimeError(f"{what}: {self.failures} of {self.requests} requests failed")
        return self


def combine(loads: list[Load]) -> Load:
    """Phases of one load as one: totals add up; percentiles are the phases' mean (the
    tools report percentiles, not samples), a fair summary for phases of equal length."""
    requests, seconds = sum(load.requests for load in loads), sum(load.seconds for load in loads)
    return Load(
        tool=loads[0].tool,
        requests=requests,
        failures=sum(load.failures for load in loads),
        seconds=seconds,
        per_second=requests / seconds,
        p50_ms=statistics.fmean(load.p50_ms for load in loads),
        p99_ms=statistics.fmean(load.p99_ms for load in loads),
    )


def available_tool(preferred: tuple[str, ...]) -> str:
    """The first of `preferred` on PATH, else "httpx" (with a note on stderr)."""
    for tool in preferred:
        if shutil.which(tool):
            return tool
    print(
        f"bench: none of {', '.join(preferred)} found ({INSTALL_HINT}); "
        "using the httpx load generator, which measures Python as much as the server",
        file=sys.stderr,
    )
    return "httpx"


async def generate_load(
    request: Request,
    *,
    connections: int,
    seconds: float | None = None,
    requests: int | None = None,
    threads: int = 2,
    tools: tuple[str, ...] = ("wrk", "hey"),
) -> Load:
    """Keep `connections` requests in flight for `seconds`, or until `requests` have been
    sent (hey and httpx only); wrk only does GET here."""
    if request.method != "GET" or requests is not None:
        tools = tuple(tool for tool in tools if tool != "wrk")
    if (seconds is None) == (requests is None):
        raise ValueError("give either seconds or requests")
    tool = available_tool(tools)
    # a stuck tool must not hang the run; by count, allow at least 50 requests/s
    budget = (seconds if seconds is not None else (requests or 0) / 50) + GRACE_SECONDS
    with anyio.fail_after(budget):
        if tool == "wrk" and seconds is not None:
            return await _wrk(request, connections=connections, seconds=seconds, threads=threads)
        if tool == "hey":
            return await _hey(request, connections=connections, seconds=seconds, count=requests)
        return await _httpx(request, connections=connections, seconds=seconds, count=requests)


async def _wrk(request: Request, *, connections: int, seconds: float, threads: int) -> Load:
    duration = f"{max(1, round(seconds))}s"
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
    for name, value in request.headers.items():
        command += ["-H", f"{name}: {value}"]
    output = (await anyio.run_process([*command, request.url])).stdout.decode()
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed = int(failures.group(1)) if failures else 0
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return Load(
        tool="wrk",
        requests=int(total.group(1)),
        failures=failed,
        seconds=_seconds(float(total.group(2)), total.group(3)),
        per_second=float(_field(output, r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_wrk_latency(output, "50%"),
        p99_ms=_wrk_latency(output, "99%"),
    )


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {label} latency in wrk output:\n{output}")
    return _seconds(float(match.group(1)), match.group(2)) * 1000


def _seconds(value: float, unit: str) -> float:
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
    return value * scale[unit]


async def _hey(
    request: Request, *, connections: int, seconds: float | None, count: int | None = None
) -> Load:
    if seconds is not None:
        limit = ["-z", f"{max(1, round(seconds))}s"]
    else:
        limit = ["-n", str(count)]
    command = ["hey", *limit, "-c", str(connections), "-m", request.method]
    for name, value in request.headers.items():
        command += ["-H", f"{name}: {value}"]
    if request.content_type is not None:
        command += ["-T", request.content_type]
    if request.body is not None:
        command += ["-d", request.body]
    output = (await anyio.run_process([*command, request.url])).stdout.decode()
    statuses = [
        (int(code), int(count))
        for code, count in re.findall(r"^\s+\[(\d{3})\]\s+(\d+) responses$", output, re.MULTILINE)
    ]
    _, _, error_section = output.partition("Error distribution:")
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s", error_section, re.MULTILINE))
    return Load(
        tool="hey",
        requests=sum(count for _, count in statuses) + errors,
        failures=sum(count for code, count in statuses if not 200 <= code < 300) + errors,
        seconds=float(_field(output, r"Total:\s+([\d.]+) secs")),
        per_second=float(_field(output, r"Requests/sec:\s+([\d.]+)")),
        p50_ms=float(_field(output, r"50% in ([\d.]+) secs", default="nan")) * 1000,
        p99_ms=float(_field(output, r"99% in ([\d.]+) secs", default="nan")) * 1000,
    )


def _field(output: str, pattern: str, default: str | None = None) -> str:
    match = re.search(pattern, output)
    if match is None and default is not None:
        return default
    if match is None:
        raise RuntimeError(f"no match for {pattern!r} in:\n{output}")
    return match.group(1)


async def _httpx(
    request: Request, *, connections: int, seconds: float | None, count: int | None = None
) -> Load:
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=connections)
    headers = dict(request.headers)
    if request.content_type is not None:
        headers["Content-Type"] = request.content_type
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else float("inf")
    left = count if count is not None else -1

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures, left
        while time.perf_counter() < deadline and left != 0:
            left -= 1
            begin = time.perf_counter()
            try:
                response = await client.request(
                    request.method, request.url, headers=headers, content=request.body
                )
                ok = response.is_success
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - begin) * 1000)
            failures += not ok

    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        async with anyio.create_task_group() as group:
            for _ in range(connections):
                group.start_soon(worker, client)
    elapsed = time.perf_counter() - started
    return Load(
        tool="httpx",
        requests=len(latencies),
        failures=failures,
        seconds=elapsed,
        per_second=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )
