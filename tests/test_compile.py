"""`--compile`: the compiled forward gives the eager dream step's result."""

from __future__ import annotations

import pytest
import torch

from livedream.compile import compile_model
from livedream.dream import dream_step
from livedream.errors import LivedreamError
from livedream.look import DreamSettings
from tests.tiny_model import TinyDreamModel

SETTINGS = DreamSettings(step_size=3.0, iterations=2, jitter=4)


def _steps(model: TinyDreamModel, frame: torch.Tensor) -> torch.Tensor:
    return dream_step(model, frame, ["relu2"], SETTINGS, torch.Generator().manual_seed(3))


@pytest.mark.parametrize("backend", ["aot_eager", pytest.param("inductor", marks=pytest.mark.slow)])
def test_compiled_step_equals_the_eager_step(backend: str) -> None:
    torch._dynamo.reset()
    frame = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    eager = _steps(TinyDreamModel(), frame)
    model = compile_model(TinyDreamModel(), backend=backend)
    assert compile_model(model) is model  # compiling twice is a no-op
    torch.testing.assert_close(_steps(model, frame), eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(_steps(model, frame), eager, rtol=1e-5, atol=1e-6)  # cached graph


def test_unknown_layer_is_a_clear_error() -> None:
    model = compile_model(TinyDreamModel(), backend="aot_eager")
    with pytest.raises(LivedreamError, match="conv9"):
        model.forward_blobs(torch.rand(1, 3, 16, 16), {"conv9"})
