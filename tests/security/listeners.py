"""Loopback listeners that count connections, and a guard on outbound connects (tests only)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class CountingListener:
    """A TCP listener on 127.0.0.1 that counts accepted connections.

    ``reply``: bytes to answer every connection with (after reading the request head), or None to
    stay silent (a responder that hangs); ``on_request`` sees each request line.
    """

    def __init__(self, reply: bytes | None = None, on_request: Callable[[bytes], None] | None = None):
        self.reply = reply
        self.on_request = on_request
        self.accepted = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            if self.reply is None:
                self._held.append(conn)  # keep it open and say nothing
                continue
            try:
                conn.settimeout(2)
                head = conn.recv(65536)
                if self.on_request is not None:
                    self.on_request(head.split(b"\r\n", 1)[0])
                conn.sendall(self.reply)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()

    def __enter__(self) -> CountingListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ConnectGuard:
    """Records every ``socket.connect``/``connect_ex`` made while active (mock of nothing: a spy)."""

    def __init__(self, monkeypatch) -> None:
        self.attempts: list[object] = []
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        guard = self

        def connect(sock, address):
            guard.attempts.append(address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            guard.attempts.append(address)
            return real_connect_ex(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
