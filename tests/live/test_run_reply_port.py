"""`livedream run --osc-reply-port`: echoes go to the port the controller listens on."""

from __future__ import annotations

import socket
import time

import pytest

from livedream.cli import main
from livedream.control.osc import build_message
from tests.live.show_in_process import run_with_controller
from tests.reliability.show import free_udp_port


def test_echo_arrives_at_the_reply_port_not_the_sending_port(
        monkeypatch: pytest.MonkeyPatch) -> None:
    osc_port = free_udp_port()
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind(("127.0.0.1", 0))
    listen.settimeout(0.2)
    send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send.bind(("127.0.0.1", 0))
    send.settimeout(0.2)
    got: dict[str, object] = {}

    def controller() -> None:
        deadline = time.monotonic() + 60
        while "echo" not in got and time.monotonic() < deadline:
            send.sendto(build_message("/livedream/param/step_size/raw", [2.5]),
                        ("127.0.0.1", osc_port))
            try:
                got["echo"] = listen.recvfrom(65536)[0]
            except TimeoutError:
                continue
        try:
            got["at_sender"] = send.recvfrom(65536)[0]
        except TimeoutError:
            pass

    try:
        code = run_with_controller(monkeypatch, controller, "--osc-port", str(osc_port),
                                   "--osc-reply-port", str(listen.getsockname()[1]))
    finally:
        listen.close()
        send.close()
    assert code == 0
    assert got["echo"] == build_message("/livedream/param/step_size/raw", [2.5])
    assert "at_sender" not in got  # nothing went back to the sending port


@pytest.mark.parametrize("port", ["0", "70000"])
def test_reply_port_out_of_range_is_a_clear_error(port: str, capsys) -> None:
    assert main(["run", "--headless", "--osc-reply-port", port, "--frames", "1"]) == 1
    assert "--osc-reply-port must be 1..65535" in capsys.readouterr().err
