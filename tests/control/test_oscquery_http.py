"""OSCQuery over loopback: live values after OSC, HOST_INFO, and bad requests answered 4xx."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from livedream.command_queue import CommandQueue
from livedream.control.osc import OscControl, build_message
from livedream.control.oscquery_http import MAX_REQUEST, OscQueryServer
from livedream.errors import LivedreamError
from tests.control import ENV, initial_state, run_frame


class Show:
    """The render loop's side: a queue drained into a state that the server reads live."""

    def __init__(self) -> None:
        self.queue = CommandQueue()
        self.state = initial_state()

    def frame(self) -> None:
        self.state, _, errors = run_frame(self.queue, self.state)
        assert not errors


@pytest.fixture
def show() -> Show:
    return Show()


@pytest.fixture
def server(show: Show):
    with OscQueryServer(lambda: show.state, 9000, env=lambda: ENV, timeout=0.5) as srv:
        yield srv


def get(server: OscQueryServer, target: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{target}", timeout=5) as r:
            body = r.read()
            return r.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def raw(server: OscQueryServer, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes, return everything the server answers before closing."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as conn:
        if data:
            conn.sendall(data)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
    return out


def status_of(response: bytes) -> int:
    head = response.split(b"\r\n", 1)[0].split()
    assert head[:1] == [b"HTTP/1.0"], response[:80]
    return int(head[1])


def test_value_changed_over_osc_shows_in_the_next_get(show: Show, server) -> None:
    with OscControl(show.queue, "127.0.0.1", 0) as osc:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            assert get(server, "/livedream/param/zoom/scale/raw?VALUE") == (200, {"VALUE": [
                pytest.approx(0.05)]})
            sender.sendto(build_message("/livedream/param/zoom/scale/raw", [0.25]), osc.address)
            sender.sendto(build_message("/livedream/param/step_size", [1.0]), osc.address)
            sender.sendto(build_message("/livedream/pause", [1]), osc.address)
            deadline = time.monotonic() + 5
            while osc.accepted < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            show.frame()
        finally:
            sender.close()
    assert get(server, "/livedream/param/zoom/scale/raw?VALUE") == (200, {"VALUE": [0.25]})
    status, node = get(server, "/livedream/param/step_size")
    assert status == 200 and node["VALUE"] == [1.0] and node["RANGE"] == [{"MIN": 0.0,
                                                                          "MAX": 1.0}]
    assert node["CONTENTS"]["raw"]["VALUE"] == [20.0]
    assert get(server, "/livedream/pause?VALUE") == (200, {"VALUE": [1]})


def test_the_whole_namespace_lists_every_parameter(show: Show, server) -> None:
    status, root = get(server, "/")
    assert status == 200 and root["FULL_PATH"] == "/"
    params = root["CONTENTS"]["livedream"]["CONTENTS"]["param"]["CONTENTS"]
    assert {"step_size", "iterations", "zoom", "sobel", "pixel_sort"} <= set(params)
    assert params["zoom"]["CONTENTS"]["scale"]["CONTENTS"]["raw"]["RANGE"] == [
        {"MIN": -0.5, "MAX": 0.5}]
    assert get(server, "/livedream/param/zoom/scale/raw/")[1]["FULL_PATH"] == (
        "/livedream/param/zoom/scale/raw")
    assert get(server, "/livedream/param/zoom%2Fscale?TYPE") == (200, {"TYPE": "f"})


def test_host_info_names_the_real_osc_port(show: Show) -> None:
    with OscControl(show.queue, "127.0.0.1", 0) as osc, \
            OscQueryServer(lambda: show.state, osc.address[1]) as server:
        status, info = get(server, "/?HOST_INFO")
        assert get(server, "?HOST_INFO")[1] == info  # Chataigne asks without the slash
    assert status == 200 and info["OSC_PORT"] == osc.address[1] and info["OSC_PORT"] != 0
    assert info["OSC_TRANSPORT"] == "UDP" and info["OSC_IP"] == "127.0.0.1"
    assert server.address[0] == "127.0.0.1"


def test_unknown_paths_and_garbage_queries_are_4xx(server) -> None:
    assert get(server, "/livedream/nope")[0] == 404
    assert get(server, "/nope?VALUE")[0] == 404
    assert get(server, "/livedream/ease?bogus")[0] == 400
    assert get(server, "/livedream/ease?VALUE&TYPE")[0] == 400
    assert get(server, "/livedream/%ff%fe")[0] == 400  # not UTF-8
    assert get(server, "/livedream/reset?VALUE") == (204, None)


GARBAGE = [
    b"\x00\xff\xfe garbage\r\n\r\n",
    b"FOO / HTTP/1.0\r\n\r\n",
    b"POST /livedream/ease HTTP/1.0\r\nContent-Length: 3\r\n\r\n1.0",
    b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/x.y\r\n\r\n",
    b"GET /\r\n\r\n",  # HTTP/0.9
    b"GET /" + b"a" * (MAX_REQUEST + 10) + b" HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\n" + b"X-Pad: " + b"b" * 1000 + b"\r\n" * 1 + b"X: y\r\n" * 200 + b"\r\n",
    b"GET / HTTP/1.0\r\n" + b"X-Long: " + b"c" * (MAX_REQUEST * 2) + b"\r\n\r\n",
    b"GET /livedream HTTP/1.0\r\nbroken header line\r\n\r\n",
]


def test_bad_requests_get_4xx_and_the_server_keeps_serving(server) -> None:
    for request in GARBAGE:
        code = status_of(raw(server, request))
        assert 400 <= code < 500, (request[:40], code)
        assert get(server, "/livedream/ease?VALUE") == (200, {"VALUE": [0.0]})
    assert status_of(raw(server, b"FOO / HTTP/1.0\r\n\r\n")) == 405
    head = raw(server, b"HEAD /livedream/ease HTTP/1.0\r\n\r\n")
    assert status_of(head) == 200 and head.endswith(b"\r\n\r\n")  # headers, no body
    # a target without its leading slash (as JUCE, so Chataigne, may send it) is the root
    answer = raw(server, b"GET ?HOST_INFO HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(answer) == 200 and json.loads(answer.split(b"\r\n\r\n", 1)[1])[
        "OSC_PORT"] == 9000


def test_a_slowloris_is_cut_off_and_others_are_served_meanwhile(server) -> None:
    """A request trickling in (a byte every 0.1 s, never done) gets 408 at the 0.5 s deadline."""
    result: dict[str, object] = {}

    def trickle() -> None:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            try:
                for byte in b"GET /livedream HTTP/1.0\r\nX-Slow: " + b"z" * 100:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.1)
            except OSError:
                pass  # the server closed on us
            result["answer"] = conn.recv(200)
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=trickle)
    thread.start()
    time.sleep(0.2)
    assert get(server, "/livedream/ease?VALUE")[0] == 200  # served while the trickle is open
    thread.join(10)
    assert status_of(result["answer"]) == 408  # type: ignore[arg-type]
    assert result["seconds"] < 3  # type: ignore[operator]
    # a client that connects and says nothing is dropped the same way
    assert status_of(raw(server, b"")) == 408


def test_connections_beyond_the_limit_are_refused_not_queued(show: Show) -> None:
    with OscQueryServer(lambda: show.state, 9000, timeout=3.0, max_connections=2) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        try:
            deadline = time.monotonic() + 2.5  # until the server has taken both idle ones
            while True:
                started = time.monotonic()
                if status_or_refused(server) is None:
                    assert time.monotonic() - started < 1.0  # closed at once, not held waiting
                    break
                assert time.monotonic() < deadline, "a third connection was still served"
                time.sleep(0.05)
        finally:
            for conn in idle:
                conn.close()
        deadline = time.monotonic() + 5  # closed clients free their slots
        while status_or_refused(server) != 200:
            assert time.monotonic() < deadline, "slots were not freed"
            time.sleep(0.05)


def status_or_refused(server: OscQueryServer) -> int | None:
    """The status of a GET, or None when the server closed the connection without one."""
    try:
        return get(server, "/?HOST_INFO")[0]
    except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
        return None


def test_a_taken_port_is_a_clear_error_and_close_frees_it(show: Show) -> None:
    server = OscQueryServer(lambda: show.state, 9000)
    port = server.port
    with pytest.raises(LivedreamError, match="--oscquery-port"):
        OscQueryServer(lambda: show.state, 9000, port=port)
    server.close()
    OscQueryServer(lambda: show.state, 9000, port=port).close()
    with pytest.raises(LivedreamError, match="OSCQuery"):
        OscQueryServer(lambda: show.state, 9000, port=70000)


def test_a_broken_state_getter_is_500_and_the_server_survives(show: Show) -> None:
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return show.state

    with OscQueryServer(flaky, 9000) as server:
        assert get(server, "/livedream")[0] == 500
        assert get(server, "/livedream")[0] == 200
