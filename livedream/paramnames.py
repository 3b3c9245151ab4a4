"""The parameter-name grammar: how OSC, MIDI, presets, modulators and the overlay name a parameter.

Accepted names (one grammar for every controller):
- a dream parameter: `step_size` (`livedream.look.DREAM_PARAMS`);
- a show parameter: `<group>.<param>` from `SHOW_PARAMS` (live-input settings such as
  `flow.strength`; the groups never clash with transform names);
- `<transform>.<param>`: that parameter of the first chain link of that transform;
- `<index>.<param>`: the chain link at that position;
- a bare `<param>` that exactly one chain link has.

OSC spells the same names as paths: `/livedream/param/zoom/scale` is `zoom.scale`
(`name_from_path`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from livedream.errors import ParamError, UnknownNameError
from livedream.flow.params import FLOW_PARAMS
from livedream.look import DREAM_PARAMS, Look
from livedream.params import Param, Value
from livedream.transforms.registry import get_transform, transform_names

#: Show-level parameters by full name (`group.param`), held in `State.settings`. Features add
#: their tables here (one table each, defined beside the feature).
SHOW_PARAMS: dict[str, Param] = {}
SHOW_PARAMS.update(FLOW_PARAMS)  # flow.*, gate.*, source.key* (live input that moves)

NAME_PATTERN = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")

#: (chain index or None for dream and show parameters, key, spec); show keys keep their dots.
ParamRef = tuple[int | None, str, Param]


def group(prefix: str, specs: Mapping[str, Param]) -> dict[str, Param]:
    """`{"strength": p}` -> `{"flow.strength": p}`: a feature's table as SHOW_PARAMS entries."""
    return {f"{prefix}.{key}": spec for key, spec in specs.items()}


def param_names(look: Look) -> list[str]:
    """Every addressable parameter of a look: dream params, show params, `<transform>.<param>`."""
    names = list(DREAM_PARAMS) + list(SHOW_PARAMS)
    for link in look.chain:
        names += [f"{link.name}.{p}" for p in get_transform(link.name).params]
    return names


def resolve_param(look: Look, name: str) -> ParamRef:
    """Find a parameter (see the module docstring): (chain index or None, key, spec)."""
    if name in DREAM_PARAMS:
        return None, name, DREAM_PARAMS[name]
    if name in SHOW_PARAMS:
        return None, name, SHOW_PARAMS[name]
    head, _, key = name.rpartition(".")
    candidates: list[tuple[int, str, Param]] = []
    for i, link in enumerate(look.chain):
        specs = get_transform(link.name).params
        if head and head not in (link.name, str(i)):
            continue
        if key in specs:
            candidates.append((i, key, specs[key]))
    if head and candidates:
        return candidates[0]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise ParamError(f"parameter {name!r} is ambiguous; use one of: "
                         + ", ".join(f"{look.chain[i].name}.{k}" for i, k, _ in candidates))
    raise UnknownNameError("parameter", name, param_names(look))


def param_value(look: Look, name: str, settings: Mapping[str, Value] | None = None) -> Value:
    """Current value of a named parameter (defaults included); show params read `settings`."""
    index, key, spec = resolve_param(look, name)
    if index is None:
        if key in SHOW_PARAMS:
            return (settings or {}).get(key, spec.default)
        return getattr(look.dream, key)
    return look.chain[index].params.get(key, spec.default)


def coerce(spec: Param, name: str, value: object, normalized: bool) -> Value:
    """A controller's value in the parameter's own units (0..1 mapped when `normalized`)."""
    return spec.from_normalized(value, name) if normalized else spec.validate(value, name)


def set_look_param(look: Look, ref: ParamRef, value: Value) -> Look:
    """The look with a dream or chain parameter (resolved `ref`, validated `value`) set."""
    index, key, _ = ref
    if index is None:
        return replace(look, dream=look.dream.with_param(key, value))
    chain = list(look.chain)
    chain[index] = chain[index].with_param(key, value)
    return replace(look, chain=tuple(chain))


def param_spec(name: str) -> Param | None:
    """The Param a name refers to when that is knowable without a look (None if chain-dependent).

    Raises UnknownNameError when no dream, show or transform parameter could ever match the name
    (MIDI maps are checked with it before any look exists).
    """
    if name in DREAM_PARAMS:
        return DREAM_PARAMS[name]
    if name in SHOW_PARAMS:
        return SHOW_PARAMS[name]
    head, _, key = name.rpartition(".")
    if head and not head.isdigit():
        params = get_transform(head).params
        if key not in params:
            raise UnknownNameError(f"parameter of transform {head!r}", key, sorted(params))
        return params[key]
    specs = [get_transform(t).params[key] for t in transform_names()
             if key in get_transform(t).params]
    if not specs:
        valid = list(DREAM_PARAMS) + list(SHOW_PARAMS) + sorted(
            {f"{t}.{p}" for t in transform_names() for p in get_transform(t).params})
        raise UnknownNameError("parameter", name, valid)
    return specs[0] if len(specs) == 1 and not head else None


def name_from_path(path: str) -> tuple[str, bool] | None:
    """OSC path below `param/` -> (parameter name, raw units?), or None when it is not a name.

    `zoom/scale` -> ('zoom.scale', False); `step_size/raw` -> ('step_size', True).
    """
    parts = path.split("/")
    raw = len(parts) > 1 and parts[-1] == "raw"
    name = ".".join(parts[:-1] if raw else parts)
    return (name, raw) if NAME_PATTERN.fullmatch(name) else None


def path_of_name(name: str) -> str:
    """Inverse of `name_from_path` for normalised values: 'zoom.scale' -> 'zoom/scale'."""
    return name.replace(".", "/")
