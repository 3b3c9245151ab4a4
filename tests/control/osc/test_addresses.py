"""The address table is the one definition: docs, vocabulary and dump all follow it."""

from __future__ import annotations

from pathlib import Path

from livedream.commands import FLAGS, TRIGGERS
from livedream.control.osc import ROUTES, decode, dump_messages, markdown_table
from livedream.control.osc.addresses import route_of
from tests.control import initial_state

DOC = Path(__file__).resolve().parents[3] / "docs" / "osc.md"


def test_docs_table_is_generated_from_routes():
    text = DOC.read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/osc.md differs from ROUTES: regenerate its table"
    documented = {line.split("`")[1] for line in text.splitlines()
                  if line.startswith("| `/livedream")}
    assert documented == {route.address for route in ROUTES}


def test_every_flag_and_trigger_of_the_vocabulary_has_its_route():
    paths = {route.path for route in ROUTES}
    assert set(FLAGS) <= paths and set(TRIGGERS) <= paths
    for control, field in FLAGS.items():
        assert decode(f"/livedream/{control}", [1]).flag == field
    for name, make in TRIGGERS.items():
        assert decode(f"/livedream/{name}", []) == make()


def test_route_of_matches_patterns_longest_first():
    assert route_of("/livedream/param/zoom/scale/raw")[0].path == "param/<name>/raw"
    assert route_of("/livedream/param/zoom/scale") == (route_of("/livedream/param/x")[0],
                                                       "zoom/scale")
    assert route_of("/livedream/toggle/sobel")[0].path == "toggle/<transform>"


def test_dump_lists_each_valued_route_once():
    addresses = [address for address, _ in dump_messages(initial_state())]
    for route in ROUTES:
        if route.value is not None:
            assert addresses.count(route.address) == 1, route.address
