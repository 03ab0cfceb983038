"""`python -m archive serve DIR`: browse an archive in pywb, on 127.0.0.1 only.

pywb pins old dependencies, so it lives in its own virtual environment
(`.venv-pywb`, made by `make pywb`) and runs as a subprocess. The archive is
not copied: the collection's `archive` is a link to DIR and its index is our
merged `DIR/index.cdxj` (same CDXJ format pywb writes), so a collection of any
size is ready at once. `--screenshot OUT.png` instead renders one replayed
page with headless Chromium and exits.

pywb runs in its own process group, so stopping `serve` (Ctrl-C, SIGTERM,
SIGHUP) stops pywb and anything it started, and a pywb left behind by a
`serve` that was killed outright dies with it (Linux: PR_SET_PDEATHSIG). A
port already in use is one `error:` line (exit 2), not pywb's traceback.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from archive.warc.cdxj import ensure_directory_index

from archive.warc.cdxj_lookup import CdxjIndex
from archive.warc.replay import check_archive_dir
from archive.replay_check import archived_url, failed, read_net_log
from archive.paths import PROJECT_ROOT

REPO = PROJECT_ROOT
BIND = "127.0.0.1"  # never 0.0.0.0: the archive is not for the network
DEFAULT_COLLECTION = "news"
DEFAULT_ROOT = Path("data/pywb")
# pywb's own config: no live web, no recording; framed replay with its banner.
PYWB_CONFIG = """\
# Written by `python -m archive serve`; replay only, nothing fetched live.
collections_root: collections
enable_memento: true
framed_replay: true
"""
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    # Belt and braces: a page that escaped pywb's rewriting still cannot reach the network.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {BIND}",
)


class PywbNotInstalled(RuntimeError):
    pass


def pywb_program(name: str) -> Path:
    """A program from pywb's virtual environment (`PYWB_VENV`, default `.venv-pywb`)."""
    venv = Path(os.environ.get("PYWB_VENV") or REPO / ".venv-pywb")
    program = venv / "bin" / name
    if not program.exists():
        raise PywbNotInstalled(f"pywb is not installed ({program} missing): run `make pywb`")
    return program


def prepare_collection(archive_dir: Path, root: Path, name: str = DEFAULT_COLLECTION) -> Path:
    """A pywb collection under `root` whose archive and index are DIR's own, linked not copied."""
    archive_dir = archive_dir.resolve()
    index = ensure_directory_index(archive_dir).resolve()
    collection = root / "collections" / name
    (collection / "indexes").mkdir(parents=True, exist_ok=True)
    _link(collection / "archive", archive_dir)
    _link(collection / "indexes" / "index.cdxj", index)
    (root / "config.yaml").write_text(PYWB_CONFIG, "utf-8")
    return collection


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        raise FileExistsError(f"{link} is a directory; remove it or choose another --root")
    link.symlink_to(target, target_is_directory=target.is_dir())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((BIND, 0))
        return probe.getsockname()[1]


class PortInUse(OSError):
    pass


def check_port_free(port: int) -> None:
    """PortInUse when something listens on 127.0.0.1:port (SO_REUSEADDR: old TIME_WAIT sockets do not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((BIND, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} on {BIND} is in use (another `serve`?): stop that server "
                                "or pass --port N (0 = any free port)") from None
            raise


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when `serve` dies, even by SIGKILL (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_pywb(root: Path, port: int, *, timeout: float = 60.0, quiet: bool = False) -> subprocess.Popen:
    """Start `wayback` on 127.0.0.1:port in `root`, in its own process group; return once it
    accepts connections."""
    wayback = pywb_program("wayback")
    root = root.resolve()
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen([str(wayback), "-b", BIND, "-p", str(port), "-d", str(root)],
                               cwd=root, stdout=output, stderr=output, start_new_session=True,
                               preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"pywb exited at start with code {process.returncode}")
            try:
                with socket.create_connection((BIND, port), timeout=0.5):
                    return process
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"pywb did not start listening on {BIND}:{port} within {timeout:.0f} s")
    except BaseException:  # also Ctrl-C while waiting: never leave pywb behind
        stop(process)
        raise


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Stop pywb's whole process group: SIGTERM, then SIGKILL after `timeout` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)  # its own group (start_new_session): pywb and its children
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


class _Stop(BaseException):
    """SIGTERM, SIGHUP or SIGINT to `serve`: leave the wait and stop pywb."""


def _raise_stop(signum, frame):
    raise _Stop(signum)


def replay_url(port: int, url: str, *, collection: str = DEFAULT_COLLECTION, timestamp: str = "",
               mode: str = "") -> str:
    """pywb's URL for a capture: `/COLL/[TIMESTAMP][MODE]/URL`; mode `id_` is the raw stored response."""
    prefix = f"{timestamp}{mode}/" if (timestamp or mode) else ""
    return f"http://{BIND}:{port}/{collection}/{prefix}{quote(url, safe=':/?&=%#+,;~')}"


def largest_html_page(index_path: Path) -> str | None:
    """The biggest archived 200 HTML page: in a news archive, an article rather than a hub page."""
    with CdxjIndex(index_path) as index:
        pages = [c for c in index if c.status == 200 and c.mime == "text/html"]
    return max(pages, key=lambda c: (c.length, c.url)).url if pages else None


def chromium_program() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("Chromium is not installed: `apt-get install chromium` (Debian package)")


def take_screenshot(url: str, out: Path, *, width: int = 1280, height: int = 1600, timeout: float = 90,
                    net_log: Path | None = None) -> Path:
    """Render `url` with headless Chromium (fresh profile) into a PNG; `net_log`: write Chromium's
    NetLog there too, every request the page made (archive/replay_check.py reads it)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [chromium_program(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--window-size={width},{height}", "--virtual-time-budget=10000",
                   f"--screenshot={out}", *([f"--log-net-log={net_log}"] if net_log else []), url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"Chromium failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return out


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", type=Path, help="directory of WARC files")
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080; 0 = any free)")
    parser.add_argument("--collection", default=DEFAULT_COLLECTION, help="pywb collection name (default news)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="pywb working directory (default data/pywb)")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="render one replayed page to this PNG with headless Chromium, then exit")
    parser.add_argument("--url", help="page for --screenshot (default: the largest archived HTML page)")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    if not args.collection.replace("-", "").replace("_", "").isalnum():
        raise UserError(f"collection name {args.collection!r}: use letters, digits, - and _")
    check_archive_dir(args.directory)  # ArchiveNotFound: reported by archive.cli
    try:
        pywb_program("wayback")
        if args.screenshot:
            chromium_program()
    except (PywbNotInstalled, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    port = args.port or free_port()
    try:
        check_port_free(port)
    except PortInUse as exc:
        raise UserError(str(exc)) from None
    args.root.mkdir(parents=True, exist_ok=True)
    collection = prepare_collection(args.directory, args.root, args.collection)
    if args.screenshot:
        return _screenshot(args, collection, port)
    print(f"pywb: http://{BIND}:{port}/{args.collection}/  (archive {args.directory}; Ctrl-C stops)", flush=True)
    # SIGINT too: a shell starts a background job with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler, so `kill -INT` (or a script's Ctrl-C) would leave serve waiting forever.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    process = None
    try:
        process = start_pywb(args.root, port)
        code = process.wait()  # pywb stopped by itself
        if code != 0:
            print(f"error: pywb exited with code {code}", file=sys.stderr)
            return 1
        return 0
    except (KeyboardInterrupt, _Stop):
        print("pywb stopped", file=sys.stderr)
        return 0
    finally:
        if process is not None:
            stop(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _screenshot(args: argparse.Namespace, collection: Path, port: int) -> int:
    from archive.cli import UserError

    url = args.url or largest_html_page(collection / "indexes" / "index.cdxj")
    if not url:
        raise UserError(f"no archived HTML page under {args.directory} to take a screenshot of")
    process = start_pywb(args.root, port, quiet=True)
    net_log = args.root / "screenshot-netlog.json"
    try:
        page = replay_url(port, url, collection=args.collection)
        out = take_screenshot(page, args.screenshot, net_log=net_log)
    finally:
        stop(process)
    print(f"screenshot of {page}\n  -> {out}")
    print(replay_check_summary(read_net_log(net_log), f"http://{BIND}:{port}/{args.collection}/"))
    return 0


def replay_check_summary(requests: list, server: str) -> str:
    """One line: how many of the replayed page's requests the archive served, and which it did not."""
    failures, blocked = failed(requests, server)
    missing = sorted(filter(None, (archived_url(r.url) for r in failures)))
    served = len({r.url for r in requests if r.url.startswith(server)}) - len(failures)
    return (f"  replay: {served} URL(s) served from the archive, {len(missing)} not (absent, or archived as an error)"
            + (f" ({', '.join(missing[:10])}{' …' if len(missing) > 10 else ''})" if missing else "")
            + f"; {len(blocked)} request(s) outside the replay server blocked (Chromium's own background calls included)")
