"""pyproject.toml: direct imports declared and pinned like the lock file, optional extras, working entry points."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for line in requirements:
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_direct_imports_are_pinned_dependencies_matching_the_lock_file():
    declared = _pins(PROJECT["dependencies"])
    locked = _pins((REPO / "constraints.txt").read_text("utf-8").splitlines())
    for name in ("parsel", "justext", "scrapy", "trafilatura"):
        assert declared.get(name) and declared[name] == locked[name], name
    for extra in PROJECT["optional-dependencies"].values():
        for name, version in _pins(extra).items():
            assert locked.get(name) == version, name


def test_wacz_and_cryptography_are_extras_not_runtime_dependencies():
    declared = _pins(PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]
    assert "wacz" not in declared and "cryptography" not in declared
    assert "wacz" in _pins(extras["wacz"]) and "cryptography" in _pins(extras["test"])


def test_console_scripts_are_installed_and_run():
    scripts = PROJECT["scripts"]
    assert set(scripts) == {"vn-archive", "vn-crawler"}
    installed = {ep.name: ep.value for ep in entry_points(group="console_scripts") if ep.name in scripts}
    assert installed == scripts
    for name in scripts:
        script = Path(sys.executable).parent / name
        result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: {name} ")
