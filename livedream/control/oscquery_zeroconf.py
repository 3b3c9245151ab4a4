"""Zeroconf (mDNS / Bonjour) announcement of the show: `_oscjson._tcp` and `_osc._udp`.

OSCQuery clients that browse the network (VDMX, Chataigne, ossia) list servers announced as
`_oscjson._tcp` (the HTTP port); plain OSC tools look for `_osc._udp` (the OSC port). Off
unless `livedream run --oscquery-zeroconf`: announcing multicasts on the networks of the OSC
host (all of them for 0.0.0.0). Needs the optional `zeroconf` package (`livedream[zeroconf]`).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from typing import Any

from livedream.errors import LivedreamError

log = logging.getLogger("livedream.zeroconf")

OSCJSON = "_oscjson._tcp.local."
OSC_UDP = "_osc._udp.local."
WILDCARDS = ("", "0.0.0.0", "::")  # hosts that mean every interface (also for HOST_INFO)


def _addresses(host: str) -> list[str]:
    """The IP addresses to announce: the OSC host, or every non-loopback one for a wildcard."""
    if host not in WILDCARDS:
        return [host]
    import ifaddr  # a dependency of zeroconf

    found = [str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips
             if ip.is_IPv4 and not str(ip.ip).startswith("127.")]
    return found or ["127.0.0.1"]


def _label(text: str) -> str:
    """A DNS label from a host name (letters, digits, hyphens)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:40] or "livedream"


class Announcement:
    """Announces the OSCQuery HTTP port and the OSC port until `close()`.

    Registering probes the network for name conflicts (about 1.5 s per service), so it runs on
    a daemon thread: the show starts at once; `registered` is set when both are announced.
    """

    def __init__(self, http_port: int, osc_port: int, host: str = "127.0.0.1",
                 name: str = "livedream") -> None:
        try:
            from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, Zeroconf
        except ImportError:
            raise LivedreamError("--oscquery-zeroconf needs the zeroconf package "
                                 "(pip install 'livedream[zeroconf]')") from None
        addresses = _addresses(host)
        interfaces: Any = InterfaceChoice.All if host in WILDCARDS else [host]
        version = IPVersion.V6Only if ":" in host else IPVersion.V4Only
        server = f"{_label(name)}-{_label(socket.gethostname())}.local."
        try:
            self._zeroconf = Zeroconf(interfaces=interfaces, ip_version=version)
        except OSError as exc:
            raise LivedreamError(f"cannot announce over zeroconf on {host}: {exc}") from None
        self.infos = [
            ServiceInfo(kind, f"{name}.{kind}", port=port, properties={"txtvers": "1"},
                        server=server, parsed_addresses=addresses)
            for kind, port in ((OSCJSON, http_port), (OSC_UDP, osc_port))
        ]
        self.registered = threading.Event()
        self._thread = threading.Thread(target=self._register, name="livedream-zeroconf",
                                        daemon=True)
        self._thread.start()

    def _register(self) -> None:
        try:
            for info in self.infos:
                self._zeroconf.register_service(info, allow_name_change=True)
        except Exception as exc:  # name conflicts, a closed instance: the show goes on
            log.warning("zeroconf announcement failed: %s: %s", type(exc).__name__, exc)
            return
        self.registered.set()
        log.info("announced %s over zeroconf", ", ".join(i.name for i in self.infos))

    def close(self) -> None:
        """Withdraw the announcement (goodbye packets) and stop zeroconf's threads."""
        self._thread.join(timeout=5.0)
        self._zeroconf.unregister_all_services()
        self._zeroconf.close()
