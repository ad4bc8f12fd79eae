"""`python -m bench.password_screening`: what the password policy costs next to bcrypt.

In-process and small (a few seconds of CPU): the policy on realistic passwords, on random
and on adversarial 72-byte input, what zxcvbn alone would cost on that adversarial input
without the policy's l33t budget, and one bcrypt hash at cost 12 for comparison. Writes
(or replaces) the "Password screening" section at the end of bench/results.md, which
`python -m bench` rewrites without it: run this after that.
"""

import argparse
import os
import random
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pwdlib.hashers.bcrypt import BcryptHasher
from zxcvbn import zxcvbn

from app.core.config import PROJECT_ROOT
from app.services.passwords import PasswordPolicy
from bench.report import _cpu_model, _git_commit

RESULTS = Path(__file__).with_name("results.md")
HEADING = "## Password screening"
EMAIL = "ann.lee@example.com"
TYPICAL = [
    "correct horse battery",
    "violet tractor 1987 quietly",
    "Tr0ub4dor&3",
    "my cat is called Mr. Whiskers!",
    "Summer2024!",
    "blue-kettle-42-harbour",
    "crème brûlée à l'été",
    "J'aime le café au lait",
    "qwertz uiop 123",
    "ZugspitzeRocks#7",
]
L33T = "4@8(<{[3!1|7$5+%2690"
SYMBOL_HEAVY = [
    (L33T * 4)[:72],
    (L33T * 2)[:36] * 2,
    "".join(random.Random(1).choice(L33T + "aeiostlcxz") for _ in range(72)),
]
# A guessable start makes the policy score all 72 characters: the most it ever does.
WORST = ["a" * 32 + password[:40] for password in SYMBOL_HEAVY]


def _timings(check: Callable[[str], object], passwords: list[str], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        for password in passwords:
            started = time.perf_counter()
            check(password)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered):.1f} | {p95:.1f} | {ordered[-1]:.1f}"


def ratio(slow: list[float], fast: list[float]) -> float:
    return statistics.median(slow) / statistics.median(fast)


def _import_seconds() -> float:
    code = (
        "import time, app.core.security; t = time.perf_counter(); "
        "import app.services.passwords; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout)


def measure() -> str:
    policy = PasswordPolicy()

    def check(password: str) -> object:
        return policy.problem(password, email=EMAIL)

    check("warm up")
    rng = random.Random(7)
    printable = string.ascii_letters + string.digits + string.punctuation
    random72 = ["".join(rng.choice(printable) for _ in range(72)) for _ in range(50)]
    typical = _timings(check, TYPICAL, repeat=5)
    random_long = _timings(check, random72, repeat=1)
    symbol_heavy = _timings(check, SYMBOL_HEAVY, repeat=3)
    worst = _timings(check, WORST, repeat=3)
    unbounded = _timings(lambda p: zxcvbn(p), SYMBOL_HEAVY + WORST, repeat=1)
    hasher = BcryptHasher(rounds=12)
    bcrypt = _timings(hasher.hash, ["correct horse battery"], repeat=5)
    rows = [
        ("policy, realistic passwords (10 × 5)", typical),
        ("policy, random printable 72 bytes (50)", random_long),
        ("policy, symbol-heavy 72 bytes (3 × 3)", symbol_heavy),
        ("policy, 32 × `a` then 40 symbol-heavy: the worst case (3 × 3)", worst),
        ("zxcvbn alone on the last two rows' input, no budget (6)", unbounded),
        ("bcrypt hash at cost 12 (5)", bcrypt),
    ]
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        "`python -m bench.password_screening`: the checks a new password goes through",
        "(app/services/passwords.py), timed in-process, single-threaded, in milliseconds.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit: {_git_commit()}",
        f"- nproc: {os.cpu_count()}; CPU: {_cpu_model()}; Python: {sys.version.split()[0]}",
        f"- load average (1 min): {load:.2f} (the machine is shared: spikes only add time)",
        f"- importing the policy's data (the 30,000-password list, zxcvbn's dictionaries): "
        f"{_import_seconds() * 1000:.0f} ms, once per process at start-up",
        "",
        "| what | median | p95 | max |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {_summary(samples)} |" for name, samples in rows),
        "",
        "The check runs once per new password (registration, PATCH /me, admin set, reset), in",
        "a worker thread, next to the bcrypt hash of that password; logins don't run it.",
        f"By median, bcrypt costs {ratio(bcrypt, typical):.0f}× the check on realistic passwords",
        f"and {ratio(bcrypt, worst):.0f}× on the worst case. A password longer than 32 characters",
        "is scored on its first 32 when those alone clear the floor (SCORED_PREFIX), else in",
        "full; without the l33t budget (MAX_L33T_READINGS) zxcvbn's cost grows with every",
        "symbol that could stand for a letter (the zxcvbn-alone row).",
        "",
    ]
    return "\n".join(lines)


def write(section: str, path: Path) -> None:
    text = path.read_text() if path.exists() else ""
    if HEADING in text:
        text = text[: text.index(HEADING)]
    path.write_text(text.rstrip("\n") + "\n\n" + section)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.password_screening", description=__doc__)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    section = measure()
    print(section)
    write(section, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
