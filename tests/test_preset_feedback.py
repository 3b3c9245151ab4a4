"""Shipped presets' transform chains are stable in feedback: run alone for many frames they keep
the picture, neither eating it into black borders (rotating or zooming out past the frame edge)
nor compounding a colour boost until channels clip to flat primaries.

The dream step is left out on purpose: it adds detail but cannot fill a black border fast enough
or undo a per-frame saturation gain, so a chain that fails here looks broken in the show.
Edge presets (Sobel/Prewitt) are excluded: they are balanced against the dream by design.
"""

from __future__ import annotations

import pytest
import torch

from livedream.presets import default_presets_dir, list_presets, load_preset
from livedream.sources import generated_image
from livedream.transforms.registry import apply_chain

EDGE_OPS = {"sobel", "prewitt"}
PRESETS = {
    name: load_preset(path) for name, path in sorted(list_presets([default_presets_dir()]).items())
}
FEEDBACK_PRESETS = sorted(
    name for name, preset in PRESETS.items()
    if not EDGE_OPS & {link.name for link in preset.look.chain}
)
FRAMES = 150


def run_chain(name: str, size: tuple[int, int]) -> torch.Tensor:
    """The preset's chain applied FRAMES times to the built-in start image (no dream)."""
    preset = PRESETS[name]
    frame = generated_image(size, 0)
    for t in range(FRAMES):
        frame = apply_chain(frame, preset.look.chain, t=t, seed=preset.seed)
    return frame


@pytest.mark.parametrize("size", [(128, 72), (72, 128), (168, 72)], ids=["16:9", "9:16", "21:9"])
@pytest.mark.parametrize("name", FEEDBACK_PRESETS)
def test_chain_keeps_the_picture_in_feedback(name: str, size: tuple[int, int]) -> None:
    frame = run_chain(name, size)
    black = (frame.amax(dim=1) < 0.02).float().mean().item()
    clipped = ((frame <= 0.002) | (frame >= 0.998)).float().mean().item()
    assert black < 0.01, f"{name}: {black:.1%} of the frame went black after {FRAMES} frames"
    assert clipped < 0.05, f"{name}: {clipped:.1%} of channel values clipped after {FRAMES} frames"


def test_the_check_catches_a_border_eating_chain() -> None:
    """The oracle itself: a rotation without enough zoom must fail it (black corners)."""
    from livedream.look import ChainLink

    frame = generated_image((128, 72), 0)
    for t in range(FRAMES):
        frame = apply_chain(frame, (ChainLink("rotate", {"degrees": 2.0, "scale": 0.0}),), t=t)
    assert (frame.amax(dim=1) < 0.02).float().mean().item() > 0.05
