"""OSCQuery namespace: the OSC address space described as the Vidvox proposal's JSON tree.

An OSCQuery client (VDMX, Chataigne, ossia score, oscqueryhtml) asks an HTTP server for a JSON
tree of the OSC methods a show accepts: FULL_PATH, TYPE (OSC type tags), RANGE, VALUE, ACCESS,
DESCRIPTION, CLIPMODE, with CONTENTS for containers; `?HOST_INFO` says where to send the OSC.

The tree is built fresh from a `State` snapshot for every request, so it always lists the
parameters of the current look and their current values:
- the fixed addresses come from `livedream.control.osc.ADDRESSES` (one row per address, its
  argument spec and meaning); the templated rows (`<name>`) are expanded per look;
- current values come from `dump_messages` (what `/livedream/state` replies over OSC), so
  OSCQuery's VALUE and the OSC echo are one definition;
- parameter nodes get RANGE/TYPE from their `Param` (found by the name `decode` resolves).

`answer(nodes, path, query, host)` is the pure request logic (status code and JSON) that the HTTP
server in `livedream.control.oscquery_http` calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livedream.control.osc import ADDRESSES, PREFIX, decode, dump_messages
from livedream.errors import LivedreamError
from livedream.params import Param, Value
from livedream.state import EASE, SOURCE_MIX, Env, SetParam, State, resolve_param
from livedream.transforms import transform_names

ACCESS_NONE, ACCESS_READ, ACCESS_WRITE, ACCESS_READ_WRITE = 0, 1, 2, 3
#: The node attributes served (each can be asked for alone: `/path?VALUE`).
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION",
              "CLIPMODE")
HOST_INFO = "HOST_INFO"
TRIGGER = "N"  # no value: clients (Chataigne, VDMX) show a button that sends the bare address

#: OSCQuery TYPE for each argument spec of the address table; None: expanded per look.
_TYPE_OF_ARGS: dict[str, str | None] = {
    "s": "s", "s...": "s", "s [s]": "s", "f": "f", "[i]": "T", "[x]": TRIGGER, "": TRIGGER,
    "f|i|s|T|F": None,
}
_VARARGS = ("...",)  # several values accepted; the current value does not fit one TYPE: write-only
_NUMBERS: dict[str, Param] = {f"{PREFIX}/source/mix": SOURCE_MIX, f"{PREFIX}/ease": EASE}
_HIDDEN = (f"{PREFIX}/quit",)  # refused unless the show enables it; not advertised


@dataclass(frozen=True)
class Entry:
    """One OSC method as OSCQuery describes it (one value per type tag in `range`/`value`)."""

    full_path: str
    type: str
    access: int
    description: str = ""
    range: tuple[dict[str, Any], ...] = ()
    clipmode: tuple[str, ...] = ()
    value: tuple[Any, ...] = field(default=())

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
    """A value as JSON for its type tag (the echo sends bools as 0/1; OSCQuery's T wants true)."""
    if tag in "TF":
        return bool(value)
    if tag == "f":
        return float(value)  # type: ignore[arg-type]
    if tag == "i":
        return int(value)  # type: ignore[arg-type]
    return str(value)


def _param_entries(state: State, address: str, values: Sequence[Any]) -> list[Entry]:
    """The node of one `/livedream/param/...` address of the dump (normalised or raw)."""
    command = decode(address, values)
    assert isinstance(command, SetParam)
    _, _, spec = resolve_param(state.look, command.name)
    doc = spec.doc or command.name
    if command.normalized:
        return [Entry(address, "f", ACCESS_READ_WRITE, f"{command.name}: {doc} (0..1 onto "
                      f"{spec.describe()})", ({"MIN": 0.0, "MAX": 1.0},), ("both",),
                      (float(values[0]),))]
    tag = _tag(spec)
    described = _range(spec)
    return [Entry(address, tag, ACCESS_READ_WRITE, f"{command.name}: {doc} ({spec.describe()})",
                  (described,) if described else (), ("none",) if tag in "if" else (),
                  (_json(tag, values[0]),))]


def _expanded(state: State, dump: Mapping[str, list[Any]]) -> list[Entry]:
    """The per-look nodes: every parameter (normalised and /raw) and every /toggle/<link>."""
    out: list[Entry] = []
    for address, values in dump.items():
        if address.startswith(f"{PREFIX}/param/"):
            out += _param_entries(state, address, values)
        elif address.startswith(f"{PREFIX}/toggle/"):
            name = address.rpartition("/")[2]
            out.append(Entry(address, TRIGGER, ACCESS_WRITE, f"enable/disable {name} (trigger)"))
    return out


def _choices(address: str, env: Env) -> list[str] | None:
    if address in (f"{PREFIX}/layer", f"{PREFIX}/layers"):
        return list(env.layer_names) or None
    if address in (f"{PREFIX}/transform", f"{PREFIX}/chain", f"{PREFIX}/toggle"):
        return transform_names()
    if address == f"{PREFIX}/preset":
        return list(env.presets) or None
    return None


def _fixed(address: str, args: str, doc: str, dump: Mapping[str, list[Any]],
           env: Env) -> Entry:
    """The node of one non-templated row of the address table."""
    tag = _TYPE_OF_ARGS[args]
    assert tag is not None
    if tag == TRIGGER:
        return Entry(address, TRIGGER, ACCESS_WRITE, doc)
    choices = _choices(address, env)
    ranges: tuple[dict[str, Any], ...] = ({"VALS": choices},) if choices else ()
    clip: tuple[str, ...] = ()
    if address in _NUMBERS:
        ranges, clip = (_range(_NUMBERS[address]),), ("none",)
    current = dump.get(address)
    if current is None or args.endswith(_VARARGS):
        return Entry(address, tag, ACCESS_WRITE, doc, ranges, clip)
    return Entry(address, tag, ACCESS_READ_WRITE, doc, ranges, clip, (_json(tag, current[0]),))


def entries(state: State, env: Env | None = None) -> list[Entry]:
    """Every OSC method of the show in its current state (fixed addresses, then per-look ones)."""
    env = env or Env()
    dump = dict(dump_messages(state))
    out: list[Entry] = []
    for address, args, doc in ADDRESSES:
        if "<" in address or address in _HIDDEN:
            continue
        out.append(_fixed(address, args, doc, dump, env))
    return out + _expanded(state, dump)


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
    if osc_host not in ("", "0.0.0.0", "::"):
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
