"""Numerical safety: extreme parameters never produce NaN/inf or out-of-range frames, and the
render loop recovers (re-seeds, with a log line) from a degenerate frame injected by a model or a
transform.

Oracles: `torch.isfinite` and the [0, 1] frame contract on every produced frame; the re-seeded
buffer is compared with the loop's own start image.
"""

from __future__ import annotations

import itertools
import logging

import pytest
import torch

from livedream.command_queue import CommandQueue
from livedream.commands import Reset, SetChain, SetParam
from livedream.dream import dream_step
from livedream.live.clock import FakeClock
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look
from livedream.params import Param
from livedream.state import State
from livedream.transforms import get_transform, registry, transform_names
from livedream.transforms.registry import transform
from tests.tiny_model import TinyDreamModel

SIZE = (32, 24)  # (w, h)


def extreme_values(spec: Param) -> list[object]:
    """The values at the edges of a parameter's domain (and 0 for ranges that contain it)."""
    if spec.kind is bool:
        return [False, True]
    if spec.choices is not None:
        return list(spec.choices)
    values = [spec.lo, spec.hi]
    if spec.lo is not None and spec.hi is not None and spec.lo < 0 < spec.hi:
        values.append(0)
    return [spec.kind(v) for v in values if v is not None]


def awkward_frames() -> list[torch.Tensor]:
    """Inputs that break naive code: black, white, flat grey, one bright pixel, noise."""
    h, w = SIZE[1], SIZE[0]
    gen = torch.Generator().manual_seed(3)
    spike = torch.zeros(1, 3, h, w)
    spike[..., h // 2, w // 2] = 1.0
    return [torch.zeros(1, 3, h, w), torch.ones(1, 3, h, w), torch.full((1, 3, h, w), 0.5),
            spike, torch.rand(1, 3, h, w, generator=gen)]


def assert_valid_frame(frame: torch.Tensor, what: str) -> None:
    assert frame.shape == (1, 3, SIZE[1], SIZE[0]), f"{what}: shape {tuple(frame.shape)}"
    assert frame.dtype == torch.float32, what
    assert torch.isfinite(frame).all(), f"{what}: non-finite values"
    assert float(frame.min()) >= 0.0 and float(frame.max()) <= 1.0, (
        f"{what}: values outside [0, 1]: {float(frame.min())}..{float(frame.max())}")


@pytest.mark.parametrize("name", transform_names())
def test_every_transform_at_every_parameter_extreme_stays_finite_and_in_range(name):
    spec = get_transform(name)
    keys = list(spec.params)
    # Each parameter alone at each extreme (others default), then all at lo / all at hi together.
    cases: list[dict[str, object]] = [{}]
    for key in keys:
        cases += [{key: v} for v in extreme_values(spec.params[key])]
    for pick in (0, 1):
        cases.append({k: extreme_values(spec.params[k])[min(pick, len(
            extreme_values(spec.params[k])) - 1)] for k in keys})
    for params, frame in itertools.product(cases, awkward_frames()):
        link = ChainLink(name, spec.validate(params))
        out = frame
        for t in (0, 1, 7):  # a few feedback steps: errors compound under feedback
            out = get_transform(name).fn(out, **{**spec.defaults(), **link.params,
                                               **{c: t for c in spec.context if c == "t"},
                                               **{c: 5 for c in spec.context if c == "seed"}})
            assert_valid_frame(out, f"{name}{params} at t={t}")


def test_dream_step_with_extreme_settings_on_degenerate_inputs_stays_finite():
    model = TinyDreamModel()
    gen = torch.Generator().manual_seed(0)
    settings = [
        DreamSettings(step_size=20.0, iterations=3, jitter=128),
        DreamSettings(step_size=0.0, iterations=2, jitter=0),
        DreamSettings(step_size=20.0, iterations=1, jitter=0, channel=4095 % 8),
    ]
    for s, frame in itertools.product(settings, awkward_frames()):
        out = dream_step(model, frame, ["conv1", "relu3"], s, generator=gen)
        assert_valid_frame(out, f"dream_step {s}")


EXTREME_CHAINS: list[tuple[ChainLink, ...]] = [
    (ChainLink("zoom", {"scale": 0.5}), ChainLink("blur", {"sigma": 20.0})),
    (ChainLink("zoom", {"scale": -0.5}), ChainLink("blur", {"sigma": 0.0})),
    (ChainLink("zoom", {"scale": 0.0}), ChainLink("pixel_sort", {"lo": 0.0, "hi": 1.0})),
    (ChainLink("pixel_sort", {"lo": 1.0, "hi": 0.0, "axis": "columns"}),),
    (ChainLink("roll_random", {"lo": -100, "hi": 100, "group": 64, "odd_scale": 4.0}),
     ChainLink("roll_sine", {"amplitude": 200.0, "frequency": 20.0, "speed": 3.0})),
    (ChainLink("affine", {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0}),),  # singular: one colour
    (ChainLink("affine", {"a": 4.0, "b": -4.0, "c": 4.0, "d": 4.0, "tx": 1.0, "ty": -1.0}),
     ChainLink("sobel", {"gain": 8.0}), ChainLink("saturation", {"amount": 4.0})),
    (ChainLink("posterize", {"levels": 2}), ChainLink("invert"), ChainLink("prewitt")),
]


def test_long_feedback_run_with_extreme_parameters_never_shows_a_bad_frame(caplog):
    """200 frames through the real loop and dream step, cycling through extreme looks."""
    queue = CommandQueue()
    display = HeadlessDisplay(queue)
    look = Look(model="tiny", layers=("relu2",), dream=DreamSettings(
        step_size=20.0, iterations=1, jitter=128), chain=EXTREME_CHAINS[0])
    loop = RenderLoop(State(look=look), queue, display, model=TinyDreamModel(), clock=FakeClock(),
                      size=SIZE)
    caplog.set_level(logging.WARNING, logger="livedream.live.loop")
    frames = 200
    per_chain = frames // len(EXTREME_CHAINS)
    for i in range(frames):
        if i % per_chain == 0 and i // per_chain < len(EXTREME_CHAINS):
            chain = EXTREME_CHAINS[i // per_chain]
            loop.state = State(look=Look(model="tiny", layers=("relu2",), dream=look.dream,
                                         chain=chain))
        if i == 150:  # parameter extremes through the command path as a controller sends them
            for name in DREAM_PARAMS:  # (iterations kept low: 50 per frame is only slow)
                if name != "iterations":
                    queue.put(SetParam(name, 1.0, normalized=True))
            queue.put(SetChain(("zoom", "blur")))
            queue.put(SetParam("zoom.scale", 1.0, normalized=True))
            queue.put(SetParam("blur.sigma", 1.0, normalized=True))
        assert loop.tick()
        assert_valid_frame(display.last_frame, f"frame {i} chain {loop.state.look.chain}")
    assert display.frames_shown == frames
    # The singular affine maps everything to one colour: the loop must have noticed and re-seeded.
    stats = loop.stats()
    assert stats.reseeds >= 1
    assert any("flat frame, buffer re-seeded" in r.getMessage() for r in caplog.records)


class NanModel(TinyDreamModel):
    """Tiny model whose activations turn NaN on chosen calls (a blown-up net / driver bug)."""

    def __init__(self) -> None:
        super().__init__()
        self.poison = False

    def forward_blobs(self, x, wanted):
        out = super().forward_blobs(x, wanted)
        if self.poison:
            return {k: v * float("nan") for k, v in out.items()}
        return out


def run_nan_model_frames(loop: RenderLoop, model: NanModel, display: HeadlessDisplay) -> None:
    for i in range(6):
        model.poison = i in (2, 3)
        assert loop.tick()
        assert_valid_frame(display.last_frame, f"frame {i}")


def test_nan_from_the_model_never_reaches_the_screen():
    """The dream step treats a NaN gradient as no step: the frame stays finite."""
    model = NanModel()
    queue = CommandQueue()
    display = HeadlessDisplay(queue)
    look = Look(model="tiny", layers=("relu2",), chain=())
    loop = RenderLoop(State(look=look), queue, display, model=model, clock=FakeClock(), size=SIZE)
    run_nan_model_frames(loop, model, display)


_POISON = {"on": False}


def _nan_poison(frame: torch.Tensor) -> torch.Tensor:
    """Test-only transform: NaN everywhere while the flag is on (a buggy transform)."""
    return frame * float("nan") if _POISON["on"] else frame


@pytest.fixture
def poison_transform(monkeypatch):
    """Register `test_nan_poison` for one test only (the registry is left as it was)."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    transform("test_nan_poison")(_nan_poison)


def test_nan_transform_is_detected_and_the_buffer_reseeded_with_a_log_line(caplog,
                                                                            poison_transform):
    queue = CommandQueue()
    display = HeadlessDisplay(queue)
    look = Look(model="tiny", layers=("relu2",), chain=(ChainLink("test_nan_poison"),))
    loop = RenderLoop(State(look=look), queue, display, model=TinyDreamModel(), clock=FakeClock(),
                      size=SIZE)
    start = loop._start_image.clone()
    caplog.set_level(logging.WARNING, logger="livedream.live.loop")
    try:
        for _ in range(3):
            loop.tick()
        _POISON["on"] = True
        loop.tick()
        # The NaN frame was replaced by the seed frame (the start image: no live source here).
        assert_valid_frame(display.last_frame, "re-seeded frame")
        assert torch.equal(display.last_frame, start)
        for _ in range(20):  # a transform stuck producing NaN: every frame recovered, log limited
            loop.tick()
            assert_valid_frame(display.last_frame, "while poisoned")
        _POISON["on"] = False
        for _ in range(3):
            loop.tick()
            assert_valid_frame(display.last_frame, "after recovery")
    finally:
        _POISON["on"] = False
    assert loop.stats().reseeds == 21
    lines = [r.getMessage() for r in caplog.records if "non-finite frame" in r.getMessage()]
    assert 1 <= len(lines) <= 2, lines  # rate-limited: not one line per frame
    # a reset afterwards still works (the loop is in a normal state)
    queue.put(Reset())
    loop.tick()
    assert loop.state.reset_count == 1


def test_flat_frame_from_the_model_is_reseeded():
    """A dream that returns one flat colour (dead activations) is detected as degenerate."""
    calls = {"n": 0}

    def flat_dream(model, frame, layers, settings, generator=None, guide=None):
        calls["n"] += 1
        return torch.full_like(frame, 0.3) if calls["n"] == 2 else frame

    queue = CommandQueue()
    display = HeadlessDisplay(queue)
    loop = RenderLoop(State(look=Look(model="tiny", layers=("relu2",), chain=())), queue,
                      display, model=TinyDreamModel(), clock=FakeClock(), size=SIZE,
                      dream_fn=flat_dream)
    loop.tick()
    loop.tick()
    assert loop.stats().reseeds == 1
    assert torch.equal(display.last_frame, loop._start_image)
