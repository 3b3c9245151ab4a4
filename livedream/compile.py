"""Opt-in `--compile`: the network's forward pass through `torch.compile`, for the fixed-size live
step on a GPU (fused kernels, fewer launches). Never on the default start path: compiling takes
from seconds to minutes and is cached by torch (inductor's on-disk cache) across runs.

Only the forward (preprocess + layers up to the deepest dreamed one) is compiled, one graph per
layer selection; the gradient flows through it as usual (AOTAutograd builds the backward), and
the dream step around it (jitter, normalisation, update) stays eager, so outputs equal the eager
step up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import torch
from torch import Tensor

from livedream.models.base import DreamModel


def compile_model(model: DreamModel, backend: str = "inductor",
                  mode: str | None = None) -> DreamModel:
    """Make `model.forward_blobs` run compiled (per frozen layer set, built on first use).

    Returns the same model object (its forward is swapped in place). `backend` / `mode` are
    torch.compile's ('inductor'; 'reduce-overhead' adds CUDA graphs on a GPU).
    """
    if getattr(model, "_livedream_compiled", False):
        return model
    eager = model.forward_blobs
    compiled: dict[frozenset[str], Callable[[Tensor], dict[str, Tensor]]] = {}

    def forward_blobs(x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        key = frozenset(wanted)
        fn = compiled.get(key)
        if fn is None:
            model.check_layers(sorted(key))  # a bad name is a clear error, not a compile error

            def run(t: Tensor, names: frozenset[str] = key) -> dict[str, Tensor]:
                return eager(t, names)

            fn = torch.compile(run, backend=backend, mode=mode, dynamic=False)
            compiled[key] = fn
        return fn(x)

    model.forward_blobs = forward_blobs  # type: ignore[method-assign]
    model._livedream_compiled = True  # type: ignore[attr-defined]
    return model
