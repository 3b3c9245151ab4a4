"""zoom, stretch, rotate, affine and tile_affine against scipy.ndimage.affine_transform(order=1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as nd
import torch

from livedream.transforms.geometry import affine, rotate, stretch, tile_affine, zoom
from tests.transforms import from_hwc, random_frame, to_hwc

H, W = 48, 64
BAND = 0.01  # pixels: samples this close to the input's border are left out of the comparison


def assert_matches_away_from_border(out, ref, in_y, in_x, y_range, x_range) -> None:
    """out == ref within 1e-3 wherever the sampled input point is not on the border band."""
    (y_lo, y_hi), (x_lo, x_hi) = y_range, x_range
    near = np.zeros(in_y.shape, dtype=bool)
    for coord, lo, hi in ((in_y, y_lo, y_hi), (in_x, x_lo, x_hi)):
        near |= (np.abs(coord - lo) < BAND) | (np.abs(coord - hi) < BAND)
    keep = ~near
    assert keep.mean() > 0.8
    got = to_hwc(out)
    np.testing.assert_allclose(got[keep], ref[keep], atol=1e-3)


def output_grid(h: int = H, w: int = W) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")


@pytest.mark.parametrize("s", [0.05, 0.3, -0.2, -0.5, 0.5])
def test_zoom_is_the_posts_affine_transform(s: float) -> None:
    frame = random_frame(H, W)
    img = to_hwc(frame)
    h, w = img.shape[:2]
    ref = nd.affine_transform(img, [1 - s, 1 - s, 1], [h * s / 2, w * s / 2, 0], order=1)
    y, x = output_grid()
    in_y, in_x = (1 - s) * y + h * s / 2, (1 - s) * x + w * s / 2
    assert_matches_away_from_border(zoom(frame, s), ref, in_y, in_x, (0, h - 1), (0, w - 1))


def test_zoom_out_leaves_a_black_border_and_zero_is_identity() -> None:
    frame = random_frame(H, W) * 0.5 + 0.25
    out = zoom(frame, -0.25)
    assert torch.all(out[..., 0, :] == 0) and torch.all(out[..., :, 0] == 0)
    assert out[..., H // 2, W // 2].min() > 0
    torch.testing.assert_close(zoom(frame, 0.0), frame, atol=1e-5, rtol=0)


@pytest.mark.parametrize("s", [0.05, -0.3])
def test_stretch_vertical_and_horizontal(s: float) -> None:
    frame = random_frame(H, W, seed=1)
    img = to_hwc(frame)
    h, w = img.shape[:2]
    y, x = output_grid()
    ref_v = nd.affine_transform(img, [1 - s, 1, 1], [h * s / 2, 0, 0], order=1)
    out_v = stretch(frame, s, "vertical")
    assert_matches_away_from_border(
        out_v, ref_v, (1 - s) * y + h * s / 2, x, (0, h - 1), (0, w - 1)
    )
    ref_h = nd.affine_transform(img, [1, 1 - s, 1], [0, w * s / 2, 0], order=1)
    out_h = stretch(frame, s, "horizontal")
    assert_matches_away_from_border(
        out_h, ref_h, y, (1 - s) * x + w * s / 2, (0, h - 1), (0, w - 1)
    )


def scipy_warp(img: np.ndarray, m: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """affine_transform of an HxWx3 image with a 2x2 (y, x) matrix, channels untouched."""
    full = np.eye(3)
    full[:2, :2] = m
    return nd.affine_transform(img, full, [offset[0], offset[1], 0.0], order=1)


def check_against_scipy(out, img: np.ndarray, m: np.ndarray, offset: np.ndarray) -> None:
    h, w = img.shape[:2]
    y, x = output_grid(h, w)
    in_y = m[0, 0] * y + m[0, 1] * x + offset[0]
    in_x = m[1, 0] * y + m[1, 1] * x + offset[1]
    ref = scipy_warp(img, m, offset)
    assert_matches_away_from_border(out, ref, in_y, in_x, (0, h - 1), (0, w - 1))


@pytest.mark.parametrize(("degrees", "scale"), [(1.0, 0.0), (30.0, 0.1), (-75.0, -0.2), (180.0, 0)])
def test_rotate_about_centre(degrees: float, scale: float) -> None:
    frame = random_frame(H, W, seed=2)
    th = math.radians(degrees)
    m = (1 - scale) * np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
    centre = np.array([(H - 1) / 2, (W - 1) / 2])
    check_against_scipy(rotate(frame, degrees, scale), to_hwc(frame), m, centre - m @ centre)


def test_rotate_turns_counter_clockwise_and_180_is_a_double_flip() -> None:
    frame = torch.zeros(1, 3, 41, 41)
    frame[..., 20, 30] = 1.0  # a dot right of the centre (20, 20)
    out = rotate(frame, 90.0)
    assert out[0, 0].argmax().item() == 10 * 41 + 20  # now above the centre
    noise = random_frame(H, W, seed=3)
    torch.testing.assert_close(rotate(noise, 180.0), noise.flip(2, 3), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "params",
    [
        dict(a=1.0, b=0.0, c=0.0, d=1.0, tx=0.0, ty=0.0),
        dict(a=0.9, b=0.2, c=-0.1, d=1.1, tx=0.05, ty=-0.1),
        dict(a=-1.0, b=0.5, c=0.3, d=0.8, tx=-0.2, ty=0.25),
    ],
)
def test_affine_matrix_about_centre_plus_offset(params: dict[str, float]) -> None:
    frame = random_frame(H, W, seed=4)
    m = np.array([[params["a"], params["b"]], [params["c"], params["d"]]])
    centre = np.array([(H - 1) / 2, (W - 1) / 2])
    offset = centre - m @ centre + np.array([params["ty"] * H, params["tx"] * W])
    check_against_scipy(affine(frame, **params), to_hwc(frame), m, offset)


def test_affine_translation_moves_the_picture_like_scipy_offset() -> None:
    frame = random_frame(H, W, seed=5)
    out = affine(frame, tx=0.25)  # sample 16 px to the right: picture moves left by 16
    torch.testing.assert_close(out[..., : W - 16], frame[..., 16:], atol=1e-5, rtol=0)
    assert torch.all(out[..., W - 15 :] == 0)


def tile_reference(
    img: np.ndarray, rows: int, cols: int, scale: float, degrees: float, alternate: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each tile warped by scipy on its own sub-array; also the 'near a tile border' mask."""
    h, w = img.shape[:2]
    ref = np.zeros_like(img)
    near = np.zeros((h, w), dtype=bool)
    y_edges = [k * h // rows for k in range(rows + 1)]
    x_edges = [k * w // cols for k in range(cols + 1)]
    for r in range(rows):
        for c in range(cols):
            sign = -1 if alternate and (r + c) % 2 else 1
            y0, y1, x0, x1 = y_edges[r], y_edges[r + 1], x_edges[c], x_edges[c + 1]
            th = math.radians(sign * degrees)
            k = 1 - sign * scale
            m = k * np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
            centre = np.array([(y1 - y0 - 1) / 2, (x1 - x0 - 1) / 2])
            offset = centre - m @ centre
            ref[y0:y1, x0:x1] = scipy_warp(img[y0:y1, x0:x1], m, offset)
            y, x = output_grid(y1 - y0, x1 - x0)
            in_y = m[0, 0] * y + m[0, 1] * x + offset[0]
            in_x = m[1, 0] * y + m[1, 1] * x + offset[1]
            tile_near = np.zeros(y.shape, dtype=bool)
            for coord, hi in ((in_y, y1 - y0 - 1), (in_x, x1 - x0 - 1)):
                tile_near |= (np.abs(coord) < BAND) | (np.abs(coord - hi) < BAND)
            near[y0:y1, x0:x1] = tile_near
    return ref, near


@pytest.mark.parametrize(
    ("rows", "cols", "scale", "degrees", "alternate"),
    [
        (2, 2, 0.05, 0.0, True),
        (3, 5, 0.1, 20.0, True),
        (4, 3, -0.15, -10.0, False),
        (1, 1, 0.2, 0, 0),
    ],
)
def test_tile_affine_warps_each_tile_on_its_own(rows, cols, scale, degrees, alternate) -> None:
    frame = random_frame(H, W, seed=6)
    img = to_hwc(frame)
    ref, near = tile_reference(img, rows, cols, scale, degrees, bool(alternate))
    out = to_hwc(tile_affine(frame, rows, cols, scale, degrees, bool(alternate)))
    assert (~near).mean() > 0.8
    np.testing.assert_allclose(out[~near], ref[~near], atol=1e-3)


def test_tile_affine_alternate_zooms_neighbours_opposite_ways() -> None:
    frame = from_hwc(np.tile(np.linspace(0, 1, W)[None, :, None], (H, 1, 3)))
    out = tile_affine(frame, rows=1, cols=2, scale=0.2, degrees=0.0, alternate=True)
    # Left tile zooms in (no black), right tile zooms out (black margin at its edges).
    assert out[0, 0, :, : W // 2].min() > 0
    assert torch.all(out[0, :, :, W // 2] == 0)
