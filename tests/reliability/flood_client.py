"""Flood sender run as a separate process: `python -m tests.reliability.flood_client PORT N`.

Sends N value messages over loopback as fast as the socket allows, cycling over several
addresses with a deterministic sequence of values, then counts the echoes that come back for a
second. Prints one JSON line: the last value sent per address and the echo count.
"""

from __future__ import annotations

import json
import socket
import sys
import time

from livedream.control.osc import build_message

#: address -> value of message i (all in range for the test's look)
ADDRESSES = {
    "/livedream/param/step_size/raw": lambda i: round(0.5 + (i % 97) * 0.1, 3),
    "/livedream/param/jitter/raw": lambda i: i % 64,
    "/livedream/param/zoom/scale/raw": lambda i: round(-0.2 + (i % 41) * 0.01, 3),
    "/livedream/param/rotate/degrees/raw": lambda i: round(-30.0 + (i % 61), 3),
    "/livedream/source/mix": lambda i: round((i % 11) / 10, 3),
}


def main(port: int, count: int) -> None:
    names = list(ADDRESSES)
    last: dict[str, float] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        sock.bind(("127.0.0.1", 0))
        target = ("127.0.0.1", port)
        started = time.monotonic()
        for i in range(count):
            address = names[i % len(names)]
            value = ADDRESSES[address](i)
            sock.sendto(build_message(address, [float(value)]), target)
            last[address] = value
        send_seconds = time.monotonic() - started
        sock.settimeout(1.0)
        echoes = 0
        try:
            while True:
                sock.recvfrom(65536)
                echoes += 1
        except TimeoutError:
            pass
    print(json.dumps({"last": last, "echoes": echoes, "send_seconds": send_seconds}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
