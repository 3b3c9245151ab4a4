"""OSC control: UDP datagrams under `/livedream/` decoded into commands, with echo replies.

Layers:
- `parse_datagram(data)`: strict OSC 1.0 parser (messages and nested bundles, bounded depth) that
  raises `OscError` on anything malformed. Written here instead of using python-osc's parser
  because that one logs every unknown type tag through the root logger (a log flood under fuzz)
  and lets some malformed input escape as non-parse exceptions.
- `decode(address, args)`: pure, validates the untyped OSC arguments into one `Command`.
- `echo_messages(address, command, state)`: what goes back to the sender after the command applied.
- `OscHandler.handle_datagram(data, sender)`: never raises; rejections are logged rate-limited.
- `OscControl`: the UDP server thread (own socket, raised SO_RCVBUF, sender allowlist).

The address table is in docs/osc.md. Bundle time tags are not scheduled: bundle contents apply
on arrival, in order.
"""

from __future__ import annotations

import logging
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.state import (
    Command,
    CommandQueue,
    LearnMidi,
    LoadPreset,
    QueryState,
    Quit,
    Reset,
    SetChain,
    SetEase,
    SetFlag,
    SetLayer,
    SetLayers,
    SetModel,
    SetParam,
    SetSourceMix,
    SetTransform,
    State,
    StepLayer,
    StepPreset,
    ToggleTransform,
    param_value,
    resolve_param,
)

log = logging.getLogger("livedream.osc")

PREFIX = "/livedream"
MAX_DATAGRAM = 65536  # largest UDP payload is 65507 bytes; anything bigger is not from a socket
MAX_BUNDLE_DEPTH = 8
MAX_NAME = 200
MAX_LIST = 32
FLAG_ADDRESSES = {"pause": "paused", "record": "recording", "overlay": "overlay",
                  "fullscreen": "fullscreen"}
ADDRESS_OF_FLAG = {flag: f"{PREFIX}/{short}" for short, flag in FLAG_ADDRESSES.items()}

#: The documented address space (also rendered in docs/osc.md): address, arguments, meaning.
ADDRESSES: tuple[tuple[str, str, str], ...] = (
    ("/livedream/layer", "s", "dream this layer of the current model"),
    ("/livedream/layers", "s...", "dream several layers at once"),
    ("/livedream/layer/next", "[x]", "next layer of the model (trigger)"),
    ("/livedream/layer/prev", "[x]", "previous layer (trigger)"),
    ("/livedream/transform", "s", "replace the chain with this one transform (default params)"),
    ("/livedream/chain", "s...", "replace the chain with these transforms, in order"),
    ("/livedream/toggle", "s", "enable/disable a transform of the chain (appended if absent)"),
    ("/livedream/toggle/<transform>", "[x]", "same, for a button per transform (trigger)"),
    ("/livedream/param/<name>", "f", "set a parameter from a normalised 0..1 value"),
    ("/livedream/param/<name>/raw", "f|i|s|T|F", "set a parameter in its own units"),
    ("/livedream/preset", "s", "load a preset by name"),
    ("/livedream/preset/next", "[x]", "next preset (trigger)"),
    ("/livedream/preset/prev", "[x]", "previous preset (trigger)"),
    ("/livedream/pause", "[i]", "pause (1) / run (0); no argument toggles"),
    ("/livedream/record", "[i]", "record (1) / stop (0); no argument toggles"),
    ("/livedream/overlay", "[i]", "on-screen overlay on/off; no argument toggles"),
    ("/livedream/fullscreen", "[i]", "fullscreen on/off; no argument toggles"),
    ("/livedream/source/mix", "f", "weight of the live source blended in, 0..1"),
    ("/livedream/ease", "f", "seconds over which parameter changes glide, 0..30"),
    ("/livedream/model", "s [s]", "switch model (built-in name), optional weights file name"),
    ("/livedream/reset", "[x]", "re-seed the feedback buffer (trigger)"),
    ("/livedream/midi/learn", "s", "MIDI learn: the next knob moved controls this parameter"),
    ("/livedream/midi/learn/cancel", "[x]", "disarm MIDI learn (trigger)"),
    ("/livedream/state", "", "reply with the full state, one message per value"),
    ("/livedream/quit", "[x]", "stop the show (only when enabled with allow_quit)"),
)

_NAME = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")
_PLAIN_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")

Address = tuple[Any, ...]  # a socket address: (host, port) or IPv6 (host, port, flow, scope)


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


# --- decoding -----------------------------------------------------------------------------------
def _count(address: str, args: Sequence[Any], lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise OscError("wrong argument count",
                       f"{address}: expected {want} argument(s), got {len(args)}")


def _number(address: str, arg: Any) -> float | int:
    if isinstance(arg, bool) or not isinstance(arg, int | float):
        raise OscError("wrong argument type", f"{address}: expected a number, got {arg!r}")
    if not math.isfinite(arg):
        raise OscError("non-finite number", f"{address}: expected a finite number, got {arg!r}")
    return arg


def _truth(address: str, arg: Any) -> bool:
    if isinstance(arg, bool):
        return arg
    return _number(address, arg) != 0


def _name(address: str, arg: Any, what: str) -> str:
    if not isinstance(arg, str):
        raise OscError("wrong argument type", f"{address}: expected a {what} name, got {arg!r}")
    if not arg or len(arg) > MAX_NAME:
        raise OscError("bad value", f"{address}: {what} name must be 1..{MAX_NAME} characters")
    return arg


def _plain_file(address: str, arg: Any, what: str) -> str:
    name = _name(address, arg, what)
    if not _PLAIN_FILE.fullmatch(name) or ".." in name or name.lower().endswith(".prototxt"):
        raise OscError("bad value", f"{address}: {what} must be a plain name (no paths or "
                       f".prototxt over OSC; load Caffe models with --model), got {name!r}")
    return name


def _trigger(address: str, args: Sequence[Any], command: Command) -> Command | None:
    """Trigger addresses fire with no argument or a non-zero one (button press), not on release."""
    _count(address, args, 0, 1)
    return command if not args or _truth(address, args[0]) else None


def _param_name(address: str, rest: str) -> tuple[str, bool]:
    parts = rest.split("/")
    raw = len(parts) > 1 and parts[-1] == "raw"
    name = ".".join(parts[:-1] if raw else parts)
    if not _NAME.fullmatch(name):
        raise OscError("unknown address", f"{address}: bad parameter name {name!r} "
                       "(use <param>, <transform>/<param> or <index>/<param>)")
    return name, raw


def decode(address: str, args: Sequence[Any], allow_quit: bool = False) -> Command | None:
    """Decode one OSC message into a Command; None for a button release (nothing to do).

    Raises OscError (a LivedreamError) naming the address and what was wrong.
    """
    if not address.startswith(PREFIX + "/"):
        raise OscError("unknown address", f"{address[:80]!r} is not under {PREFIX}/")
    path = address[len(PREFIX) + 1:]
    if path.startswith("param/"):
        name, raw = _param_name(address, path[len("param/"):])
        _count(address, args, 1, 1)
        value = args[0]
        if raw:
            if isinstance(value, str):
                value = _name(address, value, "value")
            elif not isinstance(value, bool):
                value = _number(address, value)
        else:
            value = _number(address, value)
        return SetParam(name, value, normalized=not raw)
    if path.startswith("toggle/"):
        name = path[len("toggle/"):]
        if not _NAME.fullmatch(name) or "." in name:
            raise OscError("unknown address", f"{address}: bad transform name {name!r}")
        return _trigger(address, args, ToggleTransform(name))
    if path in FLAG_ADDRESSES:
        _count(address, args, 0, 1)
        return SetFlag(FLAG_ADDRESSES[path], _truth(address, args[0]) if args else None)
    match path:
        case "layer":
            _count(address, args, 1, 1)
            return SetLayer(_name(address, args[0], "layer"))
        case "layers":
            _count(address, args, 1, MAX_LIST)
            return SetLayers(tuple(_name(address, a, "layer") for a in args))
        case "layer/next" | "layer/prev":
            return _trigger(address, args, StepLayer(1 if path.endswith("next") else -1))
        case "transform":
            _count(address, args, 1, 1)
            return SetTransform(_name(address, args[0], "transform"))
        case "chain":
            _count(address, args, 0, MAX_LIST)
            return SetChain(tuple(_name(address, a, "transform") for a in args))
        case "toggle":
            _count(address, args, 1, 1)
            return ToggleTransform(_name(address, args[0], "transform"))
        case "preset":
            _count(address, args, 1, 1)
            return LoadPreset(_name(address, args[0], "preset"))
        case "preset/next" | "preset/prev":
            return _trigger(address, args, StepPreset(1 if path.endswith("next") else -1))
        case "source/mix":
            _count(address, args, 1, 1)
            return SetSourceMix(float(_number(address, args[0])))
        case "ease":
            _count(address, args, 1, 1)
            return SetEase(float(_number(address, args[0])))
        case "model":
            _count(address, args, 1, 2)
            weights = _plain_file(address, args[1], "weights") if len(args) > 1 else None
            return SetModel(_plain_file(address, args[0], "model"), weights)
        case "reset":
            return _trigger(address, args, Reset())
        case "state":
            return _trigger(address, args, QueryState())
        case "midi/learn":
            _count(address, args, 1, 1)
            return LearnMidi(_name(address, args[0], "parameter"))
        case "midi/learn/cancel":
            return _trigger(address, args, LearnMidi(None))
        case "quit":
            if not allow_quit:
                raise OscError("quit disabled", f"{address}: quitting over OSC is disabled")
            return _trigger(address, args, Quit())
    raise OscError("unknown address", f"unknown address {address[:80]!r}; see docs/osc.md")


# --- echo ---------------------------------------------------------------------------------------
Message = tuple[str, list[Any]]


def _chain_names(state: State) -> list[Any]:
    return [link.name for link in state.look.chain]


def _link_enabled(state: State, name: str) -> int:
    return int(any(link.name == name and link.enabled for link in state.look.chain))


def _param_messages(state: State, name: str, address: str) -> list[Message]:
    _, _, spec = resolve_param(state.look, name)
    value = param_value(state.look, name)
    return [(address, [spec.to_normalized(value)]), (address + "/raw", [value])]


def dump_messages(state: State) -> list[Message]:
    """The full state, one message per value (the reply to `/livedream/state`)."""
    look = state.look
    out: list[Message] = [
        (f"{PREFIX}/model", [look.model] + ([look.weights] if look.weights else [])),
        (f"{PREFIX}/layer", [look.layers[0] if look.layers else ""]),
        (f"{PREFIX}/layers", list(look.layers)),
        (f"{PREFIX}/chain", _chain_names(state)),
        (f"{PREFIX}/preset", [state.preset or ""]),
        (f"{PREFIX}/source/mix", [state.source_mix]),
        (f"{PREFIX}/ease", [state.ease_seconds]),
        (f"{PREFIX}/reset", [state.reset_count]),
        (f"{PREFIX}/midi/learn", [state.midi_learn or ""]),
    ]
    out += [(ADDRESS_OF_FLAG[flag], [int(getattr(state, flag))]) for flag in ADDRESS_OF_FLAG]
    out += [(f"{PREFIX}/toggle/{link.name}", [int(link.enabled)]) for link in look.chain]
    from livedream.look import DREAM_PARAMS
    from livedream.transforms import get_transform

    for key in DREAM_PARAMS:
        out += _param_messages(state, key, f"{PREFIX}/param/{key}")
    names = [link.name for link in look.chain]
    for i, link in enumerate(look.chain):
        head = link.name if names.count(link.name) == 1 else str(i)
        for key in get_transform(link.name).params:
            out += _param_messages(state, f"{head}.{key}", f"{PREFIX}/param/{head}/{key}")
    return out


def echo_messages(address: str, command: Command, state: State) -> list[Message]:
    """What to tell the sender after its command applied (the same address where it has one)."""
    match command:
        case SetParam(name=name, normalized=normalized):
            _, _, spec = resolve_param(state.look, name)
            value = param_value(state.look, name)
            return [(address, [spec.to_normalized(value) if normalized else value])]
        case SetLayer() | StepLayer():
            return [(f"{PREFIX}/layer", [state.look.layers[0]])]
        case SetLayers():
            return [(address, list(state.look.layers))]
        case SetTransform() | SetChain():
            return [(address, _chain_names(state))]
        case ToggleTransform(name=name):
            enabled = _link_enabled(state, name)
            return [(address, [name, enabled] if address == f"{PREFIX}/toggle" else [enabled])]
        case LoadPreset() | StepPreset():
            return [(f"{PREFIX}/preset", [state.preset or ""])]
        case SetFlag(flag=flag):
            return [(ADDRESS_OF_FLAG[flag], [int(getattr(state, flag))])]
        case SetSourceMix():
            return [(address, [state.source_mix])]
        case SetEase():
            return [(address, [state.ease_seconds])]
        case SetModel():
            look = state.look
            return [(address, [look.model] + ([look.weights] if look.weights else []))]
        case Reset():
            return [(address, [state.reset_count])]
        case LearnMidi():
            return [(f"{PREFIX}/midi/learn", [state.midi_learn or ""])]
        case QueryState():
            return dump_messages(state)
    return []


# --- the handler and the server -----------------------------------------------------------------
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

    def _target(self, sender: Address | None) -> Address | None:
        if sender is None or self.send is None:
            return None
        if self.reply_port is not None:
            return (sender[0], self.reply_port, *sender[2:])
        return sender

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
                reply = self._reply(address, command, target) if target is not None else None
                if self.queue.put(command, reply=reply, origin=f"osc {address}"):
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
        rcvbuf: int = 4 * 1024 * 1024,
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
        sock.settimeout(0.1)
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
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    break
                self.log.log("socket error", str(exc))
                time.sleep(0.01)
                continue
            self.handle_datagram(data, sender)

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
