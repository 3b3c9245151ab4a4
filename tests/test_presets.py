"""Presets: every shipped preset parses and is valid; bad files name the file, key and choices."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from livedream.errors import PresetError, UnknownNameError
from livedream.look import DREAM_PARAMS, DreamSettings
from livedream.presets import (
    PRESETS_ENV,
    default_presets_dir,
    find_preset,
    list_presets,
    load_preset,
    open_preset,
    presets_dirs,
)
from livedream.transforms.registry import get_transform

#: The post's animations (issue 3) that must ship, by preset name.
REQUIRED = {
    "zoom", "vertical-stretch", "rotate", "column-roll-linear", "column-roll-sine", "shimmer",
    "downward-drift", "sobel", "prewitt", "edge-invention", "blur-legs", "alternating-roll",
    "tiles",
}
SHIPPED = sorted(list_presets([default_presets_dir()]))
SHIPPED_MODELS = {"vgg16", "inception_v3"}
#: Inception v3's dreamable mixed layers before the 17x17 stage (spirals and eyes, cheap).
INCEPTION_EARLY = ("mixed_5b", "mixed_5c", "mixed_5d", "mixed_6a")

GOOD = """
name = "mine"
description = "test"
model = "vgg16"
layers = ["relu4_3"]
seed = 4

[dream]
step_size = 2.5
iterations = 2

[[chain]]
transform = "zoom"
scale = 0.03
"""


def write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_required_presets_ship_plus_own_mixes() -> None:
    assert REQUIRED <= set(SHIPPED)
    assert len(set(SHIPPED) - REQUIRED) >= 2


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_is_valid(name: str) -> None:
    path = default_presets_dir() / f"{name}.toml"
    raw = tomllib.loads(path.read_text())
    preset = load_preset(path)
    assert preset.name == name == raw["name"]
    assert preset.description.strip()
    look = preset.look
    assert look.model in SHIPPED_MODELS and look.layers and look.chain
    # Every dream key and every transform parameter is known and within its range.
    for key, value in raw.get("dream", {}).items():
        assert getattr(look.dream, key) == DREAM_PARAMS[key].validate(value)
    assert len(raw["chain"]) == len(look.chain)
    for entry, link in zip(raw["chain"], look.chain, strict=True):
        spec = get_transform(entry["transform"])
        assert link.name == spec.name
        params = {k: v for k, v in entry.items() if k != "transform"}
        assert spec.validate(params) == link.params == params | link.params


def test_edge_invention_names_the_googlenet_layer() -> None:
    preset = find_preset("edge-invention")
    assert "inception_3b/5x5_reduce" in load_preset(preset).description
    assert load_preset(preset).look.chain[0].name == "sobel"


def test_good_preset_parses_into_look(tmp_path: Path) -> None:
    preset = load_preset(write(tmp_path, GOOD))
    assert preset.seed == 4 and preset.path == tmp_path / "mine.toml"
    assert preset.look.layers == ("relu4_3",)
    assert preset.look.dream == DreamSettings(step_size=2.5, iterations=2)
    assert [(link.name, link.params) for link in preset.look.chain] == [("zoom", {"scale": 0.03})]


def test_defaults_when_keys_are_missing(tmp_path: Path) -> None:
    preset = load_preset(write(tmp_path, "", name="bare"))
    assert preset.name == "bare" and preset.look.model == "vgg16"
    assert preset.look.dream == DreamSettings() and preset.look.chain == ()


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("colour = 1\n" + GOOD, r"mine\.toml.*colour: unknown key; valid: name, description"),
        (GOOD.replace("step_size = 2.5", "step_size = 99"),
         r"mine\.toml.*dream\.step_size: expected float in \[0\.0, 20\.0\]"),
        (GOOD.replace("iterations = 2", "iterations = \"many\""),
         r"mine\.toml.*dream\.iterations: expected int in \[0, 50\]"),
        (GOOD.replace("iterations = 2", "itterations = 2"),
         r"mine\.toml.*dream\.itterations: unknown key; valid: step_size, iterations"),
        (GOOD.replace('transform = "zoom"', 'transform = "zooom"'),
         r"mine\.toml.*chain\[0\]\.transform: unknown transform 'zooom'; valid: .*zoom"),
        (GOOD.replace("scale = 0.03", "scale = 7.0"),
         r"mine\.toml.*chain\[0\]\.scale.*expected float in \[-0\.5, 0\.5\]"),
        (GOOD.replace("scale = 0.03", "speed = 1.0"),
         r"mine\.toml.*chain\[0\]\.speed: unknown parameter of transform 'zoom'; valid: .*scale"),
        (GOOD.replace('layers = ["relu4_3"]', 'layers = "relu4_3"'),
         r"mine\.toml.*layers: expected a non-empty list"),
        (GOOD.replace("seed = 4", "seed = -1"), r"mine\.toml.*seed: expected int"),
        (GOOD.replace('model = "vgg16"', "model = 3"), r"mine\.toml.*model: expected a non-empty"),
        (GOOD.replace('transform = "zoom"', ""), r"mine\.toml.*chain\[0\]\.transform: missing"),
        (GOOD.replace("[dream]", "[dream]\n[dream.x]"), r"mine\.toml.*dream\.x: unknown key"),
        (GOOD + "\n[[chain\n", r"mine\.toml.*invalid TOML"),
        ("layers = [\"a\"\n", r"mine\.toml.*invalid TOML"),
        (GOOD + "\n[show]\nflow = 1\n", r"mine\.toml.*show: flow: expected true or false"),
        (GOOD + "\n[show]\nsource_mix = 2\n", r"mine\.toml.*show: source_mix.*\[0\.0, 1\.0\]"),
        (GOOD + "\n[show]\nflowz = true\n",
         r"mine\.toml.*show: unknown show setting 'flowz'; valid: flow, gate, source_mix, flow\."),
        ("show = 3\n" + GOOD, r"mine\.toml.*show: expected a table"),
    ],
)
def test_bad_preset_names_file_and_key(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(PresetError, match=pattern):
        load_preset(write(tmp_path, text))


def test_unreadable_and_binary_presets(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match=r"missing\.toml.*cannot read"):
        load_preset(tmp_path / "missing.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PresetError, match=r"bin\.toml.*not UTF-8"):
        load_preset(binary)


def test_list_and_find(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "mine")
    write(tmp_path, GOOD, "other")
    (tmp_path / "not a name.toml").write_text(GOOD)
    (tmp_path / "readme.txt").write_text("x")
    assert list_presets([tmp_path]) == {"mine": tmp_path / "mine.toml",
                                        "other": tmp_path / "other.toml"}
    assert find_preset("other", [tmp_path]) == (tmp_path / "other.toml").resolve()
    assert find_preset("other.toml", [tmp_path]) == (tmp_path / "other.toml").resolve()
    with pytest.raises(UnknownNameError, match=r"'nope'.*valid: mine, other"):
        find_preset("nope", [tmp_path])


@pytest.mark.parametrize(
    "name", ["../zoom", "..", "/etc/passwd", "sub/zoom", "..\\zoom", "zoom/../../x", "", ".hidden"]
)
def test_preset_names_cannot_escape(tmp_path: Path, name: str) -> None:
    inner = tmp_path / "presets"
    inner.mkdir()
    write(tmp_path, GOOD, "zoom")  # a file one level up that an escape would reach
    with pytest.raises(PresetError, match="not allowed"):
        find_preset(name, [inner])


def test_symlink_out_of_presets_dir_is_not_followed(tmp_path: Path) -> None:
    inner = tmp_path / "presets"
    inner.mkdir()
    outside = write(tmp_path, GOOD, "secret")
    (inner / "sneaky.toml").symlink_to(outside)
    assert "sneaky" not in list_presets([inner])
    with pytest.raises(UnknownNameError):
        find_preset("sneaky", [inner])


def test_env_overrides_presets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, GOOD, "mine")
    monkeypatch.setenv(PRESETS_ENV, str(tmp_path))
    assert presets_dirs() == [tmp_path]
    assert open_preset("mine").seed == 4
    monkeypatch.delenv(PRESETS_ENV)
    assert presets_dirs() == [default_presets_dir()]
    assert default_presets_dir() == Path(__file__).resolve().parent.parent / "presets"


def test_open_preset_accepts_paths_only_when_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, "mine")
    assert open_preset(str(path), allow_paths=True).name == "mine"
    with pytest.raises(PresetError, match="not allowed"):
        open_preset(str(path))


def test_four_inception_v3_looks_on_early_mixed_layers() -> None:
    looks = {name: load_preset(default_presets_dir() / f"{name}.toml").look for name in SHIPPED}
    inception = {name: look for name, look in looks.items() if look.model == "inception_v3"}
    assert len(inception) >= 4
    chains = {link.name for look in inception.values() for link in look.chain}
    assert {"zoom", "stretch", "sobel"} <= chains and chains & {"roll_sine", "roll_linear"}
    for look in inception.values():
        assert set(look.layers) <= set(INCEPTION_EARLY)
        assert look.dream.octaves == 1 and look.dream.lap_levels > 0  # live looks, no stripes


def test_precision_key(tmp_path: Path) -> None:
    assert load_preset(write(tmp_path, GOOD)).precision is None
    preset = load_preset(write(tmp_path, 'precision = "fp32"\n' + GOOD))
    assert preset.precision == "fp32"
    with pytest.raises(PresetError, match=r"mine\.toml.*precision.*auto, fp32, bf16, fp16"):
        load_preset(write(tmp_path, 'precision = "int8"\n' + GOOD))


@pytest.mark.parametrize("name", SHIPPED)
def test_live_presets_smooth_the_gradient(name: str) -> None:
    """Single-octave live looks normalise the gradient per Laplacian band (no 2-3 px stripes)."""
    dream = load_preset(default_presets_dir() / f"{name}.toml").look.dream
    assert dream.octaves > 1 or dream.lap_levels >= 3


def test_show_table_sets_flags_mix_and_live_input_params(tmp_path: Path) -> None:
    text = GOOD + '\n[show]\nflow = true\ngate = false\nsource_mix = 0.2\n"flow.strength" = 0.5\n'
    look = load_preset(write(tmp_path, text)).look
    assert look.show == (("flow", True), ("gate", False), ("source_mix", 0.2),
                         ("flow.strength", 0.5))
    assert load_preset(write(tmp_path, GOOD)).look.show == ()
