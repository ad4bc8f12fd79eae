"""`lint-imports` holds every plugin to app.plugins.api, and can tell when one isn't."""

import subprocess
import sys
import tomllib
from pathlib import Path

from app.core.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the project's own tool
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def contract() -> dict[str, list[str]]:
    """The contract's module lists, as pyproject.toml has them."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    [only_the_host_api] = config["tool"]["importlinter"]["contracts"]
    return {key: only_the_host_api[key] for key in ("source_modules", "forbidden_modules")}


def test_plugins_import_only_the_host_api() -> None:
    result = lint_imports()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_every_plugin_is_held_to_the_contract() -> None:
    plugins = {
        f"app.plugins.{folder.name}"
        for folder in (PROJECT_ROOT / "app" / "plugins").iterdir()
        if (folder / "plugin.py").is_file()
    } | {
        f"examples.plugins.{folder.name}"
        for folder in (PROJECT_ROOT / "examples" / "plugins").iterdir()
        if (folder / "plugin.py").is_file()
    }

    assert plugins == set(contract()["source_modules"])
    assert {"app.plugins.qr_login", "examples.plugins.hello"} <= plugins


def test_a_plugin_importing_the_core_breaks_the_contract(tmp_path: Path) -> None:
    forbidden = ", ".join(f'"{module}"' for module in contract()["forbidden_modules"])
    config = tmp_path / "importlinter.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["app", "tests"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "Plugins import only app.plugins.api from app"\n'
        'type = "forbidden"\n'
        'source_modules = ["tests.plugins.sneaky", "tests.plugins.greeter"]\n'
        f"forbidden_modules = [{forbidden}]\n"
        "allow_indirect_imports = true\n"
    )

    result = lint_imports("--config", str(config))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "tests.plugins.sneaky -> app.db.models" in result.stdout
    assert "tests.plugins.greeter ->" not in result.stdout
