"""OSCQuery namespace: the OSC address space described as the Vidvox proposal's JSON tree.

An OSCQuery client (VDMX, Chataigne, ossia score, oscqueryhtml) asks an HTTP server for a JSON
tree of the OSC methods a show accepts: FULL_PATH, TYPE (OSC type tags), RANGE, VALUE, ACCESS,
DESCRIPTION, CLIPMODE, with CONTENTS for containers; `?HOST_INFO` says where to send the OSC.

The tree is built fresh from a `State` snapshot for every request, so it always lists the
parameters of the current look and their current values. Everything comes from the OSC address
table `livedream.control.osc.ROUTES`: a route's doc is the DESCRIPTION, its `types` the TYPE,
its `value` the VALUE; triggers (`[x]`) are TYPE `N`; the pattern routes are expanded per look
(`param_paths`: every parameter, normalised and `/raw`, with RANGE from its `Param`; one
`toggle/<transform>` per chain link). Only ranges of the fixed addresses (model layers, presets,
transforms, source mix, ease) are added here.

`answer(nodes, path, query, host)` is the pure request logic (status code and JSON) that the HTTP
server in `livedream.control.oscquery_http` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livedream.control.osc import PREFIX, ROUTES, Route
from livedream.control.osc.addresses import dump_messages, param_paths
from livedream.control.oscquery_zeroconf import WILDCARDS
from livedream.errors import LivedreamError
from livedream.paramnames import resolve_param
from livedream.params import Param, Value
from livedream.state import EASE, SOURCE_MIX, Env, State
from livedream.tempo.modulators import MOD_INDEX
from livedream.tempo.quantize import QUANTIZE_MODES
from livedream.tempo.reading import BPM
from livedream.transforms import transform_names

ACCESS_NONE, ACCESS_READ, ACCESS_WRITE, ACCESS_READ_WRITE = 0, 1, 2, 3
#: The node attributes served (each can be asked for alone: `/path?VALUE`).
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION",
              "CLIPMODE")
HOST_INFO = "HOST_INFO"
TRIGGER = "N"  # no value: clients (Chataigne, VDMX) show a button that sends the bare address
TRIGGER_ARGS = ("[x]", "")  # a route with these arguments fires; it has no value to set

#: TYPE of routes that take a value but have none to read back (write-only).
_TYPE_OF_ARGS = {"s": "s", "s...": "s", "f": "f"}
_NUMBERS: dict[str, Param] = {"source/mix": SOURCE_MIX, "ease": EASE, "tempo": BPM,
                              "mod/clear": MOD_INDEX}
_CHOICES: dict[str, Callable[[Env], Sequence[str]]] = {
    "layer": lambda env: env.layer_names,
    "layers": lambda env: env.layer_names,
    "preset": lambda env: list(env.presets),
    "transform": lambda env: transform_names(),
    "chain": lambda env: transform_names(),
    "toggle": lambda env: transform_names(),
    "quantize": lambda env: QUANTIZE_MODES,
}
_HIDDEN = ("quit",)  # refused unless the show enables it: not advertised


@dataclass(frozen=True)
class Entry:
    """One OSC method as OSCQuery describes it (one value per type tag in `range`/`value`)."""

    full_path: str
    type: str
    access: int
    description: str = ""
    range: tuple[dict[str, Any], ...] = ()
    clipmode: tuple[str, ...] = ()
    value: tuple[Any, ...] = ()

    def attributes(self) -> dict[str, Any]:
        """The node's JSON attributes (VALUE only where readable, RANGE/CLIPMODE where known)."""
        out: dict[str, Any] = {"FULL_PATH": self.full_path, "ACCESS": self.access}
        if self.description:
            out["DESCRIPTION"] = self.description
        out["TYPE"] = self.type
        if self.access & ACCESS_READ:
            out["VALUE"] = list(self.value)
        if self.range:
            out["RANGE"] = list(self.range)
        if self.clipmode:
            out["CLIPMODE"] = list(self.clipmode)
        return out


def _range(spec: Param) -> dict[str, Any]:
    if spec.choices is not None:
        return {"VALS": list(spec.choices)}
    out: dict[str, Any] = {}
    if spec.lo is not None:
        out["MIN"] = spec.lo
    if spec.hi is not None:
        out["MAX"] = spec.hi
    return out


def _tag(spec: Param) -> str:
    """The OSC type tag of a parameter's own units."""
    if spec.kind is bool:
        return "T"
    return {int: "i", float: "f", str: "s"}[spec.kind]


def _json(tag: str, value: Value) -> Any:
    """A value as JSON for its type tag (bools are echoed as 0/1 over OSC; T wants true)."""
    if tag in "TF":
        return bool(value)
    if tag == "f":
        return float(value)  # type: ignore[arg-type]
    if tag == "i":
        return int(value)  # type: ignore[arg-type]
    return str(value)


def _params(state: State, dump: Mapping[str, list[Any]]) -> list[Entry]:
    """Every parameter of the state: `/livedream/param/<path>` (0..1) and its `/raw` child."""
    out: list[Entry] = []
    for name, path in param_paths(state):
        _, _, spec = resolve_param(state.look, name)
        address = f"{PREFIX}/param/{path}"
        doc = spec.doc or name
        out.append(Entry(address, "f", ACCESS_READ_WRITE, f"{name}: {doc} (0..1 onto "
                         f"{spec.describe()})", ({"MIN": 0.0, "MAX": 1.0},), ("both",),
                         (float(dump[address][0]),)))
        tag, bounds, raw = _tag(spec), _range(spec), dump[address + "/raw"][0]
        out.append(Entry(address + "/raw", tag, ACCESS_READ_WRITE,
                         f"{name}: {doc} ({spec.describe()})", (bounds,) if bounds else (),
                         ("none",) if tag in "if" else (), (_json(tag, raw),)))
    return out


def _toggles(state: State, route: Route) -> list[Entry]:
    """One trigger per chain link for `toggle/<transform>`."""
    names = dict.fromkeys(link.name for link in state.look.chain)
    return [Entry(f"{PREFIX}/{route.prefix}{name}", TRIGGER, ACCESS_WRITE,
                  f"{route.doc}: {name}") for name in names]


def _fixed(route: Route, state: State, env: Env) -> Entry:
    """The node of one fixed address of the table."""
    if route.args in TRIGGER_ARGS:
        return Entry(route.address, TRIGGER, ACCESS_WRITE, route.doc)
    tag = route.types or _TYPE_OF_ARGS[route.args]
    ranges: tuple[dict[str, Any], ...] = ()
    clip: tuple[str, ...] = ()
    if route.path in _CHOICES and (choices := list(_CHOICES[route.path](env))):
        ranges = ({"VALS": choices},)
    elif route.path in _NUMBERS:
        ranges, clip = (_range(_NUMBERS[route.path]),), ("none",)
    elif route.args == "[i]":  # a switch: 0 or 1
        ranges = ({"MIN": 0, "MAX": 1},)
    if route.value is None or route.args.endswith("..."):  # no value, or one of any length
        return Entry(route.address, tag, ACCESS_WRITE, route.doc, ranges, clip)
    value = route.value(state)[:len(tag)]  # /model's value may add the weights file
    return Entry(route.address, tag, ACCESS_READ_WRITE, route.doc, ranges, clip,
                 tuple(_json(t, v) for t, v in zip(tag, value, strict=True)))


def entries(state: State, env: Env | None = None) -> list[Entry]:
    """Every OSC method of the show in its current state, in the table's order."""
    env = env or Env()
    dump = dict(dump_messages(state))
    out: list[Entry] = []
    for route in ROUTES:
        if route.path in _HIDDEN:
            continue
        if route.path == "param/<name>":
            out += _params(state, dump)
        elif route.path == "toggle/<transform>":
            out += _toggles(state, route)
        elif route.prefix is None:
            out.append(_fixed(route, state, env))
    return out


def namespace(items: Sequence[Entry]) -> dict[str, dict[str, Any]]:
    """Every node of the tree by FULL_PATH ('/' is the root), containers made for each prefix."""
    nodes: dict[str, dict[str, Any]] = {"/": {"FULL_PATH": "/", "ACCESS": ACCESS_NONE,
                                              "DESCRIPTION": "livedream", "CONTENTS": {}}}
    for entry in items:
        parent = nodes["/"]
        path = ""
        for part in entry.full_path.strip("/").split("/"):
            path += "/" + part
            node = nodes.get(path)
            if node is None:
                node = nodes[path] = {"FULL_PATH": path, "ACCESS": ACCESS_NONE}
                parent.setdefault("CONTENTS", {})[part] = node
            parent = node
        parent.update(entry.attributes())
    return nodes


def host_info(osc_host: str, osc_port: int, name: str = "livedream") -> dict[str, Any]:
    """`?HOST_INFO`: where the OSC goes. A wildcard host leaves OSC_IP out (the HTTP host, then)."""
    info: dict[str, Any] = {
        "NAME": name,
        "OSC_PORT": osc_port,
        "OSC_TRANSPORT": "UDP",
        "EXTENSIONS": {**{attr: True for attr in ATTRIBUTES if attr != "CONTENTS"},
                       "TAGS": False, "UNIT": False, "CRITICAL": False, "LISTEN": False,
                       "PATH_CHANGED": False},
    }
    if osc_host not in WILDCARDS:
        info["OSC_IP"] = osc_host
    return info


class QueryError(LivedreamError):
    """An OSCQuery request that cannot be answered; `status` is its HTTP status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def answer(nodes: Mapping[str, dict[str, Any]], path: str, query: str,
           host: Mapping[str, Any]) -> tuple[int, Any]:
    """(HTTP status, JSON) for one request: a node, one attribute of it, or HOST_INFO.

    Raises QueryError: 400 for a query that is not one attribute name, 404 for an unknown path.
    A known attribute the node lacks (VALUE of a trigger) is 204, no content.
    """
    attribute = query.upper()
    if attribute and attribute != HOST_INFO and attribute not in ATTRIBUTES:
        raise QueryError(400, f"unknown OSCQuery attribute {query[:40]!r}; use one of "
                         f"{', '.join((*ATTRIBUTES, HOST_INFO))}")
    if attribute == HOST_INFO:
        return 200, dict(host)
    key = "/" + path.strip("/") if path.strip("/") else "/"
    node = nodes.get(key)
    if node is None:
        raise QueryError(404, f"no OSC method or container at {path[:80]!r}")
    if not attribute:
        return 200, node
    if attribute not in node:
        return 204, None
    return 200, {attribute: node[attribute]}
