"""Registry of feedback transforms: pure functions on [B,C,H,W] tensors, looked up by name.

A transform is `op(frame, **params) -> frame`, with device and dtype taken from `frame`. Two
context parameters are injected by `apply_chain` when an op declares them: `t` (frame index, for
effects that evolve over time such as a sine phase or alternating axes) and `seed` (base seed for
stochastic effects; the op derives its generator from seed and t, so it stays a pure function).

A geometric transform also declares its per-frame `motion(params, width, height)`: the 3x3
output->input map it applies, in (x, y) pixel coordinates (origin at the centre of the top-left
pixel, y down), `[x_in, y_in, 1] = M @ [x_out, y_out, 1]`. The op samples through it, and the
window shader and the output compositor continue it between dream frames (`link_motion`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import Tensor

from livedream.errors import UnknownNameError
from livedream.look import ChainLink
from livedream.params import Param, Value, validate_params

CONTEXT_ARGS = ("t", "seed")

#: `motion(params, width, height)` -> 3x3 output->input map in (x, y) pixel coordinates.
MotionFn = Callable[[Mapping[str, Value], int, int], np.ndarray]


@dataclass(frozen=True)
class TransformSpec:
    """A registered transform: its function, its parameters (with ranges) and a one-line doc."""

    name: str
    fn: Callable[..., Tensor]
    params: dict[str, Param]
    doc: str
    context: tuple[str, ...] = field(default=())
    motion: MotionFn | None = None  # geometric transforms only (see the module docstring)

    def defaults(self) -> dict[str, Value]:
        return {k: p.default for k, p in self.params.items()}

    def validate(self, values: dict[str, Any], where: str | None = None) -> dict[str, Value]:
        return validate_params(self.params, values, where or f"transform {self.name}")


_REGISTRY: dict[str, TransformSpec] = {}


Op = Callable[..., Tensor]


def transform(name: str, *, motion: MotionFn | None = None, **params: Param) -> Callable[[Op], Op]:
    """Decorator: register `fn` under `name` with its parameter specs (and, for a geometric
    transform, the per-frame `motion` it applies)."""

    def register(fn: Op) -> Op:
        if name in _REGISTRY:
            raise ValueError(f"transform {name!r} registered twice")
        sig = inspect.signature(fn).parameters
        missing = [p for p in params if p not in sig]
        if missing:
            raise TypeError(f"transform {name!r}: {missing} not in {fn.__name__}'s signature")
        context = tuple(c for c in CONTEXT_ARGS if c in sig)
        doc = (inspect.getdoc(fn) or "").split("\n")[0]
        _REGISTRY[name] = TransformSpec(name, fn, dict(params), doc, context, motion)
        return fn

    return register


def _ensure_loaded() -> None:
    # Importing the package registers every built-in transform.
    import livedream.transforms  # noqa: F401


def get_transform(name: str) -> TransformSpec:
    """Spec for `name`, or UnknownNameError listing all transforms."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("transform", name, sorted(_REGISTRY)) from None


def transform_names() -> list[str]:
    _ensure_loaded()
    return sorted(_REGISTRY)


def make_link(
    name: str, params: dict[str, Any] | None = None, where: str | None = None
) -> ChainLink:
    """A validated ChainLink (unknown transform or bad parameter values raise)."""
    spec = get_transform(name)
    return ChainLink(name, spec.validate(dict(params or {}), where))


def link_motion(link: ChainLink, width: int, height: int) -> np.ndarray | None:
    """The per-frame 3x3 pixel map of one link (its parameters over the defaults), or None for a
    transform that declares no motion (colour, glitch, tiles...)."""
    spec = get_transform(link.name)
    if spec.motion is None:
        return None
    return spec.motion({**spec.defaults(), **link.params}, width, height)


def apply_transform(frame: Tensor, link: ChainLink, t: int = 0, seed: int = 0) -> Tensor:
    """Apply one chain link with its parameters over the defaults, injecting context args."""
    spec = get_transform(link.name)
    kwargs: dict[str, Any] = {**spec.defaults(), **link.params}
    if "t" in spec.context:
        kwargs["t"] = t
    if "seed" in spec.context:
        kwargs["seed"] = seed
    return spec.fn(frame, **kwargs)


def apply_chain(frame: Tensor, chain: Sequence[ChainLink], t: int = 0, seed: int = 0) -> Tensor:
    """Apply every enabled link in order (the feedback transform between dream steps)."""
    for i, link in enumerate(chain):
        if link.enabled:
            frame = apply_transform(frame, link, t=t, seed=seed + 7919 * i)
    return frame
