"""Keyboard map: pyglet symbol names to commands, applied through the real reducer."""

from __future__ import annotations

import pytest

from livedream.commands import (
    Quit,
    Reset,
    ResyncTempo,
    SetFlag,
    StepLayer,
    StepPreset,
    TapTempo,
    ToggleTransform,
)
from livedream.control.keys import DEFAULT_TRANSFORM_KEYS, KeyMap, key_command
from livedream.errors import LivedreamError
from livedream.state import apply
from livedream.transforms import transform_names
from tests.control import ENV, initial_state


@pytest.mark.parametrize(("symbol", "expected"), [
    ("SPACE", SetFlag("paused")),
    ("LEFT", StepPreset(-1)),
    ("RIGHT", StepPreset(1)),
    ("UP", StepLayer(1)),
    ("DOWN", StepLayer(-1)),
    ("F", SetFlag("fullscreen")),
    ("R", SetFlag("recording")),
    ("O", SetFlag("overlay")),
    ("ESCAPE", Quit()),
    ("_0", Reset()),
    ("NUM_0", Reset()),
    ("_1", ToggleTransform(DEFAULT_TRANSFORM_KEYS[0])),
    ("_9", ToggleTransform(DEFAULT_TRANSFORM_KEYS[8])),
    ("NUM_6", ToggleTransform(DEFAULT_TRANSFORM_KEYS[5])),
    ("A", None),
    ("_10", None),
    ("NUM_ADD", None),
    ("", None),
])
def test_default_keys(symbol, expected):
    assert KeyMap().command(symbol) == expected


def test_configurable_number_keys():
    keys = KeyMap(("sobel", "blur"))
    assert keys.command("_1") == ToggleTransform("sobel")
    assert keys.command("_2") == ToggleTransform("blur")
    assert keys.command("_3") is None
    assert key_command("_2", ["zoom", "invert"]) == ToggleTransform("invert")
    with pytest.raises(LivedreamError, match="at most 9"):
        KeyMap(tuple(transform_names())[:10])


def test_default_number_keys_name_registered_transforms():
    assert len(DEFAULT_TRANSFORM_KEYS) == 9
    assert set(DEFAULT_TRANSFORM_KEYS) <= set(transform_names())


def test_keys_drive_the_state():
    state = initial_state()
    for symbol in ("SPACE", "RIGHT", "UP", "R", "O", "F", "_0", "_6", "_6", "_7", "DOWN", "DOWN"):
        state = apply(state, key_command(symbol), ENV)
    assert state.paused and state.recording and state.fullscreen and not state.overlay
    assert state.preset == "calm" and state.reset_count == 1 and not state.quit
    # calm's layer conv2, up to conv3, down twice to conv1
    assert state.look.layers == ("conv1",)
    # calm's chain is blur; 6 appends sobel, 6 again disables it, 7 disables blur
    assert [(k.name, k.enabled) for k in state.look.chain] == [("blur", False), ("sobel", False)]
    assert apply(state, key_command("ESCAPE"), ENV).quit


def test_tap_and_resync_keys_make_a_fresh_tap_per_press():
    first, second = key_command("T"), key_command("T")
    assert isinstance(first, TapTempo) and isinstance(second, TapTempo)
    assert second.at >= first.at
    assert key_command("B") == ResyncTempo()
