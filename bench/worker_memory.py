"""worker_memory: a worker's resident memory after 20,000 and 100,000 GET /me (--requests).

Ours, one uvicorn worker (the served process is the worker) running from a venv of the
runtime packages alone, as deployed (bench/runtime_venv.py: the development venv's test
tools add modules a worker would load), its RSS read from /proc before any load, after
20k requests and after 100k. Growth from 20k to 100k is what a
leak would show: by 20k every cache and pool has warmed up.
"""

from pathlib import Path

import httpx

from bench.apps import OURS, serving, sign_up
from bench.load import Request, generate_load
from bench.report import Result, Row, target
from bench.runtime_venv import runtime_python
from bench.stats import ratio

BCRYPT_ROUNDS = 4
CONNECTIONS = 16
LIMIT_MB = 120.0
MAX_GROWTH = 0.05


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def run(*, requests: int = 100_000) -> Result:
    checkpoints = (requests // 5, requests)
    python = str(runtime_python())
    async with serving(OURS, bcrypt_rounds=BCRYPT_ROUNDS, python=python) as (server, _):
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            token = await sign_up(client, OURS)
        request = Request(
            url=server.base_url + OURS.me_path, headers={"Authorization": f"Bearer {token}"}
        )
        readings = {0: rss_mb(server.pid)}
        done = 0
        for checkpoint in checkpoints:
            load = await generate_load(
                request, connections=CONNECTIONS, requests=checkpoint - done, tools=("hey",)
            )
            load.checked(f"GET /me up to {checkpoint:,}")
            done = checkpoint
            readings[checkpoint] = rss_mb(server.pid)
    first, last = checkpoints
    growth = ratio(readings[last] - readings[first], readings[first])
    rows = [
        Row("worker RSS at start (MB)", readings[0]),
        Row(f"worker RSS after {first:,} /me (MB)", readings[first]),
        Row(
            f"worker RSS after {last:,} /me (MB)",
            readings[last],
            target=target(f"≤ {LIMIT_MB:.0f} MB", readings[last] <= LIMIT_MB),
        ),
        Row(
            f"RSS growth {first // 1000}k → {last // 1000}k",
            growth * 100,
            target=target(f"≤ {MAX_GROWTH:.0%}", growth <= MAX_GROWTH),
        ),
    ]
    notes = [
        f"ours, one uvicorn worker served from a venv of requirements.txt alone "
        f"(bench/runtime_venv.py), {CONNECTIONS} connections (hey, by request count); "
        f"VmRSS from /proc/<pid>/status; growth row in percent."
    ]
    return Result("worker_memory", rows, notes)
