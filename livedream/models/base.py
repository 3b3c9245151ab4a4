"""The interface every dreamable network implements.

A `DreamModel` takes frames as RGB floats in [0, 1] (the feedback buffer's format), applies its own
preprocessing (colour order, mean/std or Caffe mean subtraction) and returns named activations.
Weights are frozen: only the input gradient is ever computed. Subclasses implement
`layer_names` and `forward_blobs`, which must stop after the deepest requested layer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from livedream.errors import LivedreamError, UnknownNameError

Step = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Preprocess:
    """How an RGB [0,1] frame becomes network input: x*scale, optional RGB->BGR, (x-mean)/std.

    mean/std are given in the network's channel order and in scaled units.
    """

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    scale: float = 1.0
    bgr: bool = False

    @classmethod
    def caffe(cls, mean_bgr: tuple[float, float, float] = (104.0, 117.0, 123.0)) -> Preprocess:
        """Caffe convention: 0..255 BGR with per-channel mean subtracted (BVLC GoogLeNet's)."""
        return cls(mean=mean_bgr, std=(1.0, 1.0, 1.0), scale=255.0, bgr=True)


class DreamModel(nn.Module):
    """A frozen CNN exposing named layers for DeepDream objectives."""

    def __init__(self, name: str, preprocess: Preprocess) -> None:
        super().__init__()
        self.name = name
        self.preprocessing = preprocess
        self.register_buffer("_mean", torch.tensor(preprocess.mean).view(1, 3, 1, 1), False)
        self.register_buffer("_std", torch.tensor(preprocess.std).view(1, 3, 1, 1), False)

    # --- to implement -------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Dreamable layer (blob) names in forward order."""
        raise NotImplementedError

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        """Run the network on preprocessed input `x`, returning the `wanted` blobs.

        Must stop computing after the deepest wanted layer (live speed depends on it).
        """
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------
    def run_layers(
        self, x: Tensor, wanted: Collection[str], steps: Iterable[tuple[str, Step]]
    ) -> dict[str, Tensor]:
        """`forward_blobs` for a chain of named steps: run them in order, keep the wanted outputs,
        stop after the last wanted one. Inputs follow the weights' memory format (channels_last
        when `place_on_device` chose it)."""
        remaining = set(wanted)
        self.check_layers(sorted(remaining))
        if getattr(self, "channels_last", False):
            x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, Tensor] = {}
        for name, step in steps:
            if not remaining:
                break
            x = step(x)
            if name in remaining:
                out[name] = x
                remaining.discard(name)
        return out

    def freeze(self) -> DreamModel:
        """Eval mode and no parameter gradients: only the input gradient is computed."""
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)
        return self

    @property
    def device(self) -> torch.device:
        return self._mean.device

    def preprocess(self, rgb01: Tensor) -> Tensor:
        """RGB [0,1] frames [B,3,H,W] -> network input, on the frame's device and dtype."""
        x = rgb01 * self.preprocessing.scale if self.preprocessing.scale != 1.0 else rgb01
        if self.preprocessing.bgr:
            x = x.flip(1)
        mean = self._mean.to(device=x.device, dtype=x.dtype)
        std = self._std.to(device=x.device, dtype=x.dtype)
        return (x - mean) / std

    def check_layers(self, layers: Sequence[str]) -> None:
        """Raise UnknownNameError (listing the valid names) for any layer this model lacks."""
        valid = self.layer_names()
        known = set(valid)
        for layer in layers:
            if layer not in known:
                raise UnknownNameError(f"layer of model {self.name!r}", layer, valid)

    def features(self, rgb01: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        """Activations of `layers` for RGB [0,1] frames (gradients flow to the input)."""
        self.check_layers(layers)
        return self.forward_blobs(self.preprocess(rgb01), set(layers))

    @torch.no_grad()
    def layer_shapes(self, height: int, width: int) -> dict[str, tuple[int, ...]]:
        """Output shape of every layer that can run on a 1x3xHxW input, in forward order.

        Layers that cannot take this size (a classifier's fixed-size InnerProduct at a frame
        size the net was not trained on) and everything after them are left out: they are not
        dreamable at this size. The longest runnable prefix is found by bisection.
        """
        names = self.layer_names()
        x = self.preprocess(torch.rand(1, 3, height, width, device=self.device))

        def attempt(count: int) -> dict[str, Tensor] | None:
            try:
                return self.forward_blobs(x, set(names[:count]))
            except (RuntimeError, ValueError, LivedreamError):
                return None

        blobs = attempt(len(names))
        if blobs is None:
            good, bad, blobs = 0, len(names), {}
            while bad - good > 1:
                mid = (good + bad) // 2
                found = attempt(mid)
                if found is None:
                    bad = mid
                else:
                    good, blobs = mid, found
        return {n: tuple(blobs[n].shape) for n in names if n in blobs}
