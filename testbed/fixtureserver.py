"""A local stand-in for the real news sites: serves fixture pages under their real URLs.

It is an HTTP forward proxy on 127.0.0.1: point `http_proxy`/`https_proxy` at
it and the unchanged crawler fetches `https://nhandan.vn/...` from
`tests/fixtures/web/nhandan.vn/...`. HTTPS goes through CONNECT and is
terminated here with a throwaway self-signed certificate (Scrapy does not
verify certificates by default, as a crawler should not refuse to archive).
Per-URL behaviour (redirects, errors, chunking, compression, delays) comes
from `_routes.json` beside the pages, so tests can ask for realistic wire
traffic. Used by the tests, `make demo` and the benchmarks; never binds
anything but loopback.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import mimetypes
import socketserver
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURE_WEB = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "web"
HTML_SUFFIXES = {"", ".html", ".htm", ".vnp", ".amp"}


def self_signed_context(dns_names=(), ip_addresses=()) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed EC certificate (made with `cryptography`).

    The certificate names the given hosts (each also as `*.host`) and IPs, so
    Scrapy's hostname check stays quiet; nothing verifies the chain.
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fixture.test")])
    now = dt.datetime.now(dt.timezone.utc)
    alt_names = [x509.DNSName(n) for host in dns_names for n in (host, f"*.{host}")]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names or [x509.DNSName("fixture.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory(prefix="fixture-tls-") as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
    return context


@dataclass
class Reply:
    """One response as the site means it; the handler puts it on the wire."""

    status: int = 200
    headers: list = field(default_factory=list)
    body: bytes = b""
    encoding: str = "auto"  # auto (gzip when accepted and > 1 KB), gzip, br, identity
    chunked: bool = False
    delay: float = 0.0


class FixtureSite:
    """Maps (host, path) to a response from files plus `_routes.json` overrides."""

    def __init__(self, root: Path = FIXTURE_WEB):
        self.root = root
        routes_file = root / "_routes.json"
        self.routes: dict = json.loads(routes_file.read_text("utf-8")) if routes_file.exists() else {}
        self.lock = threading.Lock()
        self.hits: list[str] = []

    def hosts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def file_for(self, host: str, path: str) -> Path | None:
        rel = path.lstrip("/") or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        candidate = (self.root / host / rel).resolve()
        if candidate.is_dir():  # /huu-nghi is both a page and the parent of /huu-nghi/p2
            candidate = candidate / "index.html"
        if self.root.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def route(self, host: str, path_qs: str) -> dict:
        return self.routes.get(f"{host}{path_qs}") or self.routes.get(f"{host}{urlsplit(path_qs).path}") or {}

    def resolve(self, host: str, path_qs: str) -> Reply:
        """What to send for this URL: file contents shaped by its route, or a 404."""
        route = self.route(host, path_qs)
        reply = Reply(status=int(route.get("status", 200)),
                      headers=[tuple(h) for h in route.get("headers", [])],
                      encoding=route.get("encoding", "auto"), chunked=bool(route.get("chunked")),
                      delay=float(route.get("delay", 0)))
        if "location" in route:
            reply.status = int(route.get("status", 301))
            reply.headers.append(("Location", route["location"]))
        elif "body" in route:
            reply.body = route["body"].encode(route.get("charset", "utf-8"))
            reply.headers.append(("Content-Type", route.get("content_type", "text/html; charset=utf-8")))
        elif reply.status < 400:
            # "file" serves another fixture's bytes here (e.g. with a wrong declared charset).
            path = self.file_for(*route["file"].split("/", 1)) if "file" in route else \
                self.file_for(host, urlsplit(path_qs).path)
            if path is None:
                reply.status = 404
            else:
                reply.body = path.read_bytes()
                reply.headers.append(("Content-Type", route.get("content_type") or _content_type(path)))
        if reply.status >= 400 and not reply.body:
            reply.body = f"<html><body><h1>{reply.status}</h1></body></html>".encode()
            reply.headers.append(("Content-Type", "text/html; charset=utf-8"))
        return reply


class FixtureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # PITFALLS: without it every request costs ~40 ms
    server_version = "fixture-news/1.0"
    tunnel_host: str | None = None

    def log_message(self, format, *args):  # quiet: tests read hits, not logs
        pass

    # --- proxy plumbing ----------------------------------------------------
    def do_CONNECT(self):
        self.tunnel_host = self.path.rsplit(":", 1)[0].lower()
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        tls = self.server.tls_context.wrap_socket(self.connection, server_side=True)
        self.connection = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = socketserver._SocketWriter(tls)
        self.close_connection = False
        self.scheme = "https"

    def _target(self) -> tuple[str, str, str]:
        """(scheme, host, path-with-query) of the requested resource."""
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            return parts.scheme, (parts.hostname or "").lower(), (parts.path or "/") + (
                f"?{parts.query}" if parts.query else "")
        host = (self.tunnel_host or (self.headers.get("Host") or "").split(":")[0]).lower()
        return getattr(self, "scheme", "http"), host, self.path

    # --- responses -----------------------------------------------------------
    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        site: FixtureSite = self.server.site
        scheme, host, path_qs = self._target()
        with site.lock:
            site.hits.append(f"{scheme}://{host}{path_qs}")
        reply = site.resolve(host, path_qs)
        if reply.delay:
            time.sleep(reply.delay)
        status, headers, body = reply.status, reply.headers, reply.body
        encoding = reply.encoding
        if encoding == "auto":
            wants_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
            encoding = "gzip" if wants_gzip and len(body) > 1024 else "identity"
        if encoding == "gzip":
            body = compressed(body, "gzip")
            headers.append(("Content-Encoding", "gzip"))
            headers.append(("Vary", "Accept-Encoding"))
        elif encoding == "br":
            body = compressed(body, "br")
            headers.append(("Content-Encoding", "br"))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not head:
                step = max(1, len(body) // 3)
                for i in range(0, len(body), step):
                    piece = body[i:i + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    do_POST = do_GET


class CompressedBodies:
    """Each body compressed once, as a static server or a CDN serves pre-compressed files: the same
    bytes on the wire every time (gzip level 9 with mtime 0, brotli quality 11), without ~3 ms of
    gzip a 100 KB page (brotli: more) on the cores the crawl under test shares. Bounded: past
    `limit` bytes held (bodies and their compressed forms), the oldest are dropped."""

    def __init__(self, limit: int = 64 * 2**20):
        self.limit = limit
        self.held = 0
        self._done: dict[tuple[str, bytes], bytes] = {}  # (coding, body) -> compressed, oldest first
        self._lock = threading.Lock()

    def __call__(self, body: bytes, coding: str) -> bytes:
        key = (coding, body)
        with self._lock:
            done = self._done.get(key)
        if done is not None:
            return done
        if coding == "gzip":
            done = gzip.compress(body, mtime=0)
        else:
            import brotli
            done = brotli.compress(body)
        with self._lock:
            if key not in self._done:
                self._done[key] = done
                self.held += len(body) + len(done)
            while self.held > self.limit:
                oldest, sent = next(iter(self._done.items()))
                del self._done[oldest]
                self.held -= len(oldest[1]) + len(sent)
        return done


compressed = CompressedBodies()


def _content_type(path: Path) -> str:
    if path.name == "robots.txt":
        return "text/plain; charset=utf-8"
    if path.suffix in HTML_SUFFIXES:
        return "text/html; charset=utf-8"
    if path.suffix in (".xml", ".rss"):
        return "application/xml; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: FixtureSite | None = None, port: int = 0,
                 handler=FixtureHandler):
        super().__init__(("127.0.0.1", port), handler)
        self.site = site or FixtureSite()
        self.tls_context = self_signed_context(self.site.hosts())

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def proxy_env(self) -> dict[str, str]:
        """Environment that routes a crawler's requests through this server."""
        return {"http_proxy": self.proxy_url, "https_proxy": self.proxy_url,
                "HTTP_PROXY": self.proxy_url, "HTTPS_PROXY": self.proxy_url,
                "no_proxy": "", "NO_PROXY": ""}

    def start_background(self) -> "FixtureServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--root", type=Path, default=FIXTURE_WEB)
    args = parser.parse_args(argv)
    server = FixtureServer(FixtureSite(args.root), args.port)
    if args.port_file:
        Path(args.port_file).write_text(str(server.server_address[1]))
    print(f"fixture proxy on {server.proxy_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
