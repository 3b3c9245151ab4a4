"""The optimisations bench/ measured, checked for unchanged results: channels_last on the CPU
(now the default), opt-in bf16/fp16 autocast (autocast off = exactly the fp32 path), and the
OpenMP wait policy `import livedream` sets."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import torch

from livedream.dream import dream_step
from livedream.look import DreamSettings
from livedream.models.registry import load_model

STILL = DreamSettings(step_size=1.5, iterations=1, jitter=0)
SIZE = (48, 64)  # H, W


@pytest.fixture(scope="module")
def vgg():
    return load_model("vgg16")


@pytest.fixture(scope="module")
def frame():
    gen = torch.Generator().manual_seed(5)
    coarse = torch.rand(1, 3, 6, 8, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=SIZE, mode="bicubic").clamp(0, 1)


def test_cpu_model_is_channels_last_and_dreams_the_same(vgg, frame):
    assert vgg.channels_last is True
    assert vgg.convs["conv1_1"].weight.is_contiguous(memory_format=torch.channels_last)
    plain = copy.deepcopy(vgg).to(memory_format=torch.contiguous_format)
    plain.channels_last = False
    a = dream_step(plain, frame, ["conv4_3"], STILL)
    b = dream_step(vgg, frame, ["conv4_3"], STILL)
    assert b.is_contiguous()  # the frame keeps its own memory format
    step = (a - frame).abs().mean()
    assert (a - b).abs().mean() < 1e-3 * step
    assert (a - b).abs().max() < 2e-3


def test_autocast_off_is_exactly_the_fp32_step(vgg, frame):
    settings = DreamSettings(step_size=1.5, iterations=2, jitter=8)
    a = dream_step(vgg, frame, ["conv3_3"], settings, torch.Generator().manual_seed(1))
    b = dream_step(vgg, frame, ["conv3_3"], settings, torch.Generator().manual_seed(1),
                   autocast=None)
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_step_is_close_to_fp32(vgg, frame, dtype):
    full = dream_step(vgg, frame, ["conv3_3"], STILL) - frame
    half = dream_step(vgg, frame, ["conv3_3"], STILL, autocast=dtype)
    assert half.dtype == torch.float32 and torch.isfinite(half).all()
    low = half - frame
    # same ascent direction, same size of step (the step is normalised by mean |gradient|)
    cosine = torch.nn.functional.cosine_similarity(full.flatten(), low.flatten(), dim=0)
    assert cosine > 0.95
    assert float(low.abs().mean()) == pytest.approx(float(full.abs().mean()), rel=0.05)


def _omp_policy(env: dict[str, str]) -> str:
    code = "import livedream, os; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_import_sets_passive_openmp_wait_unless_told_otherwise():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _omp_policy(env) == "PASSIVE"
    assert _omp_policy({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
