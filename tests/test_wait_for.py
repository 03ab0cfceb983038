"""crawler/pipelines/workers.py `wait_for`: a concurrent future awaited from the crawl's coroutines gives
its result, its exception or a CancelledError, whether it is settled on the reactor thread or another,
under the asyncio reactor (an asyncio future) and under another reactor (a Deferred), and a settle
after the awaiting task was cancelled is ignored. Run in a child process: each installs its reactor."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = r"""
import asyncio, json, sys, threading
from concurrent.futures import CancelledError, Future
from scrapy.utils.reactor import install_reactor
install_reactor(sys.argv[1])
from twisted.internet import reactor
from scrapy.utils.defer import deferred_from_coro
from crawler.pipelines.workers import wait_for

outcomes = {}

async def outcome(future, settle):
    settle(future)
    try:
        return ["result", await wait_for(future)]
    except CancelledError as exc:
        return ["cancelled", type(exc).__module__, str(exc).startswith("cancelled: ")]
    except Exception as exc:
        return ["error", type(exc).__name__, str(exc)]

def later(action):
    return lambda future: reactor.callLater(0.01, action, future)

def other_thread(action):
    return lambda future: threading.Timer(0.01, action, (future,)).start()

async def main():
    ok = lambda f: f.set_result(7)
    fail = lambda f: f.set_exception(ValueError("bad page"))
    cancel = lambda f: f.cancel()
    cases = {"done": ok, "loop": later(ok), "thread": other_thread(ok), "loop error": later(fail),
             "thread error": other_thread(fail), "cancelled": cancel, "thread cancelled": other_thread(cancel)}
    for name, settle in cases.items():
        outcomes[name] = await outcome(Future(), settle)
    if sys.argv[1].endswith("AsyncioSelectorReactor"):
        future = Future()
        task = asyncio.ensure_future(wait_for(future))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        future.set_result(1)  # nobody waits any more: ignored
        await asyncio.sleep(0.01)
        outcomes["awaiting task cancelled"] = task.cancelled()

def run():
    deferred_from_coro(main()).addBoth(lambda result: (reactor.stop(), result)[1])

reactor.callWhenRunning(run)
reactor.run()
print(json.dumps(outcomes))
"""


@pytest.mark.parametrize("reactor", ["twisted.internet.asyncioreactor.AsyncioSelectorReactor",
                                     "twisted.internet.selectreactor.SelectReactor"])
def test_a_futures_outcome_is_what_its_awaiter_gets(reactor):
    done = subprocess.run([sys.executable, "-c", SCRIPT, reactor], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout)
    assert outcomes.pop("awaiting task cancelled", True) is True
    cancelled = ["cancelled", "concurrent.futures._base", True]
    assert outcomes == {"done": ["result", 7], "loop": ["result", 7], "thread": ["result", 7],
                        "loop error": ["error", "ValueError", "bad page"],
                        "thread error": ["error", "ValueError", "bad page"],
                        "cancelled": cancelled, "thread cancelled": cancelled}
