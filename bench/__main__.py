"""`python -m bench [NAME ...]`: run benchmarks, print the table, write bench/results.md."""

import argparse
import logging
import os
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from bench import (
    email_lookup,
    login_hashing,
    login_scale,
    me_throughput,
    password_screening,
    token_algorithms,
    worker_memory,
)
from bench.apps import hash_concurrency
from bench.database import server_version
from bench.report import Result, machine, markdown, notes, table

RESULTS = Path(__file__).with_name("results.md")
NAMES = (
    "login_hashing",
    "email_lookup",
    "login_scale",
    "me_throughput",
    "worker_memory",
    "token_algorithms",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="load duration for login_hashing, me_throughput and token_algorithms (default 10; "
        "me_throughput runs 7 such loads, token_algorithms 3)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=1_000_000,
        help="rows per table for email_lookup and login_scale (default 1,000,000)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=100_000,
        help="GET /me for worker_memory, RSS read at a fifth and at the end (default 100,000)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="where to write the Markdown results (default bench/results.md)",
    )
    args = parser.parse_args(argv)
    if unknown := sorted(set(args.names) - set(NAMES)):
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if not 4 <= args.seconds <= 60:
        parser.error("--seconds must be between 4 and 60")
    if not 1_000 <= args.requests <= 10_000_000:
        parser.error("--requests must be between 1,000 and 10,000,000")
    if not 1_000 <= args.users <= 5_000_000:
        parser.error("--users must be between 1,000 and 5,000,000")
    return args


def kept_sections(path: Path) -> str:
    """The "Password screening" section that bench.password_screening wrote, kept."""
    text = path.read_text() if path.exists() else ""
    heading = password_screening.HEADING
    return "\n" + text[text.index(heading) :] if heading in text else ""


def benchmarks(args: argparse.Namespace) -> dict[str, Callable[[], Awaitable[Result]]]:
    return {
        "login_hashing": lambda: login_hashing.run(seconds=args.seconds),
        "email_lookup": lambda: email_lookup.run(users=args.users),
        "login_scale": lambda: login_scale.run(users=args.users),
        "me_throughput": lambda: me_throughput.run(seconds=args.seconds),
        "worker_memory": lambda: worker_memory.run(requests=args.requests),
        "token_algorithms": lambda: token_algorithms.run(seconds=args.seconds),
    }


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Importing app.main builds the default app, which sets up logging at INFO.
    logging.getLogger().setLevel(logging.WARNING)
    selected = args.names or list(NAMES)
    runners = benchmarks(args)
    load_before = os.getloadavg()
    results: list[Result] = []
    for name in selected:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        results.append(await runners[name]())
        print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    load_after = os.getloadavg()
    machine_lines = [
        *machine(await server_version()),
        f"bcrypt cost: {login_hashing.BCRYPT_ROUNDS} (login_hashing), "
        f"{me_throughput.BCRYPT_ROUNDS} (me_throughput, only sign-up hashes)",
        f"our HASH_CONCURRENCY: {hash_concurrency()}",
        f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}",
    ]
    print(table(results))
    print(notes(results))
    command = shlex.join(["python", "-m", "bench", *argv])
    args.output.write_text(markdown(results, machine_lines, command) + kept_sections(args.output))
    print(f"bench: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main, sys.argv[1:]))
