"""Results: one table row per measured quantity, printed and written to bench/results.md."""

import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.core.config import PROJECT_ROOT


@dataclass(frozen=True)
class Row:
    metric: str
    ours: float
    stock: float = math.nan
    ratio: float = math.nan
    ratio_label: str = ""  # e.g. "stock/ours": which way the ratio reads
    floor: float = math.nan  # the bare app (bench/floor_app.py), where measured
    target: str = ""  # the target for this row, and whether this run met it


def target(goal: str, met: bool) -> str:
    return f"{goal}: {'met' if met else 'MISSED'}"


@dataclass
class Result:
    benchmark: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _number(value: float) -> str:
    if math.isnan(value):
        return "–"
    if value == int(value) and abs(value) < 1e6:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _ratio(row: Row) -> str:
    if math.isnan(row.ratio):
        return "–"
    number = f"{row.ratio:,.0f}" if row.ratio >= 100 else f"{row.ratio:.2g}"
    return f"{number}× ({row.ratio_label})"


def table(results: list[Result]) -> str:
    """A Markdown table, readable as plain text too."""
    lines = [
        "| benchmark | metric | ours | stock | floor | ratio | target |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for result in results:
        for row in result.rows:
            lines.append(
                f"| {result.benchmark} | {row.metric} | {_number(row.ours)} "
                f"| {_number(row.stock)} | {_number(row.floor)} | {_ratio(row)} "
                f"| {row.target or '–'} |"
            )
    return "\n".join(lines)


def notes(results: list[Result]) -> str:
    return "\n".join(f"- {result.benchmark}: {note}" for result in results for note in result.notes)


def machine(postgres_version: str) -> list[str]:
    """What the numbers were measured on."""
    return [
        f"nproc: {os.cpu_count()}",
        f"CPU: {_cpu_model()}",
        f"Python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"PostgreSQL: {postgres_version}",
        f"commit: {_git_commit()}",
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        commit = _git("rev-parse", "--short", "HEAD").strip()
        # Others may be editing the tree: say when the measured code isn't exactly `commit`.
        dirty = _git("status", "--porcelain", "--", "app", "migrations").strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} + uncommitted changes in app/" if dirty else commit


def _git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=5
    )
    return completed.stdout


def markdown(results: list[Result], machine_lines: list[str], command: str) -> str:
    """The whole results.md."""
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured side by side in one run of `{command}`. "
            "Each ratio says which way it reads (ours/floor, stock/ours...); the target column "
            "gives the issue's target and whether this run met it; see bench/README.md.",
            "",
            "## Machine",
            "",
            *(f"- {line}" for line in machine_lines),
            "",
            "## Results",
            "",
            table(results),
            "",
            "## Notes",
            "",
            notes(results),
            "",
        ]
    )
