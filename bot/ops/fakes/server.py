"""A small threaded HTTP server with programmable failures, shared by the fake providers."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    retry_after: float | None


class FakeServer:
    """Subclasses implement `respond(request) -> Reply` and `failure(status, retry_after)`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []  # every request, failed ones included
        # Called (in the server's thread) with the address of every accepted message.
        self.on_accept: Callable[[str], None] | None = None
        self._failures: list[_Failure | None] = []  # None: that call is answered as usual
        self._down_until = 0.0
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # http.server writes the headers and the body in two packets: with Nagle's
            # algorithm on a kept-alive connection, the body then waits for the client's
            # delayed ACK (40 ms on Linux), a stall no provider's API has.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        server.request_queue_size = 512
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ failures

    def fail_next(
        self, status: int = 500, count: int = 1, retry_after: float | None = None, after: int = 0
    ) -> None:
        """Answer the next `count` API calls with `status` (e.g. 500, or 429 + retry_after),
        once `after` more calls were answered as usual."""
        with self._lock:
            self._failures += [None] * after
            self._failures += [_Failure(status, retry_after) for _ in range(count)]

    def go_down(self, seconds: float) -> None:
        """Drop every connection without an answer for `seconds` (a network outage)."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def come_back(self) -> None:
        with self._lock:
            self._down_until = 0.0

    @property
    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    # ------------------------------------------------------------ waiting

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until `condition()` (checked on every request) is true; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))
        return True

    # ------------------------------------------------------------ plumbing

    def respond(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def accepted(self, address: str) -> None:
        if self.on_accept is not None:
            self.on_accept(address)

    def failure(self, status: int, retry_after: float | None) -> Reply:
        raise NotImplementedError

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        content_type = handler.headers.get("Content-Type") or ""
        if raw and "json" in content_type:
            params.update({k: _as_text(v) for k, v in json.loads(raw).items()})
        elif raw:
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        request = RecordedRequest(
            method=handler.command,
            path=split.path,
            params=params,
            headers={k.lower(): v for k, v in handler.headers.items()},
        )
        with self._lock:
            down = self.is_down
            failure = self._failures.pop(0) if self._failures and not down else None
        if down:
            with self._lock:
                self.requests.append(request)
                self._lock.notify_all()
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        reply = self.failure(failure.status, failure.retry_after) if failure else None
        with self._lock:
            reply = reply or self.respond(request)
            self.requests.append(request)
            self._lock.notify_all()
        body = json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
