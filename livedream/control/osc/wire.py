"""OSC 1.0 wire format: a strict datagram parser (messages and nested bundles) and the encoder.

Written here instead of using python-osc's parser because that one logs every unknown type tag
through the root logger (a log flood under fuzz) and lets some malformed input escape as
non-parse exceptions. Everything malformed raises `OscError`, whose `kind` names the rejection
for rate-limited logs.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from livedream.errors import LivedreamError

MAX_DATAGRAM = 65536  # largest UDP payload is 65507 bytes; anything bigger is not from a socket
MAX_BUNDLE_DEPTH = 8

Message = tuple[str, list[Any]]


class OscError(LivedreamError):
    """An OSC datagram or message was rejected; `kind` names the rejection for rate-limited logs."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# --- parsing ------------------------------------------------------------------------------------
def _read_string(data: bytes, i: int) -> tuple[str, int]:
    end = data.find(b"\0", i)
    if end < 0:
        raise OscError("malformed packet", f"unterminated string at byte {i}")
    try:
        text = data[i:end].decode("utf-8")
    except UnicodeDecodeError:
        raise OscError("malformed packet", f"string at byte {i} is not UTF-8") from None
    nxt = (end + 4) & ~3
    if nxt > len(data):
        raise OscError("malformed packet", f"string at byte {i} is not padded to 4 bytes")
    return text, nxt


def _read(data: bytes, i: int, fmt: str) -> tuple[Any, int]:
    size = struct.calcsize(fmt)
    if i + size > len(data):
        raise OscError("malformed packet", f"truncated argument at byte {i}")
    return struct.unpack_from(fmt, data, i)[0], i + size


def parse_message(data: bytes) -> tuple[str, list[Any]]:
    """One OSC message: (address, arguments). Raises OscError when malformed."""
    address, i = _read_string(data, 0)
    if not address.startswith("/"):
        raise OscError("malformed packet", "address does not start with '/'")
    args: list[Any] = []
    if i == len(data):
        return address, args  # OSC 1.0 allows omitting an empty type tag string
    tags, i = _read_string(data, i)
    if not tags.startswith(","):
        raise OscError("malformed packet", f"type tag string {tags[:20]!r} lacks its ','")
    for tag in tags[1:]:
        if tag == "i":
            value, i = _read(data, i, ">i")
        elif tag == "h":
            value, i = _read(data, i, ">q")
        elif tag == "f":
            value, i = _read(data, i, ">f")
        elif tag == "d":
            value, i = _read(data, i, ">d")
        elif tag in "sS":
            value, i = _read_string(data, i)
        elif tag == "b":
            size, i = _read(data, i, ">i")
            if size < 0 or i + size > len(data):
                raise OscError("malformed packet", f"blob of {size} bytes overruns the packet")
            value, i = data[i:i + size], (i + size + 3) & ~3
            if i > len(data):
                raise OscError("malformed packet", "blob is not padded to 4 bytes")
        elif tag in "rm":
            value, i = _read(data, i, ">4s")
        elif tag == "t":
            value, i = _read(data, i, ">Q")
        elif tag == "c":
            code, i = _read(data, i, ">I")
            value = chr(code) if code < 0x110000 else "\ufffd"
        elif tag == "T":
            value = True
        elif tag == "F":
            value = False
        elif tag in "NI":
            value = None
        else:
            raise OscError("unsupported type tag", f"type tag {tag!r} is not supported")
        args.append(value)
    if i != len(data):
        raise OscError("malformed packet", f"{len(data) - i} bytes after the last argument")
    return address, args


def parse_datagram(data: bytes, depth: int = 0) -> list[tuple[str, list[Any]]]:
    """Every message of a datagram (a message or a bundle, nested at most MAX_BUNDLE_DEPTH)."""
    if len(data) > MAX_DATAGRAM:
        raise OscError("oversize packet", f"{len(data)} bytes (limit {MAX_DATAGRAM})")
    if data.startswith(b"/"):
        return [parse_message(data)]
    if not data.startswith(b"#bundle\0"):
        raise OscError("malformed packet", "neither an OSC message nor a bundle")
    if depth >= MAX_BUNDLE_DEPTH:
        raise OscError("bad bundle", f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    if len(data) < 16:
        raise OscError("bad bundle", "bundle shorter than its header")
    messages: list[tuple[str, list[Any]]] = []
    i = 16
    while i < len(data):
        if i + 4 > len(data):
            raise OscError("bad bundle", f"truncated element size at byte {i}")
        (size,) = struct.unpack_from(">i", data, i)
        i += 4
        if size <= 0 or size % 4 or i + size > len(data):
            raise OscError("bad bundle", f"element size {size} at byte {i - 4} is invalid")
        try:
            messages += parse_datagram(data[i:i + size], depth + 1)
        except OscError as exc:
            if exc.kind == "bad bundle":
                raise
            raise OscError("bad bundle", f"element at byte {i - 4}: {exc}") from None
        i += size
    return messages


def peek(data: bytes) -> tuple[bytes, bytes] | None:
    """(address, type tags) of a plain message without parsing it, or None (a bundle, junk).

    Cheap enough to run on every datagram of a flood before any real parsing."""
    if not data.startswith(b"/"):
        return None
    end = data.find(b"\0")
    if end < 0:
        return None
    start = (end + 4) & ~3
    tags_end = data.find(b"\0", start)
    tags = data[start:tags_end] if start < len(data) and data[start:start + 1] == b"," else b""
    return data[:end], tags


def build_message(address: str, args: Sequence[Any]) -> bytes:
    """Encode one OSC message (bools as ints 0/1, which every controller understands)."""
    builder = OscMessageBuilder(address)
    for arg in args:
        if isinstance(arg, bool):
            builder.add_arg(int(arg), "i")
        elif isinstance(arg, int):
            builder.add_arg(arg, "i" if -2**31 <= arg < 2**31 else "h")
        elif isinstance(arg, float):
            builder.add_arg(arg, "f")
        else:
            builder.add_arg(str(arg), "s")
    return builder.build().dgram
