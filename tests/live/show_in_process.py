"""`livedream run --headless` in the test's own process (tiny model) beside a controller thread."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

import pytest

from livedream.cli import main
from livedream.models import registry
from tests.tiny_model import tiny_load_model


def run_with_controller(monkeypatch: pytest.MonkeyPatch, controller: Callable[[], None],
                        *args: str) -> int:
    """Run the show (64x48, conv2, up to 60 s, `args` added) while `controller` runs on a
    thread; when the controller returns, SIGTERM ends the show. The show's exit code."""
    monkeypatch.setattr(registry, "load_model", tiny_load_model)

    def target() -> None:
        try:
            controller()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    code = main(["run", "--headless", "--device", "cpu", "--size", "64x48", "--layer", "conv2",
                 "--oscquery-port", "0", "--seconds", "60", *args])
    thread.join(10)
    return code
