"""Ableton Link, only inside a private network namespace (no Link traffic leaves this test).

A subprocess peer at 133 BPM: livedream's tempo reads 133 within 2 s, the session stays at 133
while livedream joins, and a tempo set in livedream reaches the peer.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("aalink")

NETNS = ("ip link set lo up; ip link set lo multicast on; "
         "ip route add 224.0.0.0/4 dev lo; ")


def _netns_available() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip not installed"
    probe = subprocess.run(["unshare", "-n", "bash", "-c", NETNS + "true"],
                           capture_output=True, text=True, timeout=10)
    return None if probe.returncode == 0 else f"unshare -n not permitted: {probe.stderr.strip()}"


def test_link_follows_the_session_and_leaves_its_tempo_alone() -> None:
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    scenario = Path(__file__).with_name("link_scenario.py")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        ["unshare", "-n", "bash", "-c", NETNS + f"exec {sys.executable} {scenario}"],
        capture_output=True, text=True, timeout=40, cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["followed_after"] is not None and result["followed_after"] < 2.0, result
    assert result["peer_tempi_after_join"] == [133.0], result  # joining changed nothing
    assert result["reached_peer"] is not None, result
