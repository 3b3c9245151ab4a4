"""Presets' [[modulate]] tables: parsed into the look's modulators; bad ones name file and key."""

from pathlib import Path

import pytest

from livedream.errors import PresetError
from livedream.presets import default_presets_dir, load_preset, parse_preset

BASE = {"layers": ["conv4_3"], "chain": [{"transform": "zoom", "scale": 0.05}]}


def test_modulate_tables_become_the_looks_modulators() -> None:
    preset = parse_preset({**BASE, "modulate": [
        {"target": "step_size", "source": "low", "depth": 0.8},
        {"target": "zoom.scale", "source": "triangle", "rate": 16},
    ]})
    mods = preset.look.modulators
    assert [(m.target, m.source) for m in mods] == [("step_size", "low"), ("zoom.scale",
                                                                             "triangle")]
    assert mods[1].rate == 16.0 and mods[0].depth == 0.8


@pytest.mark.parametrize(("table", "match"), [
    ({"target": "rotate.angle"}, "rotate.angle"),  # not a parameter of this look
    ({"target": "step_size", "rate": 0.01}, "modulate\\[0\\].rate"),
    ({"target": "step_size", "wobble": 1}, "wobble"),
    ({"source": "sine"}, "target"),
])
def test_bad_modulate_tables_name_the_file_and_key(table: dict, match: str) -> None:
    with pytest.raises(PresetError, match=match) as info:
        parse_preset({**BASE, "modulate": [table]}, Path("p.toml"))
    assert "p.toml" in str(info.value)


def test_shipped_pulse_preset_has_audio_and_lfo_modulators() -> None:
    preset = load_preset(default_presets_dir() / "pulse.toml")
    sources = {m.source for m in preset.look.modulators}
    assert "low" in sources and "sine" in sources
