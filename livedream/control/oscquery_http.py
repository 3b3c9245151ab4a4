"""The OSCQuery HTTP server: answers GET/HEAD with the namespace of the show's current state.

Standard library `ThreadingHTTPServer` on its own daemon thread, bound to the OSC host
(127.0.0.1 unless told otherwise). python-oscquery (PyPI) was not used: it binds every
interface, always advertises over zeroconf, serves a static tree, and has no bounds on requests.

Hardened because it listens on the network next to a live show: a request (line and headers)
larger than `MAX_REQUEST` bytes gets 431, one not complete within `timeout` seconds is dropped
(slowloris), unknown methods get 405, bad versions 400, at most `max_connections` are served at
once (more are closed), one request per connection (HTTP/1.0). Nothing a client sends reaches
the render loop: the server only reads the state through the getter.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from livedream.control.oscquery import QueryError, answer, entries, host_info, namespace
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.state import Env, State

log = logging.getLogger("livedream.oscquery")

MAX_REQUEST = 16 * 1024  # request line + headers; a GET has no body
MAX_PATH = 1024


class _Expired(Exception):
    """The request was not complete within the server's timeout (answered 408)."""


class _RequestReader:
    """`rfile` for one connection: `readline` with a byte budget and a deadline for the request.

    The deadline covers the whole request (a client trickling a byte a second is cut off, not
    just one that goes silent), since each socket read waits at most what is left of it.
    """

    def __init__(self, sock: socket.socket, max_bytes: int, seconds: float) -> None:
        self._sock = sock
        self._buf = b""
        self._left = max_bytes
        self._deadline = time.monotonic() + seconds

    def readline(self, limit: int = -1) -> bytes:
        while b"\n" not in self._buf:
            if len(self._buf) > self._left:
                raise http.client.LineTooLong(f"request over {MAX_REQUEST} bytes")
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise _Expired("request not complete in time")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError:
                raise _Expired("request not complete in time") from None
            if not chunk:
                break
            self._buf += chunk
        end = self._buf.find(b"\n") + 1 or len(self._buf)
        if limit >= 0:
            end = min(end, limit)
        line, self._buf = self._buf[:end], self._buf[end:]
        self._left -= len(line)
        if self._left < 0:
            raise http.client.LineTooLong(f"request over {MAX_REQUEST} bytes")
        return line

    def close(self) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s: %(explain)s\n"

    def setup(self) -> None:
        super().setup()
        self.rfile = _RequestReader(self.connection, MAX_REQUEST,  # type: ignore[assignment]
                                    self.server.request_timeout)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except http.client.LineTooLong as exc:  # the request line itself was too long
            self._fail(431, "Request too large", str(exc))
        except _Expired as exc:  # slowloris: a request trickling in or stalled half-way
            self._fail(408, "Request timeout", str(exc))
        except OSError as exc:  # the client went away mid-request
            self.close_connection = True
            self.server.limited.log("connection error", f"{self.client_address}: {exc}")

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # no headers, no status line: not served
            self.send_error(400, "HTTP/0.9 is not served")
            return False
        if self.headers.defects:  # e.g. a header line without a colon
            self.send_error(400, "Malformed headers", str(self.headers.defects[0]))
            return False
        return True

    def _fail(self, code: int, message: str, explain: str) -> None:
        self.requestline = self.request_version = self.command = ""
        self.close_connection = True
        self.send_error(code, message, explain)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        # 4xx for everything a client gets wrong: an unknown method is 405, not 501; an
        # unsupported HTTP version is 400, not 505.
        code = {501: 405, 505: 400}.get(int(code), int(code))
        if self.request_version == "HTTP/0.9":  # garbage parsed as 0.9: still say the status
            self.request_version = "HTTP/1.0"
        self.server.limited.log(f"HTTP {code}", f"{self.client_address[0]}: {message} "
                                f"({getattr(self, 'requestline', '')[:80]!r})",
                                logging.INFO if code == 404 else None)  # 404: a browsing client
        try:
            super().send_error(code, message, explain)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s %s", self.client_address[0], format % args)

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(body=False)

    def _respond(self, body: bool) -> None:
        try:
            status, data = self.server.reply(self.path)
        except QueryError as exc:
            self.send_error(exc.status, str(exc))
            return
        except Exception as exc:  # our bug: answer 500, log it, keep serving
            self.server.limited.log("internal error", f"{type(exc).__name__}: {exc}",
                                    logging.ERROR)
            self.send_error(500, "internal error")
            return
        payload = b"" if data is None else json.dumps(data, allow_nan=False).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body and status != 204:
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_timeout = 5.0
    limited: RateLimitedLog
    reply: Callable[[str], tuple[int, Any]]
    slots: threading.BoundedSemaphore

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.limited.log("too many connections", f"refused {client_address}")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host's FQDN (a DNS wait at startup).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.limited.log("handler error", f"{client_address}", logging.ERROR)


class _Server6(_Server):
    address_family = socket.AF_INET6


def split_target(target: str) -> tuple[str, str]:
    """An HTTP request target as (OSC path, query); QueryError 400 when it is not one."""
    parts = urlsplit(target)
    try:
        path = unquote(parts.path or "/", errors="strict")
    except UnicodeDecodeError:
        raise QueryError(400, "path is not UTF-8") from None
    if len(path) > MAX_PATH or not path.startswith("/") or "\0" in path:
        raise QueryError(400, f"not an OSC path: {path[:80]!r}")
    return path, unquote(parts.query)


class OscQueryServer:
    """Serves `state()`'s namespace over OSCQuery on host:port (port 0 picks a free one)."""

    def __init__(
        self,
        state: Callable[[], State],
        osc_port: int,
        host: str = "127.0.0.1",
        port: int = 0,
        env: Callable[[], Env] | None = None,
        name: str = "livedream",
        timeout: float = 5.0,
        max_connections: int = 16,
        log_interval: float = 5.0,
    ) -> None:
        self._state = state
        self._env = env or Env
        self.host_info = host_info(host, osc_port, name)
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            cls = _Server6 if family == socket.AF_INET6 else _Server
            server = cls((host, port), _Handler, bind_and_activate=False)
        except OSError as exc:
            raise LivedreamError(f"OSCQuery host {host!r}: {exc}") from None
        server.request_timeout = timeout
        server.limited = RateLimitedLog(log, log_interval)
        server.reply = self.reply
        server.slots = threading.BoundedSemaphore(max_connections)
        try:
            server.server_bind()
            server.server_activate()
        except (OSError, OverflowError) as exc:
            server.server_close()
            raise LivedreamError(f"cannot serve OSCQuery on {host}:{port}: {exc} (choose "
                                 "another --oscquery-port, or 0 for none)") from None
        self._server = server
        self.address: tuple[Any, ...] = server.socket.getsockname()
        self.port: int = self.address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="livedream-oscquery", daemon=True)
        self._thread.start()
        log.info("OSCQuery on http://%s:%d/ (OSC on UDP port %d)", host, self.port, osc_port)

    def reply(self, target: str) -> tuple[int, Any]:
        """(status, JSON) for one request target such as `/livedream/param/zoom/scale?VALUE`."""
        path, query = split_target(target)
        if query.upper() == "HOST_INFO":
            return answer({}, path, query, self.host_info)
        nodes = namespace(entries(self._state(), self._env()))
        return answer(nodes, path, query, self.host_info)

    def close(self) -> None:
        """Stop serving (within ~0.1 s) and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)
        self._server.limited.flush()

    def __enter__(self) -> OscQueryServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
