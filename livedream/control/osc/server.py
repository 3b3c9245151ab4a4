"""The OSC server: datagrams in, commands queued, echoes out.

- `OscHandler.handle_datagram(data, sender)`: parse (`wire`), decode (`addresses`), queue; never
  raises; rejections are logged rate-limited; each queued command carries a reply that sends its
  echo (`addresses.echo_messages`) back to the sender (or its `reply_port`).
- `OscControl`: the UDP server thread (own socket, raised SO_RCVBUF, sender allowlist).

Bundle time tags are not scheduled: bundle contents apply on arrival, in order.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from livedream.command_queue import CommandQueue
from livedream.commands import Command, coalesce_key
from livedream.control.osc.addresses import decode, echo_messages
from livedream.control.osc.wire import (
    MAX_DATAGRAM,
    OscError,
    build_message,
    parse_datagram,
    peek,
)
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.state import State

log = logging.getLogger("livedream.osc")

Address = tuple[Any, ...]  # a socket address: (host, port) or IPv6 (host, port, flow, scope)
BATCH = 4096  # datagrams read per wake-up at most


class OscHandler:
    """Datagrams in, commands queued, echoes out through `send(data, address)`; never raises."""

    def __init__(
        self,
        queue: CommandQueue,
        send: Callable[[bytes, Address], Any] | None = None,
        allow: set[str] | None = None,
        allow_quit: bool = False,
        reply_port: int | None = None,
        log_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.send = send
        self.allow = set(allow) if allow is not None else None
        self.allow_quit = allow_quit
        self.reply_port = reply_port
        self.log = RateLimitedLog(log, log_interval, clock)
        self.accepted = 0  # messages decoded and queued
        self.received = 0  # datagrams handed to handle_batch
        self.superseded = 0  # value datagrams replaced by a later one of the same batch
        # (address, type tags) -> whether that message sets a value (learned on decoding)
        self._sets_value: dict[tuple[bytes, bytes], bool] = {}

    def _target(self, sender: Address | None) -> Address | None:
        if sender is None or self.send is None:
            return None
        if self.reply_port is not None:
            return (sender[0], self.reply_port, *sender[2:])
        return sender

    def handle_batch(self, batch: Sequence[tuple[bytes, Address | None]]) -> None:
        """Handle datagrams read together: a value message superseded by a later one for the same
        address from the same sender in the batch is skipped before parsing (the queue would
        coalesce it anyway), so a fader flood costs a peek per datagram, not a parse."""
        self.received += len(batch)
        latest: dict[Hashable, tuple[bytes, Address | None]] = {}
        for i, (data, sender) in enumerate(batch):
            peeked = peek(data)
            key: Hashable = i
            if peeked is not None and self._sets_value.get(peeked):
                key = (peeked[0], sender)
                if key in latest:
                    del latest[key]
                    self.superseded += 1
            latest[key] = (data, sender)
        for data, sender in latest.values():
            self.handle_datagram(data, sender)

    def _learn(self, data: bytes, command: Command) -> None:
        peeked = peek(data)
        if peeked is not None and peeked not in self._sets_value:
            if len(self._sets_value) >= 4096:
                self._sets_value.clear()
            self._sets_value[peeked] = coalesce_key(command) is not None

    def handle_datagram(self, data: bytes, sender: Address | None = None) -> None:
        """Parse, decode and queue every message of one datagram; log and drop what is bad."""
        try:
            if self.allow is not None and (sender is None or sender[0] not in self.allow):
                self.log.log("sender not allowed", f"datagram from {sender!r} ignored")
                return
            try:
                messages = parse_datagram(bytes(data))
            except OscError as exc:
                self.log.log(exc.kind, f"from {sender!r}: {exc}")
                return
            target = self._target(sender)
            for address, args in messages:
                try:
                    command = decode(address, args, self.allow_quit)
                except OscError as exc:
                    self.log.log(exc.kind, f"from {sender!r}: {exc}")
                    continue
                if command is None:
                    continue
                if len(messages) == 1:
                    self._learn(data, command)
                reply = self._reply(address, command, target) if target is not None else None
                origin = f"osc {address}" + (f" from {sender[0]}:{sender[1]}" if sender else "")
                if self.queue.put(command, reply=reply, origin=origin):
                    self.accepted += 1
                else:
                    self.log.log("queue full", f"dropped {address} (render loop is behind)")
        except Exception as exc:  # the show must go on whatever arrives
            self.log.log("internal error", f"{type(exc).__name__}: {exc}", logging.ERROR)

    def _reply(self, address: str, command: Command, target: Address) -> Callable[[State], None]:
        def reply(state: State) -> None:
            try:
                for echo_address, args in echo_messages(address, command, state):
                    self.send(build_message(echo_address, args), target)  # type: ignore[misc]
            except Exception as exc:  # a vanished controller must not disturb the render loop
                self.log.log("echo failed", f"to {target!r}: {type(exc).__name__}: {exc}")

        return reply


def _raise_rcvbuf(sock: socket.socket, wanted: int) -> int:
    """Ask for `wanted` bytes of receive buffer (forcing past rmem_max when allowed); the grant."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if granted < wanted and force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, wanted)
            granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except OSError:
            pass  # needs CAP_NET_ADMIN; keep what rmem_max allowed
    return granted


class OscControl(OscHandler):
    """UDP OSC server thread feeding a CommandQueue (binds 127.0.0.1 unless told otherwise)."""

    def __init__(
        self,
        queue: CommandQueue,
        host: str = "127.0.0.1",
        port: int = 9000,
        allow: set[str] | None = None,
        rcvbuf: int = 32 * 1024 * 1024,
        allow_quit: bool = False,
        reply_port: int | None = None,
        log_interval: float = 5.0,
    ) -> None:
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][0]
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise LivedreamError(f"OSC host {host!r}: {exc}") from None
        try:
            self.rcvbuf = _raise_rcvbuf(sock, rcvbuf)
            sock.bind((host, port))
        except (OSError, OverflowError) as exc:  # OverflowError: port outside 0..65535
            sock.close()
            raise LivedreamError(f"cannot listen for OSC on {host}:{port}: {exc} "
                                 "(is another show running? choose another --osc-port)") from None
        sock.setblocking(False)
        self._sock = sock
        self.address: Address = sock.getsockname()
        super().__init__(queue, sock.sendto, allow, allow_quit, reply_port, log_interval)
        level = logging.INFO if self.rcvbuf >= rcvbuf else logging.WARNING
        log.log(level, "OSC listening on %s:%d, receive buffer %d KiB (asked %d KiB%s)",
                self.address[0], self.address[1], self.rcvbuf // 1024, rcvbuf // 1024,
                "" if self.rcvbuf >= rcvbuf else "; raise net.core.rmem_max to avoid drops")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="livedream-osc", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Wait for datagrams, then read everything the socket holds (up to BATCH) in one go and
        handle it as a batch: the kernel buffer empties faster than any sender fills it."""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.1)
                if not ready:
                    continue
                batch: list[tuple[bytes, Address | None]] = []
                while len(batch) < BATCH:
                    try:
                        batch.append(self._sock.recvfrom(MAX_DATAGRAM))
                    except BlockingIOError:
                        break
            except (OSError, ValueError) as exc:  # ValueError: select on a closed socket
                if self._stop.is_set():
                    break
                self.log.log("socket error", str(exc))
                time.sleep(0.01)
                continue
            self.handle_batch(batch)

    def close(self) -> None:
        """Stop the server thread (within ~0.1 s) and release the port."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._sock.close()
        self.log.flush()

    def __enter__(self) -> OscControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
