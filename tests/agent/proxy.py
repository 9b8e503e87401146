"""A gateway stand-in between the agent and the System: forwards, or drops connections while "down".

It logs the messageId of every POST it forwards, in order, so a test can check what
reached the System and in which order, and can run a hook once the System answered
(e.g. SIGKILL the agent before it reads the answer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from lxml import etree


class GatewayProxy:
    def __init__(self, endpoint: str) -> None:
        url = httpx.URL(endpoint)
        self.target = f"{url.scheme}://{url.netloc.decode()}"  # the path comes with each request
        self.down = False
        self.forwarded: list[str] = []  # messageIds the System received, in order
        self.refused: list[str] = []  # messageIds dropped while down
        self.after_answer: Callable[[str], None] | None = None
        self.rewrite_answer: Callable[[bytes], bytes] | None = None  # a man in the middle, for tests
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                message_id = etree.fromstring(body).findtext(".//requestInfo/messageId") or "?"
                if proxy.down:
                    proxy.refused.append(message_id)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                answer = httpx.post(
                    proxy.target + self.path,
                    content=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "text/xml")},
                    timeout=60,
                )
                proxy.forwarded.append(message_id)
                if proxy.after_answer is not None:
                    proxy.after_answer(message_id)
                content = answer.content
                if proxy.rewrite_answer is not None:
                    content = proxy.rewrite_answer(content)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/shep/SyncChannel"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> GatewayProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
