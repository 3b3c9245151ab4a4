"""A separate OSC fuzzing process: `python -m tests.reliability.fuzz_client --port P ...`.

It plays a hostile or broken controller against a running show on loopback: random bytes,
truncated and bit-flipped messages, bad bundles, near-64 KiB packets, wrong type tags, documented
addresses with wrong argument types/counts, NaN/inf floats, out-of-range values, unknown
addresses and path-like names, mixed with valid messages (so the state really moves). Every
`--probe-every` packets it sends `/livedream/pause 0` + `/livedream/reset`, whose log line in the
show gives its frame counter. At the end it asks for `/livedream/state`, sends one valid parameter
change and records the replies. Everything goes to a JSON report (`--report`).

Deliberately independent of livedream's OSC code: its own encoder (struct), python-osc only to
parse the show's replies, so a bug shared by encoder and decoder cannot hide.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import socket
import struct
import threading
import time
from collections import Counter
from typing import Any

from pythonosc.osc_message import OscMessage

PREFIX = "/livedream"
DREAM = ["step_size", "iterations", "jitter", "octaves", "octave_scale", "channel"]
TRANSFORM_PARAMS = ["zoom/scale", "blur/sigma", "pixel_sort/lo", "pixel_sort/hi",
                    "pixel_sort/axis", "pixel_sort/reverse", "roll_sine/amplitude",
                    "0/scale", "scale", "sigma", "rotate/degrees", "nope/x", "zoom/nope"]
NAMES = ["conv1_1", "relu3_3", "conv4_3", "pool5", "zoom", "blur", "sobel", "pixel_sort",
         "roll_random", "invert", "vgg16", "alternating-roll", "blur-legs", "glitch-sort",
         "nope", "", "x" * 300, "../../etc/passwd", "/etc/passwd", "..", "a/b", "C:\\x",
         "x.prototxt", "é∂ƒ", "rows", "columns", "vertical", "grey", "colour"]
ADDRESSES = (
    [f"{PREFIX}/{a}" for a in ("layer", "layers", "layer/next", "layer/prev", "transform",
                                "chain", "toggle", "preset", "preset/next", "preset/prev",
                                "pause", "record", "overlay", "fullscreen", "source/mix",
                                "ease", "model", "reset", "state", "quit", "toggle/sobel",
                                "toggle/zoom", "toggle/../x")]
    + [f"{PREFIX}/param/{p}" for p in DREAM + TRANSFORM_PARAMS]
    + [f"{PREFIX}/param/{p}/raw" for p in DREAM + TRANSFORM_PARAMS]
)
UNKNOWN = ["/", "/x", "/livedream", "/livedream/", "/livedream/nope", "/livedream//layer",
           "/livedream/param/", "/livedream/param/../../x", "/other/layer", "/livedream/*"]
TAGS = "ihfdsSbTFNIcrmt"


def pad(data: bytes) -> bytes:
    return data + b"\0" * (4 - len(data) % 4)


def osc_string(text: str | bytes) -> bytes:
    return pad(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)


def encode_arg(tag: str, value: Any) -> bytes:
    """Bytes of one argument for `tag` (T/F/N/I carry none)."""
    if tag == "i":
        return struct.pack(">i", value)
    if tag == "h":
        return struct.pack(">q", value)
    if tag == "f":
        return struct.pack(">f", value)
    if tag == "d":
        return struct.pack(">d", value)
    if tag in "sS":
        return osc_string(value)
    if tag == "b":
        return struct.pack(">i", len(value)) + value + b"\0" * (-len(value) % 4)
    if tag in "crm":
        return struct.pack(">I", value & 0xFFFFFFFF)
    if tag == "t":
        return struct.pack(">Q", value)
    return b""


def message(address: str, *args: tuple[str, Any]) -> bytes:
    """An OSC message from (tag, value) pairs."""
    tags = "," + "".join(tag for tag, _ in args)
    return osc_string(address) + osc_string(tags) + b"".join(encode_arg(t, v) for t, v in args)


def bundle(*elements: bytes, timetag: int = 1) -> bytes:
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\0" + struct.pack(">Q", timetag) + body


class Fuzzer:
    """Generates one packet per call, tallying the kind it chose."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.kinds: Counter[str] = Counter()

    def number(self) -> tuple[str, Any]:
        r = self.rng
        return r.choice([
            ("f", r.random()), ("f", r.uniform(-2, 3)), ("f", math.nan), ("f", math.inf),
            ("f", -math.inf), ("f", 3.4e38), ("f", -0.0), ("d", math.nan), ("d", 1e308),
            ("d", r.uniform(-100, 100)), ("i", r.randint(-2**31, 2**31 - 1)),
            ("i", r.choice([0, 1, -1, 2, 127, 4096])), ("h", r.choice([2**62, -2**63, 5])),
        ])

    def arg(self) -> tuple[str, Any]:
        r = self.rng
        tag = r.choice(TAGS)
        if tag in "ifdh":
            return self.number()
        if tag in "sS":
            return tag, r.choice(NAMES)
        if tag == "b":
            return "b", r.randbytes(r.randint(0, 16))
        if tag in "crmt":
            return tag, r.getrandbits(32)
        return tag, None

    def valid(self) -> bytes:
        """A well-formed message at a documented address with plausible arguments."""
        r = self.rng
        address = r.choice(ADDRESSES)
        if "/param/" in address:
            value = self.number() if r.random() < 0.5 else ("f", r.random())
            if address.endswith("/raw") and r.random() < 0.3:
                value = r.choice([("s", r.choice(NAMES)), ("T", None), ("F", None)])
            return message(address, value)
        if address.endswith(("layer", "transform", "toggle", "preset", "model")):
            return message(address, ("s", r.choice(NAMES)))
        if address.endswith(("layers", "chain")):
            return message(address, *[("s", r.choice(NAMES)) for _ in range(r.randint(0, 4))])
        if address.endswith(("mix", "ease")):
            return message(address, self.number())
        return message(address, *[("i", r.choice([0, 1]))] * r.randint(0, 1))

    def packet(self) -> bytes:
        r = self.rng
        kind = r.choice(["random bytes", "truncated", "bit flip", "bad bundle", "huge",
                         "wrong type tag", "wrong args", "non-finite", "out of range",
                         "unknown address", "valid", "valid bundle", "nested bundle"])
        self.kinds[kind] += 1
        if kind == "random bytes":
            data = r.randbytes(r.randint(0, 200))
            return (b"/" + data) if r.random() < 0.5 else data
        if kind == "truncated":
            data = self.valid()
            return data[: r.randint(0, len(data) - 1)]
        if kind == "bit flip":
            data = bytearray(self.valid())
            for _ in range(r.randint(1, 4)):
                i = r.randrange(len(data))
                data[i] ^= 1 << r.randrange(8)
            return bytes(data)
        if kind == "bad bundle":
            element = self.valid()
            return r.choice([
                b"#bundle\0",  # header only, no time tag
                b"#bundle\0" + bytes(8) + struct.pack(">i", len(element) + 4) + element,
                b"#bundle\0" + bytes(8) + struct.pack(">i", -4) + element,
                b"#bundle\0" + bytes(8) + struct.pack(">i", 2**31 - 1) + element,
                b"#bundle\0" + bytes(8) + struct.pack(">i", 3) + element,
                b"#bundle\0" + bytes(8) + struct.pack(">i", len(element)) + element + b"\0\0",
                b"#bundle\0" + bytes(8) + struct.pack(">i", 8) + b"garbage!",
            ])
        if kind == "huge":  # near the 65507-byte UDP limit
            size = r.randint(60000, 65000)
            return r.choice([
                r.randbytes(size),
                message(f"{PREFIX}/layer", ("s", "x" * size)),
                message(f"{PREFIX}/param/step_size", ("b", bytes(size))),
                message(f"{PREFIX}/chain", *[("s", "zoom")] * (size // 12)),
                bundle(*[message(f"{PREFIX}/reset")] * (size // 24)),
            ])
        if kind == "wrong type tag":
            address = r.choice(ADDRESSES)
            return r.choice([
                osc_string(address) + osc_string(",zq") + bytes(8),
                osc_string(address) + osc_string("if") + bytes(8),  # no leading ','
                osc_string(address) + osc_string(",i"),  # tag without data
                osc_string(address) + osc_string(",s") + b"abc",  # unterminated string
                osc_string(address) + osc_string(",[i]") + bytes(4),
                osc_string(address) + b"\0\0\0",  # bad padding
            ])
        if kind == "wrong args":
            return message(r.choice(ADDRESSES), *[self.arg() for _ in range(r.randint(0, 5))])
        if kind == "non-finite":
            value = r.choice([("f", math.nan), ("f", math.inf), ("f", -math.inf),
                              ("d", math.nan), ("d", -math.inf)])
            return message(r.choice([a for a in ADDRESSES if "/param/" in a]
                                    + [f"{PREFIX}/source/mix", f"{PREFIX}/ease"]), value)
        if kind == "out of range":
            value = r.choice([("f", 1e9), ("f", -1e9), ("i", 2**31 - 1), ("i", -2**31),
                              ("f", -0.5), ("f", 1.5), ("h", 2**62), ("d", 1e300)])
            return message(r.choice([a for a in ADDRESSES if "/param/" in a]
                                    + [f"{PREFIX}/source/mix", f"{PREFIX}/ease"]), value)
        if kind == "unknown address":
            return message(r.choice(UNKNOWN) + r.choice(["", "/x", "/layer"]), self.arg())
        if kind == "valid":
            return self.valid()
        if kind == "valid bundle":
            return bundle(*[self.valid() for _ in range(r.randint(1, 4))])
        inner = self.valid()
        for _ in range(r.randint(1, 12)):  # deeper than the parser's limit of 8 sometimes
            inner = bundle(inner)
        return inner


class Replies:
    """Receiver thread: every reply the show sends back, parsed, with arrival times."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.items: list[tuple[float, str, list[Any]]] = []
        self.unparsable = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                msg = OscMessage(data)
                item = (time.monotonic(), msg.address, list(msg.params))
            except Exception:
                self.unparsable += 1
                continue
            with self.lock:
                self.items.append(item)

    def since(self, t0: float) -> list[tuple[str, list[Any]]]:
        with self.lock:
            return [(a, p) for t, a, p in self.items if t >= t0]

    def wait_for(self, t0: float, address: str, timeout: float) -> list[Any] | None:
        """Arguments of the first reply at `address` after `t0`, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for a, params in self.since(t0):
                if a == address:
                    return params
            time.sleep(0.02)
        return None

    def quiet(self, seconds: float, timeout: float) -> None:
        """Wait until no reply arrived for `seconds` (at most `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                last = self.items[-1][0] if self.items else 0.0
            if time.monotonic() - last >= seconds:
                return
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--probe-every", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.0005, help="seconds between packets")
    parser.add_argument("--report", required=True)
    args = parser.parse_args(argv)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind(("127.0.0.1", 0))
    replies = Replies(sock)
    target = (args.host, args.port)
    fuzzer = Fuzzer(args.seed)
    probes: list[float] = []
    send_errors = 0

    def send(data: bytes) -> None:
        nonlocal send_errors
        try:
            sock.sendto(data, target)
        except OSError:  # e.g. EMSGSIZE; the packet simply does not exist
            send_errors += 1

    def probe() -> None:
        send(message(f"{PREFIX}/pause", ("i", 0)))
        send(message(f"{PREFIX}/reset"))
        probes.append(time.time())

    started = time.monotonic()
    probe()
    for i in range(1, args.count + 1):
        send(fuzzer.packet())
        if args.pace:
            time.sleep(args.pace)
        if i % args.probe_every == 0:
            probe()
    fuzz_seconds = time.monotonic() - started

    # After the storm: let the show drain, unpause, dump the state, then one valid change.
    time.sleep(1.0)
    send(message(f"{PREFIX}/pause", ("i", 0)))
    replies.quiet(0.5, 10.0)
    t0 = time.monotonic()
    send(message(f"{PREFIX}/state"))
    replies.wait_for(t0, f"{PREFIX}/fullscreen", 15.0)
    replies.quiet(0.5, 5.0)
    dump = replies.since(t0)
    t1 = time.monotonic()
    send(message(f"{PREFIX}/param/step_size/raw", ("f", 2.5)))
    echo = replies.wait_for(t1, f"{PREFIX}/param/step_size/raw", 15.0)
    t2 = time.monotonic()
    probe()
    first_reset = replies.wait_for(t2, f"{PREFIX}/reset", 15.0)
    time.sleep(2.0)
    t3 = time.monotonic()
    probe()
    second_reset = replies.wait_for(t3, f"{PREFIX}/reset", 15.0)
    replies.stop.set()
    report = {
        "sent": args.count, "kinds": dict(fuzzer.kinds), "send_errors": send_errors,
        "fuzz_seconds": fuzz_seconds, "probes": probes, "dump": dump, "echo": echo,
        "resets_after": [first_reset, second_reset], "replies": len(replies.items),
        "unparsable_replies": replies.unparsable,
    }
    with open(args.report, "w", encoding="utf-8") as fh:
        json.dump(report, fh, default=repr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
