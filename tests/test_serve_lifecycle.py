"""`python -m archive serve` stops what it started: pywb (here tests/fake_wayback.py, which starts
a worker of its own) ends with it on SIGTERM, Ctrl-C and SIGKILL, and a busy port is one error line."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.cli import main
from archive.serve import BIND, free_port
from testbed.archive_samples import sample_exchange, write_archive

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_pywb(tmp_path, monkeypatch):
    venv = tmp_path / "fake-pywb"
    (venv / "bin").mkdir(parents=True)
    wayback = venv / "bin" / "wayback"
    wayback.write_text(f'#!/bin/sh\nexec {sys.executable} {REPO / "tests" / "fake_wayback.py"} "$@"\n')
    wayback.chmod(0o755)
    monkeypatch.setenv("PYWB_VENV", str(venv))
    return venv


@pytest.fixture
def archive_dir(tmp_path):
    directory = tmp_path / "warc"
    write_archive(directory, [sample_exchange("https://nhandan.vn/a-post1.html")])
    return directory


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((BIND, port), timeout=0.5):
            return True
    except OSError:
        return False


def _gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def _wait_for(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _start_serve(archive_dir: Path, root: Path, port: int, output=subprocess.PIPE, preexec_fn=None):
    proc = subprocess.Popen([sys.executable, "-m", "archive", "serve", str(archive_dir), "--port", str(port),
                             "--root", str(root)], cwd=REPO, env=os.environ.copy(),
                            stdout=output, stderr=output, text=True, preexec_fn=preexec_fn)
    pids_file = root / "fake-wayback.pids"
    assert _wait_for(lambda: _listening(port) and pids_file.exists()), "serve did not start"
    return proc, [int(p) for p in pids_file.read_text().split()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_pywb_and_its_workers_without_a_traceback(fake_pywb, archive_dir, tmp_path, sig):
    port = free_port()
    proc, pids = _start_serve(archive_dir, tmp_path / "pywb", port)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err and "pywb stopped" in err
    assert _wait_for(lambda: all(map(_gone, pids))), "pywb or its worker outlived serve"
    assert _wait_for(lambda: not _listening(port))


def test_sigint_stops_serve_started_as_a_background_job(fake_pywb, archive_dir, tmp_path):
    """A shell's background job starts with SIGINT ignored, so Python installs no KeyboardInterrupt
    handler: serve must still stop on SIGINT (it hung, and failed the test above, when the suite ran
    from a background job)."""
    port = free_port()
    proc, pids = _start_serve(archive_dir, tmp_path / "pywb", port,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err and "pywb stopped" in err
    assert _wait_for(lambda: all(map(_gone, pids))), "pywb or its worker outlived serve"


def test_pywb_dies_with_a_killed_serve(fake_pywb, archive_dir, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    port = free_port()
    proc, (wayback, worker) = _start_serve(archive_dir, tmp_path / "pywb", port, output=subprocess.DEVNULL)
    proc.kill()
    proc.wait(timeout=30)
    try:
        assert _wait_for(lambda: _gone(wayback)), "pywb outlived a SIGKILLed serve"
        assert _wait_for(lambda: not _listening(port))
    finally:  # pywb's own children are its business when serve cannot stop them (real pywb has none)
        os.kill(worker, signal.SIGKILL)


def test_a_busy_port_is_one_error_line(fake_pywb, archive_dir, tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind((BIND, 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", str(archive_dir), "--port", str(port), "--root", str(tmp_path / "pywb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"port {port}" in err and "in use" in err and err.count("\n") == 1
    assert not (tmp_path / "pywb" / "fake-wayback.pids").exists()  # pywb was never started
