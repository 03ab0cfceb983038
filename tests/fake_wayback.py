"""A stand-in for pywb's `wayback`, for the serve lifecycle tests only (tests/test_operator.py).

Takes wayback's `-b HOST -p PORT -d DIR`, starts a grandchild (`sleep`) as
pywb's own workers would be, writes both pids to DIR/fake-wayback.pids and
answers HTTP on HOST:PORT until it is told to stop. No real pywb is needed,
so `serve`'s process handling is tested even where `make pywb` cannot run.
"""
from __future__ import annotations

import argparse
import http.server
import os
import subprocess
from pathlib import Path


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-b", required=True)
    parser.add_argument("-p", type=int, required=True)
    parser.add_argument("-d", type=Path, required=True)
    args = parser.parse_args()
    worker = subprocess.Popen(["sleep", "300"])
    (args.d / "fake-wayback.pids").write_text(f"{os.getpid()} {worker.pid}\n")
    http.server.HTTPServer((args.b, args.p), Handler).serve_forever()


if __name__ == "__main__":
    main()
