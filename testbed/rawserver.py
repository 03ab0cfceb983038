"""A raw-socket HTTP/1.1 server on 127.0.0.1 that sends scripted bytes verbatim.

`http.server` normalises what it sends; byte-exact capture tests need a
server that can send odd header case and order, folded or padded headers,
bare-LF lines, chunk extensions and trailers, a 103 before the 200, and a
body ended by closing the connection. It also records each request exactly
as it arrived, acts as an HTTP proxy (absolute-URI requests and CONNECT
tunnels, terminated here with a throwaway certificate), keeps connections
alive, and stops by itself after `lifetime` seconds.
"""
from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from testbed.fixtureserver import self_signed_context


@dataclass(frozen=True)
class Reply:
    """One response: `interim` (1xx heads) + `head` + `body`, sent as given."""

    head: bytes
    body: bytes = b""
    interim: bytes = b""
    after: bytes = b""  # bytes sent after the response that are not part of it
    close: bool = False  # close after sending: the only end of a body without length
    delay: float = 0.0  # before the first byte
    piece: int = 0  # send in pieces of this many bytes (0: all at once) ...
    pause: float = 0.0  # ... with this pause between them, to split the client's reads

    @property
    def wire(self) -> bytes:
        return self.interim + self.head + self.body + self.after


Routes = Mapping[str, Reply] | Callable[[str], "Reply | None"]

NOT_FOUND = Reply(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


class RawServer:
    """Serves `routes` (path -> Reply, or a function of the path) on 127.0.0.1."""

    def __init__(self, routes: Routes, *, tls: bool = False, lifetime: float = 120.0):
        self.routes = routes
        self.tls = tls
        self.lifetime = lifetime
        self.received: list[tuple[str, bytes]] = []  # (request target, exact request bytes)
        self.connections = 0  # fewer than requests means keep-alive was used
        self.lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._listener: socket.socket | None = None
        self._port = 0
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        assert self._port, "start() the server first"
        return self._port

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def requests_for(self, target_suffix: str) -> list[bytes]:
        with self.lock:
            return [raw for target, raw in self.received if target.endswith(target_suffix)]

    def start(self) -> RawServer:
        self._context = self_signed_context(ip_addresses=("127.0.0.1",))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, name="rawserver", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        deadline = time.monotonic() + self.lifetime
        try:
            while not self._stopped.is_set() and time.monotonic() < deadline:
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        finally:
            self._listener.close()
            self._stopped.set()

    def _route(self, path: str) -> Reply:
        if callable(self.routes):
            reply = self.routes(path)
        else:
            reply = self.routes.get(path)
        return reply or NOT_FOUND

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(5)
        try:
            if self.tls:
                conn = self._context.wrap_socket(conn, server_side=True)
            with self.lock:
                self.connections += 1
            conn = self._serve_requests(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _serve_requests(self, conn: socket.socket) -> socket.socket:
        """Answer requests until the client or a reply closes; returns the socket in use."""
        buffer = b""
        while not self._stopped.is_set():
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return conn
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            head += b"\r\n\r\n"
            length = _content_length(head)
            while len(buffer) < length:
                data = conn.recv(65536)
                if not data:
                    return conn
                buffer += data
            body, buffer = buffer[:length], buffer[length:]
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            if method == "CONNECT":
                # Proxy tunnel: answer, then speak TLS to the client ourselves.
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                conn = self._context.wrap_socket(conn, server_side=True)
                continue
            with self.lock:
                self.received.append((target, head + body))
            parts = urlsplit(target)  # absolute-URI form when we are used as a proxy
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            reply = self._route(path)
            _send(conn, reply, method)
            if reply.close:
                return conn
        return conn


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _send(conn: socket.socket, reply: Reply, method: str) -> None:
    if reply.delay:
        time.sleep(reply.delay)
    wire = reply.interim + reply.head if method == "HEAD" else reply.wire
    if not reply.piece:
        conn.sendall(wire)
        return
    for start in range(0, len(wire), reply.piece):
        conn.sendall(wire[start : start + reply.piece])
        if reply.pause:
            time.sleep(reply.pause)
