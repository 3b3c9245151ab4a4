"""OSCQuery namespace: every address and parameter listed with type, range and current value."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from livedream.commands import SetFlag, SetParam
from livedream.control.osc import ADDRESSES, decode
from livedream.control.oscquery import (
    ACCESS_READ,
    ACCESS_WRITE,
    ATTRIBUTES,
    TRIGGER,
    QueryError,
    answer,
    entries,
    host_info,
    namespace,
)
from livedream.look import ChainLink, Look
from livedream.paramnames import param_names, param_value, resolve_param
from livedream.state import apply
from livedream.transforms import transform_names
from tests.control import ENV, LAYERS, PRESETS, initial_state

HOST = host_info("127.0.0.1", 9000)


def nodes_of(state=None, env=ENV):
    return namespace(entries(state or initial_state(), env))


def param_address(name: str) -> str:
    return "/livedream/param/" + name.replace(".", "/")


def test_every_parameter_of_the_look_is_listed_with_its_range_and_value() -> None:
    state = initial_state()
    nodes = nodes_of(state)
    names = param_names(state.look)
    assert "zoom.scale" in names and "step_size" in names and "pixel_sort.axis" in names
    for name in names:
        _, _, spec = resolve_param(state.look, name)
        value = param_value(state.look, name)
        normalised = nodes[param_address(name)]
        assert normalised["TYPE"] == "f" and normalised["ACCESS"] == 3
        assert normalised["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}]
        assert normalised["VALUE"] == [pytest.approx(spec.to_normalized(value))]
        raw = nodes[param_address(name) + "/raw"]
        assert raw["VALUE"] == [value] and type(raw["VALUE"][0]) is spec.kind, name
        if spec.choices is not None:
            assert raw["TYPE"] == "s" and raw["RANGE"] == [{"VALS": list(spec.choices)}]
        elif spec.kind is bool:
            assert raw["TYPE"] == "T"
        else:
            assert raw["TYPE"] == {int: "i", float: "f"}[spec.kind]
            assert raw["RANGE"] == [{"MIN": spec.lo, "MAX": spec.hi}], name
        assert name in raw["DESCRIPTION"] and spec.describe() in raw["DESCRIPTION"]
        # the container lists the raw node, and the tree holds the same node objects
        assert normalised["CONTENTS"]["raw"] is raw


def test_the_tree_nests_every_node_under_its_containers() -> None:
    nodes = nodes_of()
    root = nodes["/"]
    assert root["FULL_PATH"] == "/" and set(root["CONTENTS"]) == {"livedream"}
    for path, node in nodes.items():
        assert node["FULL_PATH"] == path
        if path == "/":
            continue
        parent_path, _, leaf = path.rpartition("/")
        assert nodes[parent_path or "/"]["CONTENTS"][leaf] is node
    scale = root["CONTENTS"]["livedream"]["CONTENTS"]["param"]["CONTENTS"]["zoom"]["CONTENTS"][
        "scale"]
    assert scale["FULL_PATH"] == "/livedream/param/zoom/scale"
    json.dumps(root, allow_nan=False)  # plain, finite JSON


def test_the_namespace_follows_the_look_and_its_values() -> None:
    state = initial_state()
    changed = apply(state, SetParam("zoom.scale", 0.2), ENV)
    changed = apply(changed, SetParam("step_size", 1.0, normalized=True), ENV)
    changed = apply(changed, SetFlag("paused", True), ENV)
    before, after = nodes_of(state), nodes_of(changed)
    assert before["/livedream/param/zoom/scale/raw"]["VALUE"] == [param_value(state.look,
                                                                              "zoom.scale")]
    assert after["/livedream/param/zoom/scale/raw"]["VALUE"] == [0.2]
    assert after["/livedream/param/step_size"]["VALUE"] == [1.0]
    assert after["/livedream/param/step_size/raw"]["VALUE"] == [20.0]
    assert before["/livedream/pause"]["VALUE"] == [0]
    assert after["/livedream/pause"]["VALUE"] == [1]
    assert after["/livedream/pause"]["RANGE"] == [{"MIN": 0, "MAX": 1}]
    # a preset with other transforms: their parameters appear, the old ones are gone
    calm = nodes_of(replace(state, look=PRESETS["calm"], preset="calm"))
    assert calm["/livedream/param/blur/sigma/raw"]["VALUE"] == [2.0]
    assert "/livedream/param/zoom/scale" not in calm and "/livedream/toggle/zoom" not in calm
    assert calm["/livedream/preset"]["VALUE"] == ["calm"]
    assert calm["/livedream/layer"]["VALUE"] == ["conv2"]


def test_repeated_transforms_are_addressed_by_chain_index() -> None:
    look = Look(layers=("conv1",), chain=(ChainLink("zoom"), ChainLink("zoom", {"scale": 0.1})))
    nodes = nodes_of(replace(initial_state(), look=look))
    assert nodes["/livedream/param/0/scale/raw"]["VALUE"] == [param_value(look, "0.scale")]
    assert nodes["/livedream/param/1/scale/raw"]["VALUE"] == [0.1]
    assert "/livedream/param/zoom/scale" not in nodes


def test_every_row_of_the_address_table_is_served() -> None:
    nodes = nodes_of()
    for address, _, doc in ADDRESSES:
        if address == "/livedream/quit":
            assert address not in nodes  # refused unless the show enables it: not advertised
        elif "<" in address:
            head = address.split("<")[0]
            assert any(path.startswith(head) and len(path) > len(head) for path in nodes)
        else:
            assert nodes[address]["DESCRIPTION"] == doc and "TYPE" in nodes[address]


def test_choices_come_from_the_model_the_presets_and_the_registry() -> None:
    nodes = nodes_of()
    assert nodes["/livedream/layer"]["RANGE"] == [{"VALS": list(LAYERS)}]
    assert nodes["/livedream/layer"]["VALUE"] == ["conv1"]
    assert nodes["/livedream/preset"]["RANGE"] == [{"VALS": list(PRESETS)}]
    assert nodes["/livedream/transform"]["RANGE"] == [{"VALS": transform_names()}]
    assert nodes["/livedream/source/mix"]["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}]
    assert nodes["/livedream/ease"]["RANGE"] == [{"MIN": 0.0, "MAX": 30.0}]


def _samples(node: dict) -> list[list]:
    """Messages a client would send from the node's TYPE and RANGE (each end of a range)."""
    if node["TYPE"] == TRIGGER:
        return [[], [None]]  # the bare address, or a nil (N) / impulse (I) argument
    (tag,) = node["TYPE"]
    bounds = node.get("RANGE", [{}])[0]
    if "VALS" in bounds:
        return [[bounds["VALS"][0]], [bounds["VALS"][-1]]]
    if tag == "T":
        return [[True], [False]]
    if tag in "if":
        return [[bounds["MIN"]], [bounds["MAX"]]]
    return [[node["VALUE"][0]] if node.get("VALUE") and node["VALUE"][0] else ["step_size"]]


def test_what_is_advertised_is_what_osc_accepts() -> None:
    """Every writable node decodes a message of its TYPE; parameters apply at their range ends."""
    state = initial_state()
    nodes = nodes_of(state)
    writable = [(p, n) for p, n in nodes.items() if n["ACCESS"] & ACCESS_WRITE]
    assert len(writable) > 40
    for path, node in writable:
        assert len(node["TYPE"]) == 1, path
        for args in _samples(node):
            command = decode(path, args)
            assert command is not None, path
            if command is not None and (path.startswith("/livedream/param/") or path in (
                    "/livedream/layer", "/livedream/preset", "/livedream/ease")):
                apply(state, command, ENV)  # raises if the advertised range were wrong
    for path, node in nodes.items():
        assert ("VALUE" in node) == bool(node["ACCESS"] & ACCESS_READ), path
        if "VALUE" in node and "TYPE" in node:
            assert len(node["VALUE"]) == len(node["TYPE"]), path


def test_answer_serves_nodes_attributes_and_host_info() -> None:
    nodes = nodes_of()
    status, body = answer(nodes, "/livedream/param/step_size", "VALUE", HOST)
    assert status == 200 and body == {"VALUE": nodes["/livedream/param/step_size"]["VALUE"]}
    assert answer(nodes, "/livedream/param/step_size/", "", HOST) == (
        200, nodes["/livedream/param/step_size"])
    assert answer(nodes, "/", "", HOST) == (200, nodes["/"])
    assert answer(nodes, "/livedream/layer", "range", HOST)[1] == {
        "RANGE": [{"VALS": list(LAYERS)}]}
    assert answer(nodes, "/anything", "HOST_INFO", HOST) == (200, HOST)
    assert answer(nodes, "/livedream/reset", "VALUE", HOST) == (204, None)  # a trigger
    for attribute in ATTRIBUTES:
        if attribute != "CONTENTS":
            assert answer(nodes, "/livedream/ease", attribute, HOST)[0] == 200
    with pytest.raises(QueryError) as missing:
        answer(nodes, "/livedream/nope", "", HOST)
    assert missing.value.status == 404
    for query in ("garbage", "VALUE&TYPE", "VALUE=1", "listen=true", "HOST_INFOX"):
        with pytest.raises(QueryError) as bad:
            answer(nodes, "/livedream/ease", query, HOST)
        assert bad.value.status == 400, query


def test_host_info_names_the_osc_port_and_transport() -> None:
    assert HOST["OSC_PORT"] == 9000 and HOST["OSC_TRANSPORT"] == "UDP"
    assert HOST["OSC_IP"] == "127.0.0.1" and HOST["NAME"] == "livedream"
    assert HOST["EXTENSIONS"]["VALUE"] is True and HOST["EXTENSIONS"]["LISTEN"] is False
    # bound to every interface: no OSC_IP, so clients use the address they reached us on
    assert "OSC_IP" not in host_info("0.0.0.0", 9100)
