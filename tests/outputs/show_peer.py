"""`livedream run` (livedream.cli.main) with the tiny test model, for subprocess tests.

    SHOW_PEER_DELAY=0.05 python -m tests.outputs.show_peer run --headless ...

SHOW_PEER_DELAY (seconds, default 0) is slept in each forward pass: the tiny net dreams far
faster than a real one, and a show whose dream outruns the output rate is not the case to test.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Collection

from torch import Tensor

import livedream.models.registry as registry
from livedream.cli import main
from tests.tiny_model import TinyDreamModel


class SlowTinyModel(TinyDreamModel):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        time.sleep(self.delay)
        return super().forward_blobs(x, wanted)


def tiny_model(name: str, weights: str | None = None, device: object = "cpu") -> TinyDreamModel:
    return SlowTinyModel(float(os.environ.get("SHOW_PEER_DELAY", "0")))


if __name__ == "__main__":
    registry.load_model = tiny_model  # the run CLI looks it up when the show starts
    sys.exit(main(sys.argv[1:]))
