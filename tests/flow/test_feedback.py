"""Done-means of issue 13 on a synthetic clip (a textured square moving right by k px a frame):
with flow the dreamed pattern on the square moves with it, without flow it stays; the motion
gate is high over the moving square and low on the still background.

The driver is the flow pipeline the render loop runs: threaded source (flow on its thread) ->
warp -> dream step (TinyDreamModel) -> gated source blend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.dream import dream_step
from livedream.flow.clip import MovingSquare, write_moving_video
from livedream.flow.feedback import FlowFeedback
from livedream.flow.params import FlowSettings
from livedream.look import DreamSettings
from livedream.threaded_source import ThreadedSource, open_threaded
from tests.tiny_model import TinyDreamModel

CLIP = MovingSquare(size=(128, 96), side=32, x0=16, y0=32, step=3, frames=12)
DREAM = DreamSettings(step_size=4.0, iterations=2, jitter=4)
SOURCE_MIX = 0.1


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_moving_video(tmp_path_factory.mktemp("clip") / "moving.mp4", CLIP)


def run_pipeline(video: Path, settings: FlowSettings, frames: int = 8
                 ) -> tuple[list[torch.Tensor], list[torch.Tensor], FlowFeedback]:
    """Dream `frames` frames on the clip; returns the buffers, the source frames, the feedback."""
    model = TinyDreamModel()
    generator = torch.Generator().manual_seed(0)
    feedback = FlowFeedback()
    buffers, sources = [], []
    src = open_threaded(str(video), CLIP.size, flow=settings.needs_flow,
                        flow_scale=settings.flow_scale)
    assert isinstance(src, ThreadedSource)
    with src:
        first = src.latest(wait=5)
        buffer = first.frame
        for _ in range(frames):
            sample = src.latest(wait=5)
            assert sample.fresh
            buffer = feedback.warp(buffer, sample, settings)
            buffer = dream_step(model, buffer, ["relu2"], DREAM, generator)
            buffer = feedback.blend(buffer, sample, settings, SOURCE_MIX)
            buffers.append(buffer)
            sources.append(sample.frame)
    return buffers, sources, feedback


def peak_shift(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int],
               search: int = 8) -> tuple[int, int]:
    """(dx, dy) maximising the normalised cross-correlation of a's `box` (x, y, w, h) in b."""
    x, y, w, h = box
    template = a[:, y : y + h, x : x + w]
    template = template - template.mean()
    best, best_shift = -np.inf, (0, 0)
    for dy in range(-search, search + 1):
        for dx in range(-search, search + 1):
            window = b[:, y + dy : y + dy + h, x + dx : x + dx + w]
            window = window - window.mean()
            score = (template * window).sum() / (
                np.linalg.norm(template) * np.linalg.norm(window) + 1e-12)
            if score > best:
                best, best_shift = score, (dx, dy)
    return best_shift


def dreamed_shifts(buffers: list[torch.Tensor], sources: list[torch.Tensor]) -> list[int]:
    """Per frame pair: the x shift of the dreamed pattern (buffer minus scene) on the square."""
    shifts = []
    for i in range(2, len(buffers) - 1):  # frame i of the loop shows clip frame i + 1
        dream_a = (buffers[i] - sources[i])[0].numpy()
        dream_b = (buffers[i + 1] - sources[i + 1])[0].numpy()
        x = CLIP.x(i + 1)
        box = (x + 4, CLIP.y0 + 4, CLIP.side - 8, CLIP.side - 8)
        dx, dy = peak_shift(dream_a, dream_b, box)
        assert abs(dy) <= 1
        shifts.append(dx)
    return shifts


def test_with_flow_the_dream_moves_with_the_square(video: Path) -> None:
    settings = FlowSettings(flow=True, flow_scale=0.5)
    buffers, sources, _ = run_pipeline(video, settings)
    shifts = dreamed_shifts(buffers, sources)
    assert all(abs(dx - CLIP.step) <= 1 for dx in shifts), shifts


def test_without_flow_the_dream_stays_put(video: Path) -> None:
    buffers, sources, _ = run_pipeline(video, FlowSettings(flow=False))
    shifts = dreamed_shifts(buffers, sources)
    assert all(abs(dx) <= 1 for dx in shifts), shifts


def test_gate_is_high_on_the_moving_square_and_low_on_the_still_background(video: Path) -> None:
    settings = FlowSettings(gate=True, gate_threshold=1.0, gate_decay=0.5)
    buffers, sources, feedback = run_pipeline(video, settings, frames=6)
    mask = feedback.mask
    assert mask is not None and mask.shape == (1, 1, CLIP.size[1], CLIP.size[0])
    x = CLIP.x(6)  # the last frame taken
    square = mask[0, 0, CLIP.y0 + 4 : CLIP.y0 + CLIP.side - 4, x + 4 : x + CLIP.side - 4]
    background = torch.cat([mask[0, 0, : CLIP.y0 - 8].flatten(),
                            mask[0, 0, CLIP.y0 + CLIP.side + 8 :].flatten()])
    assert square.mean() > 0.6, float(square.mean())
    assert background.mean() < 0.05, float(background.mean())
    # Where the gate is open the source shows through: the buffer is the scene on the square.
    scene_gap = (buffers[-1] - sources[-1]).abs()[0].mean(dim=0)
    still_gap = scene_gap[: CLIP.y0 - 8].mean()
    moving_gap = scene_gap[CLIP.y0 + 4 : CLIP.y0 + CLIP.side - 4, x + 4 : x + CLIP.side - 4].mean()
    assert moving_gap < 0.5 * still_gap, (float(moving_gap), float(still_gap))
