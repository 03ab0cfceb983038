"""Two broken proxies on 127.0.0.1, for tests only: what a crawl meets when the network is down.

- `RefusingProxy`: a port that is bound but never listens, so every connection
  is refused (ECONNREFUSED), like a proxy that is not running.
- `SilentProxy`: accepts every connection, reads what is sent and never
  answers, like a proxy or firewall that drops traffic.

Either one is handed to the crawl as `http_proxy`/`https_proxy` (`proxy_env()`).
"""
from __future__ import annotations

import socket
import threading


class RefusingProxy:
    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # bound, not listening: the port stays ours, connects fail
        self.port = self._socket.getsockname()[1]

    def proxy_env(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.port}"
        return {"http_proxy": url, "https_proxy": url, "no_proxy": ""}

    def close(self) -> None:
        self._socket.close()


class SilentProxy(RefusingProxy):
    def __init__(self):
        super().__init__()
        self._socket.listen(64)
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)  # kept open, never answered
            threading.Thread(target=self._drain, args=(connection,), daemon=True).start()

    @staticmethod
    def _drain(connection: socket.socket) -> None:
        try:
            while connection.recv(65536):
                pass
        except OSError:
            pass

    @property
    def connections(self) -> int:
        return len(self._held)

    def close(self) -> None:
        self._stopped.set()
        super().close()
        for connection in self._held:
            connection.close()
