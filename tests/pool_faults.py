"""Runs a module (a crawl) with one fault injected into its extraction pool, for
tests/test_pool_failures_crawl.py:

    python -m tests.pool_faults FAULT -m scrapy crawl news ARGS…

FAULT is `unpicklable` (the jobs of the pages `chosen` picks carry an argument the crawler cannot
pickle; `unpicklable:all`: every page's jobs, as the tool that opened docs/crash-safety.md's
session 19 sent them), `unreadable` (those pages' answers cannot be loaded by the crawler), `broken:N` (the
pool's dispatcher thread raises at its Nth job sent) or `broken:start` (it raises as it starts the
workers, before the crawl's engine runs). Nothing in the crawler or the pool knows about it: the
runner replaces `ExtractionPool._run`, `_Worker.send` or `BudgetPool._start` of the process it runs in.
"""
from __future__ import annotations

import itertools
import re
import runpy
import sys
import threading
import zlib

_PAGE = re.compile(r"bai-viet-so-(\d+)-")


def chosen(url: str) -> bool:
    """About one article page in four, the same in every run."""
    return bool(_PAGE.search(url)) and zlib.crc32(url.encode()) % 4 == 0


class _FailsToLoad:
    """Pickles in a worker; loading it raises (`int("not a number")`)."""

    def __reduce__(self):
        return int, ("not a number",)


def unreadable_answer(function, *args):
    """In a worker: does the job, then answers with what the crawler cannot load."""
    function(*args)
    return _FailsToLoad()


def inject(fault: str) -> None:
    from archive.extract.pool import ExtractionPool
    from archive.extract.process_pool import BudgetPool, _Worker
    from tests import pool_faults  # by its name: run as `-m`, this module is `__main__`, which a worker cannot import

    if fault in ("unpicklable", "unpicklable:all", "unreadable"):
        run = ExtractionPool._run

        def faulty_run(pool, function, *args):  # every job's args start (body, url, …)
            if fault != "unpicklable:all" and not chosen(args[1]):
                return run(pool, function, *args)
            if fault.startswith("unpicklable"):
                return run(pool, function, threading.Lock(), *args[1:])
            return run(pool, pool_faults.unreadable_answer, function, *args)

        ExtractionPool._run = faulty_run
    elif fault == "broken:start":

        def failing_start(pool, selector):
            raise RuntimeError("injected dispatcher failure")

        BudgetPool._start = failing_start
    elif fault.startswith("broken:"):
        after, sends, send = int(fault.split(":")[1]), itertools.count(1), _Worker.send

        def failing_send(worker, *args):
            if next(sends) == after:
                raise RuntimeError("injected dispatcher failure")
            return send(worker, *args)

        _Worker.send = failing_send
    else:
        raise SystemExit(f"unknown fault {fault!r}")


def main() -> None:
    fault, flag, module, *args = sys.argv[1:]
    if flag != "-m":
        raise SystemExit("usage: python -m tests.pool_faults FAULT -m MODULE [ARGS…]")
    inject(fault)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
