"""Done-means of issue 13 on a synthetic clip (a textured square moving right by k px a frame):
with flow the dreamed pattern on the square moves with it, without flow it stays; the motion
gate is high over the moving square and low on the still background.

The driver is the flow pipeline the render loop runs: threaded source (flow on its thread) ->
warp -> dream step (TinyDreamModel) -> gated source blend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livedream.dream import dream_step
from livedream.flow.clip import write_moving_video
from livedream.flow.feedback import FlowFeedback
from livedream.flow.params import FlowSettings
from livedream.threaded_source import ThreadedSource, open_threaded
from tests.flow.helpers import CLIP, DREAM, SOURCE_MIX, dreamed_shifts
from tests.tiny_model import TinyDreamModel


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_moving_video(tmp_path_factory.mktemp("clip") / "moving.mp4", CLIP)


def run_pipeline(video: Path, settings: FlowSettings, frames: int = 6
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
