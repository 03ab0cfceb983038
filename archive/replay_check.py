"""What a replayed page asked for in headless Chromium, and what failed: the replay check of issue 24.

`take_screenshot` (archive/serve.py) can write Chromium's NetLog
(`--log-net-log`): every URL request the page made, its HTTP status and its
network error. Read here, it says whether the archive holds what the page
needs: a request to the replay server that failed or answered ≥ 400 is an
embedded resource missing from the archive (pywb answers 404 for it); a
request that never reached the replay server was blocked (Chromium's host
resolver maps every other host to nothing, so no network is used).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["PageRequest", "read_net_log", "failed", "archived_url"]


@dataclass(frozen=True)
class PageRequest:
    url: str
    status: int | None  # HTTP status, None when no response arrived
    error: int  # Chromium net error (0: none; -105: name not resolved, i.e. blocked)


def read_net_log(path: Path) -> list[PageRequest]:
    """The URL requests of a NetLog file, in the order they started (redirects: the last URL)."""
    text = path.read_text("utf-8", errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):  # Chromium may leave the events array unterminated
        text += "]}"
    log = json.loads(text)
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    requests: dict[int, dict] = {}
    for event in log.get("events", []):
        name = names.get(event.get("type"))
        params = event.get("params") or {}
        source = event.get("source", {}).get("id")
        if name == "URL_REQUEST_START_JOB" and "url" in params:
            requests.setdefault(source, {"status": None, "error": 0})["url"] = params["url"]
        elif source in requests and name == "HTTP_TRANSACTION_READ_RESPONSE_HEADERS":
            status_line = (params.get("headers") or [""])[0].split()
            if len(status_line) > 1 and status_line[1].isdigit():
                requests[source]["status"] = int(status_line[1])
        elif source in requests and params.get("net_error"):
            requests[source]["error"] = params["net_error"]
    return [PageRequest(r["url"], r["status"], r["error"]) for r in requests.values() if "url" in r]


def failed(requests: list[PageRequest], server: str) -> tuple[list[PageRequest], list[PageRequest]]:
    """(requests under `server` (a collection's URL prefix) whose URL never succeeded: error, no response or ≥ 400; requests elsewhere,
    blocked: Chromium's own background calls among them; pywb's /static/ files are neither). A URL retried after a cache miss
    (net error -400) and then served counts as served."""
    served = [r for r in requests if r.url.startswith(server)]
    ok = {r.url for r in served if not r.error and r.status is not None and r.status < 400}
    failures = {r.url: r for r in served if r.url not in ok}
    origin = "{0}://{1}/".format(*urlsplit(server)[:2])
    return (list(failures.values()),
            [r for r in requests if not r.url.startswith(origin) and r.url.startswith(("http:", "https:"))])


_REPLAYED = re.compile(r"^https?://[^/]+/[^/]+/(?:\d*[a-z]{2}_/|\d+/)?(https?://.*)$")


def archived_url(replayed: str) -> str | None:
    """The archived URL a pywb replay URL (`/COLL/[TIMESTAMP][MODE_]/URL`) asks for; None for pywb's own."""
    match = _REPLAYED.match(replayed)
    return match.group(1) if match else None
