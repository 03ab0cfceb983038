"""bench/scale.py tells the crawl's components apart and measures the machine's speed beside them."""
import os
import subprocess
import sys
import time

from bench.scale import TreeCPU
from bench.speed_probe import SpeedProbe

# A child that holds a file open (as the WARC writer holds its .warc.gz.open), burns CPU, then waits.
CHILD = """
import sys, time
held = open(sys.argv[1], "wb") if sys.argv[1] != "-" else None
end = time.process_time() + 0.2
while time.process_time() < end:
    pass
print("ready", flush=True)
sys.stdin.read()
"""


def _child(arg: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, arg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_the_warc_writer_is_the_child_holding_a_warc_file(tmp_path):
    writer, worker = _child(str(tmp_path / "news-00000.warc.gz.open")), _child("-")
    try:
        cpu = TreeCPU(os.getpid())
        total = cpu.seconds()
        assert set(cpu._warc) == {writer.pid}
        assert 0.15 <= cpu.warc_writer() < total
        assert total - cpu.own() - cpu.warc_writer() >= 0.15  # the other child, counted apart
    finally:
        for proc in (writer, worker):
            proc.communicate("")


def test_speed_probe_times_its_constant_work_in_thread_cpu():
    with SpeedProbe(interval=0.01) as probe:
        deadline = time.monotonic() + 5
        while probe.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert probe.runs >= 3
    assert 0 < probe.cpu_s / probe.runs < 1.0  # ~5 ms of work a run, not the sleeps between runs
