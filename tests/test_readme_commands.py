"""Every command the README prints runs as printed, in a new shell, on a fresh clone.

The commands are read from the README itself: every line of its ```sh blocks,
and every inline `make …` / `scrapy …` / `python -m …` / `vn-…` command that
has no placeholder (DIR, FILE, URL…, `|`, `[…]`). The clone is a copy of the
tracked files with no `data/`; its `.venv` is this checkout's (standing in
for `make install`, whose stamp is kept current so nothing is reinstalled).
Each command runs in `bash -c '. .venv/bin/activate && COMMAND'` with a
minimal environment, as the README says to, and with `http_proxy` /
`https_proxy` pointing at a proxy that refuses every connection, so nothing
can reach the internet.

Cheap, offline commands run for real (the demo, the archive tools, replay
crawls, `make sites`, `make schedule`, help). The others (live crawls, Redis,
benchmarks, the test suite, pywb) are checked without running them: a Make
target with `make -n`, a `python -m` command with `--help`, a crawl's
arguments with `-a help=1`. After `make demo`, its archive and corpus are
copied to `data/warc` and `data/corpus`, standing in for the skipped
`make crawl`.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deadproxy import RefusingProxy

REPO = Path(__file__).resolve().parent.parent
PREFIXES = ("make ", "scrapy ", "python -m ", "vn-archive", "vn-crawler", ". .venv/bin/activate")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]*[A-Z]\b(?!=)|…|\||\[|<|\*|\bN\b")
RUN = [
    re.compile(r"^make (install|demo|sites|schedule)\b"),
    re.compile(r"^(python -m archive|vn-archive) (extract|index|check|stats|repair|export|state-merge) [^-]"),
    re.compile(r"^(python -m crawler|vn-crawler) args\b"),
    re.compile(r"^scrapy crawl news\b.*(-a help=|ARCHIVE_REPLAY=)"),
    re.compile(r"^(\. \.venv/bin/activate|export \w+=\S+)$"),
]
# Command lines with argparse help of their own; any other `python -m` module is only looked up
# (a benchmark given --help might start benchmarking).
HELPFUL = {"archive", "crawler", "archive.sites"}
SKIP = re.compile(r"^wait$")  # the shell builtin after background jobs


def readme_commands(text: str) -> tuple[list[str], list[str]]:
    """(lines of the ```sh blocks, inline commands without placeholders), in README order."""
    block_lines, inline = [], []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                block_lines.append(command)
    for span in re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)):
        if span.startswith(PREFIXES) and not PLACEHOLDER.search(span):
            inline.append(span.strip())
    return block_lines, list(dict.fromkeys(inline))


def dry_check(command: str) -> str:
    """A command that shows `command` is well-formed without running it (no network, no waiting)."""
    command = command.removesuffix("&").strip()
    words = shlex.split(command)
    if words[0] == "make":
        return "make -n " + command[len("make "):]
    if command.startswith("scrapy crawl news"):
        return command + " -a help=1"
    if words[:2] == ["python", "-m"] and words[2] not in HELPFUL:
        return f"python -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec(\"{words[2]}\"))'"
    if words[:2] == ["python", "-m"] or words[0].startswith("vn-"):
        head = words[:3] if words[0] == "python" else words[:1]  # python -m crawler | vn-crawler
        rest = words[len(head):]
        return shlex.join(head + rest[:1 if rest and not rest[0].startswith("-") else 0]) + " --help"
    return f"command -v {shlex.quote(words[0])}"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if not (REPO / ".venv" / ".installed").exists():
        pytest.skip("no installed .venv to stand in for `make install`")
    clone = tmp_path_factory.mktemp("clone")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(REPO / ".venv")
    if (REPO / ".venv-pywb").exists():
        (clone / ".venv-pywb").symlink_to(REPO / ".venv-pywb")
    stamp = (REPO / ".venv" / ".installed").stat().st_mtime
    os.utime(clone / "pyproject.toml", (stamp - 60, stamp - 60))  # `make install` has nothing to do
    return clone


@pytest.fixture(scope="module")
def shell(clone):
    proxy = RefusingProxy()
    path = ":".join(p for p in os.environ["PATH"].split(":") if ".venv" not in p)
    env = {"PATH": path, "HOME": os.environ.get("HOME", str(clone)), "LANG": "C.UTF-8",
           **proxy.proxy_env()}

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", f". .venv/bin/activate && {command}"], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=300)
    yield run
    proxy.close()


def test_the_readme_tells_how_to_enter_the_environment():
    blocks, _ = readme_commands((REPO / "README.md").read_text("utf-8"))
    assert ". .venv/bin/activate" in blocks
    assert not [line for line in blocks if PLACEHOLDER.search(line)], "a ```sh block line has a placeholder"


def test_every_readme_command_runs_as_printed(clone, shell):
    blocks, inline = readme_commands((REPO / "README.md").read_text("utf-8"))
    commands = list(dict.fromkeys(blocks + inline))
    assert "make demo" in commands and len(commands) > 10
    ran, checked, done = [], [], set()
    for command in commands:
        if SKIP.match(command):
            continue
        runnable = any(pattern.search(command) for pattern in RUN) and not command.endswith("&")
        actual = command if runnable else dry_check(command)
        if actual in done:  # e.g. two mentions whose check is the same `--help`
            continue
        done.add(actual)
        result = shell(actual)
        assert result.returncode == 0, f"{actual!r} failed ({result.returncode}):\n{result.stdout[-2000:]}" \
                                       f"\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, f"{actual!r}:\n{result.stderr[-2000:]}"
        (ran if runnable else checked).append(command)
        if command == "make demo":  # stands in for `make crawl`, which would reach the live sites
            shutil.copytree(clone / "data" / "demo" / "warc", clone / "data" / "warc")
            shutil.copytree(clone / "data" / "demo" / "corpus", clone / "data" / "corpus")
    assert {"make demo", "scrapy crawl news -a help=1"} <= set(ran)
    assert any(c.startswith("python -m archive extract") for c in ran)
    assert any("ARCHIVE_REPLAY=" in c for c in ran)
