"""A threaded loopback JSON server: big listen backlog, TCP_NODELAY, keep-alive, request log."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One request the server received: method, path, request id header, reply status."""

    method: str
    path: str
    request_id: str | None
    status: int
    authorization: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class LoopbackServer:
    """Subclasses implement handle(method, path, headers, body) -> (status, headers, bytes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.times_seen: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = None
                status, headers, payload = outer.handle(method, self.path, self.headers, body)
                with outer.lock:
                    outer.seen.append(Seen(method, self.path, self.headers.get("X-Request-Id"),
                                           status, self.headers.get("Authorization")))
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count_seen(self, request_id: str) -> int:
        """How many times this request id was seen before (and count this sighting)."""
        with self.lock:
            before = self.times_seen[request_id]
            self.times_seen[request_id] += 1
            return before

    def served_ok(self) -> Counter[str]:
        """Request ids answered with 200, and how often."""
        with self.lock:
            return Counter(s.request_id for s in self.seen if s.status == 200 and s.request_id)

    def handle(self, method: str, path: str, headers: Any,
               body: Any) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None
               ) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(
        obj).encode()
