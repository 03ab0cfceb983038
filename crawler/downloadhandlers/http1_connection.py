"""HTTP/1.1 client connections on asyncio, kept alive in a pool per origin and proxy.

A `Connection` carries one exchange at a time (no pipelining, as Twisted's client): the request
is written whole, the `ResponseReader` is fed every byte read, and the exchange's future is
settled once the response is complete, failed or lost; one wake-up of the waiting task per
response. `ConnectionPool` keeps idle connections by key (scheme, host, port, proxy, bind
address) up to a number per key, drops those the server closed, and opens new ones: a TCP
connection (addresses from the reactor's resolver, so `TWISTED_DNS_RESOLVER`'s checks apply as
they did for Twisted's endpoints), TLS for https, or through an http proxy a CONNECT tunnel then
TLS inside it. Nothing here knows Scrapy's requests or responses (crawler/downloadhandlers/wire.py).
"""
from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from typing import Any, Callable, NamedTuple

from crawler.downloadhandlers.http1_reader import DONE, DataLoss, ParseError, ResponseReader


IDLE_TIMEOUT = 240.0  # seconds an idle kept-alive connection is kept (Twisted's pool: the same)
SWEEP_EVERY = 30.0  # seconds between looks for connections idle too long (made on a release)


class TunnelRefused(Exception):
    """The proxy answered the CONNECT with something other than 200 (message: Scrapy's)."""


class ConnectionKey(NamedTuple):
    scheme: str
    host: str
    port: int
    proxy: tuple[str, int, bytes | None] | None  # (host, port, Proxy-Authorization) of an http proxy
    bind: tuple[str, int] | None


class Connection(asyncio.Protocol):
    """One connection; `exchange()` sends a request and returns the future of its reader."""

    def __init__(self, key: ConnectionKey, on_lost: Callable[[Connection], None]):
        self.key = key
        self.transport: Any = None
        self.reader: ResponseReader | None = None
        self.done: asyncio.Future[ResponseReader] | None = None
        self.watch: Callable[[ResponseReader], None] | None = None  # called after each read of an exchange
        self.lost = False
        self.used = 0  # exchanges begun on this connection
        self.idle_since = 0.0  # time.monotonic() when it went back to the pool
        self.peer: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None  # Scrapy's response.ip_address
        self.certificate: bytes | None = None
        self._on_lost = on_lost
        self._tunnel: asyncio.Future[bytes] | None = None
        self._tunnel_buffer = b""

    # --- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = ipaddress.ip_address(peer[0].partition("%")[0])

    def data_received(self, data: bytes) -> None:
        if self._tunnel is not None:
            self._tunnel_reply(data)
            return
        reader = self.reader
        if reader is None or self.done is None or self.done.done():
            self.transport.abort()  # bytes nobody asked for: this connection cannot be trusted again
            return
        try:
            reader.feed(data)
            if self.watch is not None:
                self.watch(reader)
        except BaseException as exc:  # noqa: BLE001 (the exchange's waiter gets it)
            self.fail(exc)
            return
        if reader.state == DONE:
            self.done.set_result(reader)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        if self._tunnel is not None and not self._tunnel.done():
            self._tunnel.set_exception(ConnectionError("the proxy closed the connection during CONNECT"))
        done, reader = self.done, self.reader
        if done is not None and not done.done() and reader is not None:
            try:
                reader.connection_lost()
            except (ParseError, DataLoss) as error:
                done.set_exception(error)
            else:
                done.set_result(reader)
        self._on_lost(self)

    # --- exchanges ------------------------------------------------------------------------------

    def exchange(self, request: bytes, reader: ResponseReader,
                 watch: Callable[[ResponseReader], None] | None) -> asyncio.Future[ResponseReader]:
        """Writes `request` (one write) and returns the future settled when `reader` is done."""
        self.reader, self.watch, self.used = reader, watch, self.used + 1
        self.done = done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return done

    def fail(self, exc: BaseException) -> None:
        """Ends the exchange with `exc` and drops the connection."""
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc)
        self.abort()

    def abort(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abort()

    def reusable(self) -> bool:
        reader = self.reader
        return (not self.lost and reader is not None and reader.state == DONE and reader.keep_alive
                and not reader.excess and not self.transport.is_closing())

    # --- CONNECT tunnel -------------------------------------------------------------------------

    async def open_tunnel(self, host: str, port: int, authorization: bytes | None) -> None:
        """Scrapy's CONNECT request (`_tunnel_request_data`) and its check of the proxy's answer."""
        target = f"{host}:{port}".encode("ascii")
        request = b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n"
        if authorization:
            request += b"Proxy-Authorization: " + authorization + b"\r\n"
        self._tunnel = asyncio.get_running_loop().create_future()
        self.transport.write(request + b"\r\n")
        try:
            reply = await self._tunnel
        finally:
            self._tunnel = None
        parts = reply.split(b" ", 2)
        if not (len(parts) >= 2 and reply.startswith(b"HTTP/1.") and len(parts[0]) == 8 and parts[1] == b"200"):
            status = parts[1] if len(parts) > 1 else b""
            extra: Any = ({"status": int(status), "reason": (parts[2] if len(parts) > 2 else b"").split(b"\r\n")[0]
                          .strip()[:1000]} if status.isdigit() and len(status) == 3 else reply[:1000])
            raise TunnelRefused(f"Could not open CONNECT tunnel with proxy {self.key.proxy[0]}:"
                                f"{self.key.proxy[1]} [{extra!r}]")

    def _tunnel_reply(self, data: bytes) -> None:
        # As Scrapy's tunnel: the reply ends at the first b"\r\n\r\n"; nothing after it is read (the
        # TLS layer starts on the next bytes).
        self._tunnel_buffer += data
        if b"\r\n\r\n" in self._tunnel_buffer and not self._tunnel.done():
            self._tunnel.set_result(self._tunnel_buffer)
            self._tunnel_buffer = b""


class ConnectionPool:
    """Idle keep-alive connections by key, at most `per_key` each; opens what is missing."""

    def __init__(self, resolve: Callable[[str], Any], ssl_context: ssl.SSLContext, per_key: int):
        self._resolve = resolve  # host name -> awaitable of an address
        self._ssl = ssl_context
        self._per_key = per_key
        self._idle: dict[ConnectionKey, list[Connection]] = {}  # no empty lists: one entry a key with idle ones
        self._swept = time.monotonic()

    async def acquire(self, key: ConnectionKey) -> Connection:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if not idle:
                del self._idle[key]
            if not connection.lost and not connection.transport.is_closing():
                return connection
        return await self._open(key)

    def release(self, connection: Connection) -> None:
        """Back to the pool if the response left it usable, else closed."""
        reusable = connection.reusable()
        connection.reader = connection.done = connection.watch = None
        if not reusable:
            if not connection.lost:
                connection.transport.close()
            return
        idle = self._idle.setdefault(connection.key, [])
        if len(idle) < self._per_key:
            connection.idle_since = now = time.monotonic()
            idle.append(connection)
            if now - self._swept > SWEEP_EVERY:
                self._sweep(now)
        else:
            connection.transport.close()

    def _sweep(self, now: float) -> None:
        """Closes connections idle longer than IDLE_TIMEOUT (Twisted's pool: `cachedConnectionTimeout`),
        so a crawl of many hosts does not hold a socket open to each one it met."""
        self._swept = now
        for idle in list(self._idle.values()):
            for connection in [c for c in idle if now - c.idle_since > IDLE_TIMEOUT]:
                connection.transport.close()  # connection_lost takes it off the list

    def _lost(self, connection: Connection) -> None:
        idle = self._idle.get(connection.key)
        if idle and connection in idle:
            idle.remove(connection)
            if not idle:
                del self._idle[connection.key]

    async def _open(self, key: ConnectionKey) -> Connection:
        loop = asyncio.get_running_loop()
        host, port = (key.proxy[0], key.proxy[1]) if key.proxy else (key.host, key.port)
        address = host if _is_ip(host) else await self._resolve(host)
        direct_tls = key.scheme == "https" and key.proxy is None
        transport, connection = await loop.create_connection(
            lambda: Connection(key, self._lost), address, port,
            ssl=self._ssl if direct_tls else None, server_hostname=_sni(key.host) if direct_tls else None,
            local_addr=key.bind)
        try:
            if key.scheme == "https" and key.proxy is not None:
                await connection.open_tunnel(key.host, key.port, key.proxy[2])
                transport = await loop.start_tls(transport, connection, self._ssl, server_hostname=_sni(key.host))
                connection.transport = transport
            if key.scheme == "https":
                ssl_object = transport.get_extra_info("ssl_object")
                if ssl_object is not None:
                    connection.certificate = ssl_object.getpeercert(binary_form=True)
        except BaseException:
            connection.abort()
            raise
        return connection

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.transport.close()
        self._idle.clear()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _sni(host: str) -> str | None:
    return None if _is_ip(host) else host
