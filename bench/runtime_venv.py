"""A virtualenv with the runtime packages only, as a deployment installs them.

The development venv also holds the test tools, and some of them change what a worker
loads: structlog imports rich (and pygments) when it finds it, and redis-py imports
OpenTelemetry's SDK when that is installed. A worker's memory is measured on what
production runs, so the benchmark that reads it serves from here. Built on first use
(about a minute), again whenever requirements.txt or constraints.txt change.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

from app.core.config import PROJECT_ROOT

VENV = PROJECT_ROOT / ".bench-venv"
PINS = ("requirements.txt", "constraints.txt")


def runtime_python() -> Path:
    """The runtime venv's interpreter, (re)built if its pins changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".pins"
    wanted = _pins_digest()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"bench: building {VENV.name} from {' and '.join(PINS)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
            cwd=PROJECT_ROOT,
            check=True,
        )
        stamp.write_text(wanted)
    return python


def _pins_digest() -> str:
    digest = hashlib.sha256()
    for name in PINS:
        digest.update((PROJECT_ROOT / name).read_bytes())
    return digest.hexdigest()
