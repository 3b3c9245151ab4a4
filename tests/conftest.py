"""Shared fixtures: an Xvfb X server for the window (pyglet) tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """Start Xvfb on a free display number (chosen by Xvfb itself via -displayfd) and export
    DISPLAY for the session. Skips only when no Xvfb binary is installed (`make sysdeps`)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (run `make sysdeps`, or apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp",
         "+extension", "GLX"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 20
    try:
        os.set_blocking(read_fd, False)
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"Xvfb exited with {proc.returncode}: {err[-2000:]}")
            try:
                chunk = os.read(read_fd, 64)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            number += chunk
    finally:
        os.close(read_fd)
    if not number.strip():
        proc.kill()
        pytest.fail("Xvfb did not report a display number within 20 s")
    display = f":{number.decode().strip()}"
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
