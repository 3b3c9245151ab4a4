"""A tiny random-weight `DreamModel` for fast tests (no weight files, milliseconds per step).

Layers, in forward order: conv1, relu1, pool1, conv2, relu2, pool2, conv3, relu3 (VGG-style
names, 8/16/24 channels). Weights are seeded, so every test sees the same network.
`tiny_load_model` mimics `livedream.models.registry.load_model` for monkeypatching.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import Tensor, nn

from livedream.models.base import DreamModel, Preprocess


class TinyDreamModel(DreamModel):
    """Three conv blocks with seeded random weights; stops after the deepest wanted layer."""

    def __init__(self, seed: int = 0, name: str = "tiny") -> None:
        super().__init__(name, Preprocess())
        gen = torch.Generator().manual_seed(seed)
        widths = [(3, 8), (8, 16), (16, 24)]
        self.convs = nn.ModuleList()
        for cin, cout in widths:
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            with torch.no_grad():
                he_std = (2.0 / (9 * cin)) ** 0.5
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * he_std)
                conv.bias.copy_(torch.randn(cout, generator=gen) * 0.05)
            self.convs.append(conv)
        self._ops: list[tuple[str, nn.Module]] = []
        for i, conv in enumerate(self.convs, start=1):
            self._ops.append((f"conv{i}", conv))
            self._ops.append((f"relu{i}", nn.ReLU()))
            if i < len(self.convs):
                self._ops.append((f"pool{i}", nn.MaxPool2d(2)))
        self.freeze()

    def layer_names(self) -> list[str]:
        return [name for name, _ in self._ops]

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        return self.run_layers(x, wanted, self._ops)


def tiny_load_model(
    name_or_prototxt: str = "tiny", weights: str | None = None, device: object = None
) -> TinyDreamModel:
    """Stand-in for the registry's `load_model`: any name gives the tiny model on `device`."""
    model = TinyDreamModel()
    return model.to(device) if device is not None else model
