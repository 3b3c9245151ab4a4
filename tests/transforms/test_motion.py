"""Each geometric transform declares its per-frame motion once; the op samples through it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from livedream.look import ChainLink
from livedream.transforms import apply_chain, get_transform, transform_names
from livedream.transforms.geometry import warp
from livedream.transforms.registry import link_motion

GEOMETRIC = [name for name in transform_names() if get_transform(name).motion is not None]


def test_the_affine_family_declares_motion_and_others_do_not():
    assert set(GEOMETRIC) == {"zoom", "stretch", "rotate", "affine"}
    assert link_motion(ChainLink("tile_affine", {}), 64, 48) is None


@pytest.mark.parametrize("name", GEOMETRIC)
def test_op_is_its_declared_motion(name):
    """Random in-range parameters: the op's output is exactly a warp through its motion."""
    spec = get_transform(name)
    rng = np.random.default_rng(3)
    frame = torch.rand(1, 3, 30, 44, generator=torch.Generator().manual_seed(0))
    for _ in range(5):
        params = {}
        for key, p in spec.params.items():
            if p.choices:
                params[key] = p.choices[int(rng.integers(len(p.choices)))]
            else:
                lo, hi = float(p.lo), float(p.hi)
                span = min(hi - lo, 0.4)
                params[key] = float(p.default) + float(rng.uniform(-span, span)) / 4
        link = ChainLink(name, spec.validate(params))
        expected = warp(frame, link_motion(link, 44, 30))
        assert torch.equal(apply_chain(frame, (link,)), expected)


def test_zoom_motion_is_the_posts_matrix():
    m = link_motion(ChainLink("zoom", {"scale": 0.1}), 200, 100)
    # x_in = 0.9 x + w*s/2, y_in = 0.9 y + h*s/2
    assert np.allclose(m, [[0.9, 0, 10.0], [0, 0.9, 5.0], [0, 0, 1]])
