"""Apply modulators to a look: (base look, modulators, beat, audio features) -> modulated look.

Pure. Each target parameter's base value is mapped to 0..1 with its own `Param.to_normalized`,
the modulators' `depth * signal` are added, the sum is clamped to 0..1 and mapped back with
`Param.from_normalized` - so a modulated value always lies inside the parameter's range, and
log-scaled parameters swing evenly. The render loop calls this on the (eased) look every frame;
the state keeps the unmodulated base, so a modulator that stops leaves the base untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

from livedream.audio.features import AudioFeatures
from livedream.errors import LivedreamError
from livedream.look import Look
from livedream.paramnames import SHOW_PARAMS, ParamRef, param_value, resolve_param, set_look_param
from livedream.params import Param
from livedream.tempo.modulators import Modulator, signal


def _modulatable(index: int | None, key: str, spec: Param) -> bool:
    """A look parameter (not a show setting) with a numeric range."""
    if index is None and key in SHOW_PARAMS:
        return False
    return spec.lo is not None and spec.hi is not None and spec.kind in (int, float)


def check_targets(look: Look, modulators: Sequence[Modulator]) -> None:
    """Raise LivedreamError when a modulator's target is not a numeric parameter of `look`."""
    for mod in modulators:
        if not _modulatable(*resolve_param(look, mod.target)):
            raise LivedreamError(
                f"modulator target {mod.target!r} is not a numeric look parameter with a range"
            )


def modulate(
    look: Look,
    modulators: Sequence[Modulator],
    beat: float,
    features: AudioFeatures | None = None,
) -> Look:
    """The look with every enabled modulator applied at beat position `beat`.

    A modulator whose target the look does not have (the chain changed under it) is skipped:
    the show goes on, and it comes back to life when its target does.
    """
    offsets: dict[tuple[int | None, str], float] = {}
    refs: dict[tuple[int | None, str], tuple[ParamRef, str]] = {}
    for mod in modulators:
        if not mod.enabled or mod.depth == 0:
            continue
        try:
            ref = resolve_param(look, mod.target)
        except LivedreamError:
            continue
        if not _modulatable(*ref):
            continue
        refs[ref[:2]] = (ref, mod.target)
        offsets[ref[:2]] = offsets.get(ref[:2], 0.0) + mod.depth * signal(mod, beat, features)
    for target, offset in offsets.items():
        ref, name = refs[target]
        spec = ref[2]
        x = spec.to_normalized(param_value(look, name)) + offset
        look = set_look_param(look, ref, spec.from_normalized(min(1.0, max(0.0, x)), name))
    return look
