"""A real SMTP server on loopback (aiosmtpd), keeping every message it receives; tests share it.

It can be stopped and started again on the same port, to play a mail server that is down for a while.
"""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """aiosmtpd on 127.0.0.1 at a free port; `messages` holds (envelope recipients, parsed message)."""

    def __init__(self, port: int | None = None, refuse: frozenset[str] = frozenset()) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse = refuse  # mailboxes answered "550 no such user" (a permanent failure)
        self.port = port or free_port()
        self.controller = None

    def _handler(self):
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address in sink.refuse:
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                sink.messages.append(
                    (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
                )
                return "250 OK"

        return Handler()

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self._handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def restart(self, port: int | None = None) -> None:
        """Listen again (on the same port by default) after stop(): a mail server back from an outage."""
        self.port = port or self.port
        self.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"
