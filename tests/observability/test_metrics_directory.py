"""`python -m app.server` gives its workers a clean PROMETHEUS_MULTIPROC_DIR."""

import os
from pathlib import Path

import pytest

from app.server import MULTIPROC_DIR_VARIABLE, metrics_directory


def test_without_one_a_temporary_directory_is_made_and_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_VARIABLE, raising=False)

    with metrics_directory():
        directory = Path(os.environ[MULTIPROC_DIR_VARIABLE])
        assert directory.is_dir() and not any(directory.iterdir())

    assert not directory.exists()
    assert MULTIPROC_DIR_VARIABLE not in os.environ


def test_a_given_directory_loses_the_last_runs_metric_files_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "gauge_livesum_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, str(tmp_path))

    with metrics_directory():
        assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]

    assert tmp_path.is_dir()
