"""Zeroconf announcement, browsed back inside a private network namespace (never on the LAN)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from livedream.errors import LivedreamError

ROOT = Path(__file__).resolve().parents[2]
NETNS = ("ip link set lo up && ip link set lo multicast on && "
         'ip route add 224.0.0.0/4 dev lo && exec "$0" -c "$1"')

PROBE = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
from zeroconf import IPVersion, Zeroconf
from livedream.control.oscquery_zeroconf import OSC_UDP, OSCJSON, Announcement

started = time.monotonic()
announcement = Announcement(9101, 9100, "127.0.0.1", name="livedream-probe")
out = {{"returned_after": time.monotonic() - started,
        "registered": announcement.registered.wait(15)}}
browser = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
for kind in (OSCJSON, OSC_UDP):
    info = browser.get_service_info(kind, "livedream-probe." + kind, timeout=5000)
    out[kind] = info and {{"port": info.port, "addresses": info.parsed_addresses()}}
announcement.close()
time.sleep(1.2)  # a goodbye keeps the cached record for one second
gone = browser.get_service_info(OSCJSON, "livedream-probe." + OSCJSON, timeout=1000)
out["after_close"] = gone and gone.port
browser.close()
print(json.dumps(out))
"""


def _in_private_netns(code: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip (iproute2) is not installed")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private network namespace here: {probe.stderr.decode()[:200]}")
    return subprocess.run(["unshare", "-n", "sh", "-c", NETNS, sys.executable, code],
                          capture_output=True, text=True, timeout=90)


def test_announces_oscjson_and_osc_and_withdraws_them() -> None:
    pytest.importorskip("zeroconf")
    result = _in_private_netns(PROBE)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["returned_after"] < 1.0  # registering runs on its own thread
    assert out["registered"] is True
    assert out["_oscjson._tcp.local."] == {"port": 9101, "addresses": ["127.0.0.1"]}
    assert out["_osc._udp.local."] == {"port": 9100, "addresses": ["127.0.0.1"]}
    assert out["after_close"] is None  # goodbye packets withdrew it


def test_without_the_package_it_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from livedream.control.oscquery_zeroconf import Announcement

    monkeypatch.setitem(sys.modules, "zeroconf", None)  # import zeroconf raises ImportError
    with pytest.raises(LivedreamError, match=r"livedream\[zeroconf\]"):
        Announcement(9001, 9000)
