"""`livedream run --oscquery-port`: the running show describes itself over OSCQuery."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from argparse import Namespace

import pytest

from livedream.cli import build_parser, main
from livedream.control import oscquery_zeroconf
from livedream.control.osc import build_message
from livedream.control.setup import oscquery_port as _oscquery_port
from livedream.errors import ParamError
from livedream.models import registry
from tests.reliability.show import free_udp_port
from tests.tiny_model import TinyDreamModel, tiny_load_model


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def args_of(*argv: str) -> Namespace:
    return build_parser().parse_args(["run", *argv])


def test_oscquery_port_defaults_to_the_osc_port_plus_one() -> None:
    assert _oscquery_port(args_of()) == 9001
    assert _oscquery_port(args_of("--osc-port", "7000")) == 7001
    assert _oscquery_port(args_of("--oscquery-port", "8080")) == 8080
    assert _oscquery_port(args_of("--oscquery-port", "0")) is None
    assert _oscquery_port(args_of("--osc-port", "0")) is None  # no OSC, nothing to describe
    with pytest.raises(ParamError, match="OSC port \\+ 1 = 65536"):
        _oscquery_port(args_of("--osc-port", "65535"))
    with pytest.raises(ParamError, match="--oscquery-port"):
        _oscquery_port(args_of("--oscquery-port", "-3"))


def _get(port: int, target: str) -> object:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{target}", timeout=5) as response:
        return json.loads(response.read())


class FakeAnnouncement:
    """Stands in for the zeroconf announcement (which would multicast): records its use."""

    made: list[tuple] = []

    def __init__(self, *args: object) -> None:
        self.made.append(("made", *args))

    def close(self) -> None:
        self.made.append(("closed",))


def test_run_serves_the_live_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "load_model", tiny_load_model)
    monkeypatch.setattr(oscquery_zeroconf, "Announcement", FakeAnnouncement)
    FakeAnnouncement.made = []
    osc_port, http_port = free_udp_port(), free_tcp_port()
    seen: dict[str, object] = {}

    def client() -> None:
        deadline = time.monotonic() + 60
        while "host" not in seen and time.monotonic() < deadline:
            try:
                seen["host"] = _get(http_port, "/?HOST_INFO")
            except urllib.error.HTTPError as exc:  # an answer, but not the expected one
                seen["host"] = exc.code
                return
            except (urllib.error.URLError, ConnectionError):  # not listening yet
                time.sleep(0.05)
        seen["layer"] = _get(http_port, "/livedream/layer")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(build_message("/livedream/param/step_size/raw", [3.0]),
                          ("127.0.0.1", osc_port))
        while time.monotonic() < deadline:
            value = _get(http_port, "/livedream/param/step_size/raw?VALUE")
            if value == {"VALUE": [3.0]}:
                seen["step"] = value  # applied by the running loop: its SIGTERM handler is set
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    code = main(["run", "--headless", "--device", "cpu", "--size", "64x48", "--layer", "conv2",
                 "--osc-port", str(osc_port), "--oscquery-port", str(http_port),
                 "--seconds", "30"])
    thread.join(10)
    assert code == 0
    host = seen["host"]
    assert isinstance(host, dict) and host["OSC_PORT"] == osc_port and host["OSC_IP"] == (
        "127.0.0.1") and host["OSC_TRANSPORT"] == "UDP"
    layer = seen["layer"]
    assert isinstance(layer, dict) and layer["VALUE"] == ["conv2"]
    assert layer["RANGE"] == [{"VALS": list(TinyDreamModel().layer_names())}]
    assert seen["step"] == {"VALUE": [3.0]}
    with pytest.raises(urllib.error.URLError):  # closed with the show
        _get(http_port, "/?HOST_INFO")
    assert FakeAnnouncement.made == []  # zeroconf is off unless asked for


def test_zeroconf_announces_the_served_ports_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "load_model", tiny_load_model)
    monkeypatch.setattr(oscquery_zeroconf, "Announcement", FakeAnnouncement)
    FakeAnnouncement.made = []
    osc_port, http_port = free_udp_port(), free_tcp_port()
    assert main(["run", "--headless", "--device", "cpu", "--size", "64x48", "--layer", "conv2",
                 "--frames", "1", "--osc-port", str(osc_port), "--oscquery-port",
                 str(http_port), "--oscquery-zeroconf"]) == 0
    assert FakeAnnouncement.made == [("made", http_port, osc_port, "127.0.0.1"), ("closed",)]


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_taken_oscquery_port_fails_only_when_asked_for(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(registry, "load_model", tiny_load_model)
    argv = ["run", "--headless", "--device", "cpu", "--size", "64x48", "--layer", "conv2",
            "--frames", "1"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        osc_port = busy - 1 if _udp_free(busy - 1) else free_udp_port()
        assert main([*argv, "--osc-port", str(osc_port), "--oscquery-port", str(busy)]) == 1
        if osc_port == busy - 1:  # the default (OSC port + 1) taken: a warning, the show runs
            caplog.set_level("WARNING", "livedream.live.cli")
            assert main([*argv, "--osc-port", str(osc_port)]) == 0
            assert "no OSCQuery" in caplog.text and "--oscquery-port" in caplog.text
