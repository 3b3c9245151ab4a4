"""Every registered transform, at the ends of every parameter range, keeps the frame contract:
same shape and dtype, finite, inside [0, 1]."""

from __future__ import annotations

import itertools

import pytest
import torch

from livedream.look import ChainLink
from livedream.params import Param
from livedream.transforms import apply_transform, get_transform, transform_names

POST_TRANSFORMS = {
    "zoom", "stretch", "rotate", "affine", "tile_affine", "roll_linear", "roll_sine",
    "roll_random", "sobel", "prewitt", "blur", "hue_shift", "channel_roll", "posterize",
    "saturation", "invert", "pixel_sort",
}  # fmt: skip


def extreme_values(param: Param) -> list:
    if param.kind is bool:
        return [False, True]
    if param.choices is not None:
        return list(param.choices)
    return [param.lo, param.hi]


def extreme_settings(name: str) -> list[dict]:
    """Each parameter alone at each extreme, plus all-low and all-high combinations."""
    params = get_transform(name).params
    settings: list[dict] = [{}]
    for key, param in params.items():
        settings += [{key: v} for v in extreme_values(param)]
    for pick in (0, -1):
        settings.append({k: extreme_values(p)[pick] for k, p in params.items()})
    return settings


FRAMES = {
    "noise": torch.rand(2, 3, 12, 16, generator=torch.Generator().manual_seed(0)),
    "black": torch.zeros(1, 3, 5, 7),
    "white": torch.ones(1, 3, 9, 4),
    "pixel": torch.rand(1, 3, 1, 1, generator=torch.Generator().manual_seed(1)),
    "line": torch.rand(1, 3, 1, 6, generator=torch.Generator().manual_seed(2)),
}


def test_every_transform_from_the_post_is_registered() -> None:
    assert POST_TRANSFORMS <= set(transform_names())


@pytest.mark.parametrize("name", transform_names())
def test_extreme_parameters_keep_the_frame_contract(name: str) -> None:
    for values, (label, frame), t in itertools.product(
        extreme_settings(name), FRAMES.items(), (0, 1, 1000)
    ):
        link = ChainLink(name, get_transform(name).validate(values))
        out = apply_transform(frame, link, t=t, seed=12345)
        where = f"{name} {values} on {label} frame at t={t}"
        assert out.shape == frame.shape and out.dtype == frame.dtype, where
        assert torch.isfinite(out).all(), where
        assert out.min() >= 0 and out.max() <= 1, where


@pytest.mark.parametrize("name", sorted(POST_TRANSFORMS))
def test_defaults_change_a_noise_frame(name: str) -> None:
    """At their defaults the post's transforms do something (none is a silent no-op)."""
    frame = FRAMES["noise"]
    out = apply_transform(frame, ChainLink(name), t=1, seed=1)
    assert not torch.equal(out, frame), name
