"""Run `livedream run --headless` as a subprocess and read what it reports (for the reliability
tests and the soak driver).

The show's own reports are its log lines on stderr: `frame N: buffer re-seeded (reset)` (the frame
counter at a `/livedream/reset`, which an OSC probe triggers), rejection warnings, and the final
`livedream run: N frames, ... R recorded, D dropped, ...` line after a clean stop.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from livedream.control.osc import build_message

REPO = Path(__file__).resolve().parents[2]
RESET_LINE = re.compile(r"frame (\d+): buffer re-seeded \(reset\)")
FINAL_LINE = re.compile(r"livedream run: (\d+) frames, ([\d.]+) dream fps, (\d+) recorded, "
                        r"(\d+) dropped, (\d+) commands rejected, (\d+) re-seeds")


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class FinalStats:
    frames: int
    dream_fps: float
    recorded: int
    dropped: int
    rejected: int
    reseeds: int


class Show:
    """A headless show subprocess with its stderr captured in `log_path`."""

    def __init__(self, *args: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = Path(log_path)
        self.args = [sys.executable, "-m", "livedream", "run", "--headless", *args]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match[str]:
        """First match of `pattern` in the log; AssertionError if the show exits or times out."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.text())
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError(f"show exited ({self.proc.returncode}) before {pattern!r}:\n"
                                     + self.text()[-3000:])
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n" + self.text()[-3000:])

    def reset_frames(self) -> list[int]:
        """Frame counter at each reset the show logged, in order."""
        return [int(m) for m in RESET_LINE.findall(self.text())]

    def probe_frame(self, port: int, timeout: float = 30.0) -> int:
        """Send `/livedream/pause 0` + `/livedream/reset`; the frame counter the show logs."""
        before = len(self.reset_frames())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(build_message("/livedream/pause", [0]), ("127.0.0.1", port))
            sock.sendto(build_message("/livedream/reset", []), ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self.reset_frames()
            if len(frames) > before:
                return frames[before]
            if self.proc.poll() is not None:
                raise AssertionError("show exited during a probe:\n" + self.text()[-3000:])
            time.sleep(0.05)
        raise AssertionError("the show did not answer a reset probe:\n" + self.text()[-3000:])

    def rss_kib(self) -> int:
        """Resident set size of the show process (kB, from /proc)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int:
        """Send `sig` and wait for the exit code (kills after `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"show did not stop within {timeout} s after {sig}") from None
        finally:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL (no chance to finalise anything) and reap."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()

    def final_stats(self) -> FinalStats:
        match = FINAL_LINE.search(self.text())
        if match is None:
            raise AssertionError("no final stats line:\n" + self.text()[-3000:])
        f, fps, rec, drop, rej, res = match.groups()
        return FinalStats(int(f), float(fps), int(rec), int(drop), int(rej), int(res))

    def __enter__(self) -> Show:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._log.close()
