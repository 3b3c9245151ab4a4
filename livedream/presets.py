"""Presets: named looks stored as TOML files in the presets directory.

Schema (every key optional except at least one `[[chain]]` entry is usual, not required)::

    name = "vertical-stretch"          # defaults to the file name
    description = "..."
    model = "vgg16"                    # built-in name or path to a deploy.prototxt
    weights = "path/to.caffemodel"     # optional
    layers = ["relu4_3"]               # one or more layer names of the model
    seed = 0                           # base seed for jitter and stochastic transforms
    guide = "guide.jpg"                # optional guide image, relative to the preset file
    precision = "auto"                 # optional: the net's precision (auto, fp32, bf16, fp16)

    [dream]                            # keys of livedream.look.DREAM_PARAMS
    step_size = 1.5
    iterations = 2

    [[chain]]                          # feedback transforms, applied in order
    transform = "stretch"
    scale = 0.05
    axis = "vertical"

    [show]                             # optional: set when the preset is loaded
    flow = true                        # flow, gate: on/off; source_mix 0..1; flow.* params
    source_mix = 0.15
    "flow.strength" = 0.8

    [[modulate]]                       # optional: livedream.tempo.modulators
    target = "step_size"               # any parameter name of the look (zoom.scale, 0.angle)
    source = "sine"                    # sine triangle saw square sample_hold envelope, or audio:
    rate = 4                           # rms onset beat low lowmid highmid high; rate in beats
    depth = 0.3                        # swing in normalised 0..1 units of the target's range

Every problem is a PresetError naming the file, the key and the allowed values. Preset names
looked up with `find_preset` can never leave the presets directories.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from livedream.device import PRECISION_CHOICES
from livedream.errors import LivedreamError, ParamError, PresetError, UnknownNameError
from livedream.files import read_text
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look
from livedream.params import Param
from livedream.state import check_show_setting
from livedream.tempo.modulate import check_targets
from livedream.tempo.modulators import MAX_MODULATORS, Modulator, parse_modulator
from livedream.transforms.registry import get_transform, make_link

#: Environment variable overriding the presets directory (os.pathsep-separated list allowed).
PRESETS_ENV = "LIVEDREAM_PRESETS"

#: the look `livedream run` and `livedream demo` start from when no preset is named
DEFAULT_PRESET = "vertical-stretch"

#: A preset name: letters, digits, '-', '_' (no dots, slashes or anything that could be a path).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")

#: Top-level keys of a preset file.
TOP_KEYS = (
    "name", "description", "model", "weights", "layers", "seed", "guide", "precision", "dream",
    "chain", "modulate", "show",
)

#: Keys of a [[chain]] entry besides the transform's own parameters.
LINK_KEYS = ("transform", "enabled")

#: Largest preset file read (a preset is a few hundred bytes; bounds a hostile file).
MAX_PRESET_BYTES = 256 * 1024

_SEED = Param(0, 0, 2**31 - 1, doc="base seed for jitter and stochastic transforms")


@dataclass(frozen=True)
class Preset:
    """A parsed preset: the look it defines plus its description, seed and source file."""

    name: str
    look: Look
    description: str = ""
    seed: int = 0
    path: Path | None = None
    precision: str | None = None  # the net's precision when the command line says 'auto'


def default_presets_dir() -> Path:
    """`<repo>/presets`, found relative to this package (editable / source checkouts)."""
    return Path(__file__).resolve().parent.parent / "presets"


def presets_dirs() -> list[Path]:
    """Directories searched for presets: $LIVEDREAM_PRESETS if set, else the shipped one."""
    env = os.environ.get(PRESETS_ENV, "").strip()
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return [default_presets_dir()]


def _where(path: Path | str, key: str) -> str:
    return f"preset {str(path)!r}: {key}"


def _string(path: Path | str, key: str, value: Any, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise PresetError(f"{_where(path, key)}: expected a non-empty string, got {value!r}")
    return value


def _layers(path: Path | str, value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise PresetError(
            f"{_where(path, 'layers')}: expected a non-empty list of layer names "
            f'such as ["relu4_3"], got {value!r}'
        )
    return tuple(value)


def _bad_value(
    path: Path | str, key: str, spec: Param, raw: Any, exc: Exception, about: str = ""
) -> PresetError:
    """The message every bad value in a preset gets: file, key, allowed values, what was given."""
    return PresetError(
        f"{_where(path, key)}{about}: expected {spec.describe()}, got {raw!r} ({exc})"
    )


def _dream(path: Path | str, value: Any) -> DreamSettings:
    """The [dream] table through `DreamSettings.from_mapping`, its error reworded for the file."""
    if not isinstance(value, dict):
        raise PresetError(f"{_where(path, 'dream')}: expected a [dream] table, got {value!r}")
    try:
        return DreamSettings.from_mapping(value, "dream")
    except ParamError as exc:
        if exc.key is None:
            raise PresetError(f"{_where(path, 'dream')}: {exc}") from None
        key = f"dream.{exc.key}"
        if exc.key not in DREAM_PARAMS:
            raise PresetError(
                f"{_where(path, key)}: unknown key; valid: {', '.join(DREAM_PARAMS)}"
            ) from None
        raise _bad_value(path, key, DREAM_PARAMS[exc.key], value[exc.key], exc) from None


def _link(path: Path | str, key: str, entry: dict[str, Any]) -> ChainLink:
    """One [[chain]] entry through `make_link`, its errors reworded to name the file and key."""
    if "transform" not in entry:
        raise PresetError(f"{_where(path, key + '.transform')}: missing transform name")
    name = _string(path, key + ".transform", entry["transform"])
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PresetError(f"{_where(path, key + '.enabled')}: expected true/false")
    params = {k: v for k, v in entry.items() if k not in LINK_KEYS}
    try:
        link = make_link(name, params)
    except UnknownNameError as exc:
        raise PresetError(
            f"{_where(path, key + '.transform')}: unknown transform {name!r}; "
            f"valid: {', '.join(exc.valid)}"
        ) from None
    except ParamError as exc:
        specs = get_transform(name).params
        if exc.key is None:
            raise PresetError(f"{_where(path, key)} ({name}): {exc}") from None
        if exc.key not in specs:
            valid = ", ".join([*LINK_KEYS, *sorted(specs)])
            raise PresetError(
                f"{_where(path, f'{key}.{exc.key}')}: unknown parameter of transform "
                f"{name!r}; valid: {valid}"
            ) from None
        raise _bad_value(path, f"{key}.{exc.key}", specs[exc.key], params[exc.key], exc,
                         f" ({name})") from None
    return replace(link, enabled=enabled)


def _chain(path: Path | str, value: Any) -> tuple[ChainLink, ...]:
    if not isinstance(value, list):
        raise PresetError(
            f"{_where(path, 'chain')}: expected [[chain]] tables, each with transform = \"name\""
        )
    links: list[ChainLink] = []
    for i, entry in enumerate(value):
        key = f"chain[{i}]"
        if not isinstance(entry, dict):
            raise PresetError(f"{_where(path, key)}: expected a table, got {entry!r}")
        links.append(_link(path, key, entry))
    return tuple(links)


def _modulators(path: Path | str, value: Any, look: Look) -> tuple[Modulator, ...]:
    if not isinstance(value, list) or len(value) > MAX_MODULATORS:
        raise PresetError(
            f"{_where(path, 'modulate')}: expected up to {MAX_MODULATORS} [[modulate]] tables, "
            'each with target = "param"'
        )
    mods = []
    for i, entry in enumerate(value):
        try:
            mod = parse_modulator(entry, f"modulate[{i}]")
            check_targets(look, [mod])
        except LivedreamError as exc:
            raise PresetError(f"preset {str(path)!r}: {exc}") from None
        mods.append(mod)
    return tuple(mods)


def _show(path: Path | str, table: Any) -> tuple[tuple[str, Any], ...]:
    if not isinstance(table, dict):
        raise PresetError(f"{_where(path, 'show')}: expected a table, got {table!r}")
    entries = []
    for key, value in table.items():
        try:
            entries.append((key, check_show_setting(key, value)))
        except LivedreamError as exc:
            raise PresetError(f"{_where(path, 'show')}: {exc}") from None
    return tuple(entries)


def parse_preset(data: dict[str, Any], path: Path | str = "<preset>") -> Preset:
    """Validate a decoded TOML mapping into a Preset (PresetError names `path` and the key)."""
    for key in data:
        if key not in TOP_KEYS:
            raise PresetError(f"{_where(path, key)}: unknown key; valid: {', '.join(TOP_KEYS)}")
    stem = Path(path).stem if isinstance(path, Path) else str(path)
    name = _string(path, "name", data.get("name", stem))
    description = _string(path, "description", data.get("description", ""), allow_empty=True)
    look_defaults = Look()
    model = _string(path, "model", data.get("model", look_defaults.model))
    weights = data.get("weights")
    if weights is not None:
        weights = _string(path, "weights", weights)
    layers = _layers(path, data["layers"]) if "layers" in data else look_defaults.layers
    dream = _dream(path, data.get("dream", {}))
    chain = _chain(path, data["chain"]) if "chain" in data else ()
    seed_raw = data.get("seed", 0)
    try:
        seed = int(_SEED.validate(seed_raw, "seed"))
    except LivedreamError:
        raise PresetError(
            f"{_where(path, 'seed')}: expected {_SEED.describe()}, got {seed_raw!r}"
        ) from None
    guide = data.get("guide")
    if guide is not None:
        guide = _string(path, "guide", guide)
        if isinstance(path, Path) and not Path(guide).is_absolute():
            guide = str(path.parent / guide)
    precision = data.get("precision")
    if precision is not None and precision not in PRECISION_CHOICES:
        raise PresetError(f"{_where(path, 'precision')}: expected one of "
                          f"{', '.join(PRECISION_CHOICES)}, got {precision!r}")
    look = Look(
        model=model, weights=weights, layers=layers, dream=dream, chain=chain, guide=guide,
        name=name,
    )
    if "modulate" in data:
        look = replace(look, modulators=_modulators(path, data["modulate"], look))
    if "show" in data:
        look = replace(look, show=_show(path, data["show"]))
    return Preset(name=name, look=look, description=description, seed=seed,
                  path=path if isinstance(path, Path) else None, precision=precision)


def load_preset(path: Path | str) -> Preset:
    """Read and validate one preset file; every problem is a PresetError naming the file."""
    path = Path(path)
    text = read_text(path, "preset", PresetError, MAX_PRESET_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"preset {str(path)!r}: invalid TOML: {exc}") from None
    return parse_preset(data, path)


def _check_name(name: str) -> str:
    """The bare preset name, or PresetError if it could be a path (no '/', '..', absolute)."""
    if not isinstance(name, str):
        raise PresetError(f"preset name must be a string, got {name!r}")
    bare = name[:-5] if name.endswith(".toml") else name
    if not NAME_PATTERN.fullmatch(bare):
        raise PresetError(
            f"preset name {name!r} is not allowed: use letters, digits, '-' and '_' only "
            "(a name cannot be a path)"
        )
    return bare


def list_presets(dirs: Sequence[Path] | None = None) -> dict[str, Path]:
    """Preset name -> file, over `dirs` (default: presets_dirs()); earlier directories win."""
    found: dict[str, Path] = {}
    for directory in dirs if dirs is not None else presets_dirs():
        directory = Path(directory)
        if not directory.is_dir():
            continue
        root = directory.resolve()
        for file in sorted(directory.glob("*.toml")):
            if not NAME_PATTERN.fullmatch(file.stem) or file.stem in found:
                continue
            if file.resolve().is_relative_to(root) and file.is_file():
                found[file.stem] = file
    return dict(sorted(found.items()))


def find_preset(name: str, dirs: Sequence[Path] | None = None) -> Path:
    """The file of preset `name`, never outside the presets directories.

    A name that looks like a path raises PresetError; an unknown name raises UnknownNameError
    listing the available presets.
    """
    bare = _check_name(name)
    search = list(dirs) if dirs is not None else presets_dirs()
    for directory in search:
        root = Path(directory).resolve()
        candidate = (Path(directory) / f"{bare}.toml").resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    raise UnknownNameError("preset", bare, list(list_presets(search)))


def open_preset(spec: str, dirs: Sequence[Path] | None = None, allow_paths: bool = False) -> Preset:
    """Load a preset by name, or - when `allow_paths` (command line only) - by file path."""
    if allow_paths and (spec.endswith(".toml") or os.sep in spec) and Path(spec).is_file():
        return load_preset(Path(spec))
    return load_preset(find_preset(spec, dirs))
