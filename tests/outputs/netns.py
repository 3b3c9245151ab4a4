"""Run NDI tests inside a private network namespace (loopback only, multicast routed to lo)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SETUP = "ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo"


def netns_available() -> str | None:
    """None when `unshare -n` works here, else the reason it does not."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare/ip not installed"
    try:
        probe = subprocess.run(["unshare", "-n", "bash", "-c", SETUP], capture_output=True,
                               text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    if probe.returncode != 0:
        return f"unshare -n not permitted: {probe.stderr.strip()[:200]}"
    return None


def require_netns() -> None:
    reason = netns_available()
    if reason is not None:
        pytest.skip(f"NDI tests run only inside a private net namespace; {reason}")
    pytest.importorskip("cyndilib", reason="the ndi extra (cyndilib) is not installed")


def ndi_config(tmp_path: Path) -> Path:
    """An NDI_CONFIG_DIR that keeps NDI on 127.0.0.1 with multicast discovery on loopback."""
    folder = tmp_path / "ndi-config"
    folder.mkdir(exist_ok=True)
    (folder / "ndi-config.v1.json").write_text(
        json.dumps({"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}))
    return folder


def run_in_netns(commands: list[list[str]], tmp_path: Path, timeout: float = 120.0,
                 cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Start every command (argv) in the background inside one fresh namespace, wait for all;
    the return code is non-zero if any command failed."""
    parts = [SETUP, f"export NDI_CONFIG_DIR={shlex.quote(str(ndi_config(tmp_path)))}",
             "pids=()"]
    for argv in commands:
        parts.append(" ".join(shlex.quote(a) for a in argv) + " & pids+=($!)")
    parts.append('rc=0; for p in "${pids[@]}"; do wait $p || rc=$?; done; exit $rc')
    return subprocess.run(["unshare", "-n", "bash", "-c", "; ".join(parts)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


PYTHON = sys.executable
