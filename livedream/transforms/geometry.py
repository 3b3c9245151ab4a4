"""Affine feedback transforms from the 2015 post: zoom, stretch, rotate, full affine, tile-wise.

Convention (the same as `scipy.ndimage.affine_transform` on an HxWx3 frame): a transform is a
2x2 matrix M and an offset o in (row, column) = (y, x) pixel coordinates that map each *output*
pixel to the *input* point it samples, `input = M @ output + o`, with bilinear interpolation
(order=1). Samples that fall outside the input (or outside their tile, for `tile_affine`) are
black, like scipy's default `mode='constant', cval=0`: zooming out leaves a black border that the
next dream steps fill in.

Each transform declares that map once, as its `motion(params, width, height)`: a 3x3 matrix in
(x, y) pixel coordinates (see `livedream.transforms.registry`). The op samples through it
(`warp`), and the display shader and the output compositor continue the same matrix between dream
frames, so the three cannot drift apart.

`zoom` and `stretch` use the post's literal offsets (fixed point at h/2, w/2); `rotate`, `affine`
and `tile_affine` turn about the true pixel centre ((h-1)/2, (w-1)/2) so that e.g. a 180 degree
rotation maps the frame exactly onto itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.params import Param, Value
from livedream.transforms.registry import transform

#: Out-of-range tolerance in pixels, so float rounding does not blacken an edge row at scale 0.
_EDGE_TOLERANCE = 1e-3

#: 2x2 matrix ((row from row, row from column), (column from row, column from column)).
Matrix = tuple[tuple[float, float], tuple[float, float]]

_SCALE = Param(0.05, -0.5, 0.5, doc="zoom factor s: sample (1-s) of the frame; > 0 zooms in")


def sample_bilinear(
    frame: Tensor,
    in_y: Tensor,
    in_x: Tensor,
    bounds: tuple[Tensor | float, Tensor | float, Tensor | float, Tensor | float] | None = None,
) -> Tensor:
    """Bilinear sample `frame` at input pixel coordinates `in_y`, `in_x` (each [H_out, W_out]).

    Points outside `bounds` = (y_lo, y_hi, x_lo, x_hi) (inclusive pixel coordinates, scalars or
    [H_out, W_out] maps; default the whole frame) become 0, as scipy's mode='constant'.
    """
    _, _, h, w = frame.shape
    if bounds is None:
        bounds = (0.0, h - 1.0, 0.0, w - 1.0)
    y_lo, y_hi, x_lo, x_hi = bounds
    tol = _EDGE_TOLERANCE
    inside = (in_y >= y_lo - tol) & (in_y <= y_hi + tol)
    inside &= (in_x >= x_lo - tol) & (in_x <= x_hi + tol)
    # align_corners=True: -1 and +1 are the centres of the first and last pixels.
    grid_x = in_x * (2.0 / max(w - 1, 1)) - 1.0
    grid_y = in_y * (2.0 / max(h - 1, 1)) - 1.0
    # Sample in at least float32: grid_sample wants the grid in the frame's dtype, and a bf16 or
    # fp16 grid cannot address pixels (8-11 bit mantissa; at 320 px wide it yields NaN).
    work = frame if frame.dtype in (torch.float32, torch.float64) else frame.float()
    grid = torch.stack((grid_x, grid_y), dim=-1).to(work.dtype)
    grid = grid.unsqueeze(0).expand(frame.shape[0], -1, -1, -1)
    out = F.grid_sample(work, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    out = out * inside.to(work.dtype)
    return out.clamp(0.0, 1.0).to(frame.dtype)


def _pixel_grid(frame: Tensor) -> tuple[Tensor, Tensor]:
    """Output pixel coordinates (y, x), each [H, W] float32 on the frame's device."""
    _, _, h, w = frame.shape
    ys = torch.arange(h, device=frame.device, dtype=torch.float32)
    xs = torch.arange(w, device=frame.device, dtype=torch.float32)
    return torch.meshgrid(ys, xs, indexing="ij")


def motion_matrix(matrix: Matrix, offset: tuple[float, float]) -> np.ndarray:
    """The 3x3 (x, y) motion of the scipy-style (y, x) `matrix` and `offset`."""
    (m00, m01), (m10, m11) = matrix
    return np.array([[m11, m10, offset[1]], [m01, m00, offset[0]], [0.0, 0.0, 1.0]])


def warp(frame: Tensor, motion: np.ndarray) -> Tensor:
    """Sample `frame` through a 3x3 (x, y) motion: output pixel (x, y) reads input M @ (x, y, 1)."""
    y, x = _pixel_grid(frame)
    m = [[float(v) for v in row] for row in motion[:2]]
    in_x = m[0][0] * x + m[0][1] * y + m[0][2]
    in_y = m[1][0] * x + m[1][1] * y + m[1][2]
    return sample_bilinear(frame, in_y, in_x)


def affine_sample(frame: Tensor, matrix: Matrix, offset: tuple[float, float]) -> Tensor:
    """scipy-style affine warp: output pixel (y, x) samples input `matrix @ (y, x) + offset`."""
    return warp(frame, motion_matrix(matrix, offset))


def _about_centre(matrix: Matrix, cy: float, cx: float) -> tuple[float, float]:
    """Offset that makes `matrix` act about the point (cy, cx): o = c - M c."""
    (m00, m01), (m10, m11) = matrix
    return cy - (m00 * cy + m01 * cx), cx - (m10 * cy + m11 * cx)


def rotation_matrix(degrees: float, scale: float = 0.0) -> Matrix:
    """(y, x) output->input matrix turning the picture counter-clockwise on screen by `degrees`
    and zooming in by `scale` (as in `zoom`: sample (1-scale) of the frame)."""
    theta = math.radians(degrees)
    k = 1.0 - scale
    cos, sin = k * math.cos(theta), k * math.sin(theta)
    return ((cos, sin), (-sin, cos))


Params = Mapping[str, Value]


def zoom_motion(params: Params, width: int, height: int) -> np.ndarray:
    """The post's nd.affine_transform(frame, [1-s,1-s,1], [h*s/2,w*s/2,0])."""
    s = float(params["scale"])
    k = 1.0 - s
    return motion_matrix(((k, 0.0), (0.0, k)), (height * s / 2, width * s / 2))


@transform("zoom", motion=zoom_motion, scale=_SCALE)
def zoom(frame: Tensor, scale: float = 0.05) -> Tensor:
    """Centred zoom, exactly the post's nd.affine_transform(frame, [1-s,1-s,1], [h*s/2,w*s/2,0])."""
    _, _, h, w = frame.shape
    return warp(frame, zoom_motion({"scale": scale}, w, h))


def stretch_motion(params: Params, width: int, height: int) -> np.ndarray:
    """Vertical: affine_transform(frame, [1-s,1,1], [h*s/2,0,0]); horizontal likewise in x."""
    s = float(params["scale"])
    k = 1.0 - s
    if params["axis"] == "vertical":
        return motion_matrix(((k, 0.0), (0.0, 1.0)), (height * s / 2, 0.0))
    return motion_matrix(((1.0, 0.0), (0.0, k)), (0.0, width * s / 2))


@transform(
    "stretch",
    motion=stretch_motion,
    scale=_SCALE,
    axis=Param("vertical", choices=("vertical", "horizontal"), doc="the one axis that stretches"),
)
def stretch(frame: Tensor, scale: float = 0.05, axis: str = "vertical") -> Tensor:
    """One-axis zoom; vertical is the post's affine_transform(frame, [1-s,1,1], [h*s/2,0,0])."""
    _, _, h, w = frame.shape
    return warp(frame, stretch_motion({"scale": scale, "axis": axis}, w, h))


def rotate_motion(params: Params, width: int, height: int) -> np.ndarray:
    """Rotation (and zoom) about the true pixel centre ((h-1)/2, (w-1)/2)."""
    matrix = rotation_matrix(float(params["degrees"]), float(params["scale"]))
    return motion_matrix(matrix, _about_centre(matrix, (height - 1) / 2, (width - 1) / 2))


@transform(
    "rotate",
    motion=rotate_motion,
    degrees=Param(1.0, -180.0, 180.0, doc="counter-clockwise turn per frame, in degrees"),
    scale=Param(0.0, -0.5, 0.5, doc="zoom at the same time (as zoom's scale); 0 = none"),
)
def rotate(frame: Tensor, degrees: float = 1.0, scale: float = 0.0) -> Tensor:
    """Rotation about the frame centre (counter-clockwise for degrees > 0), with optional zoom."""
    _, _, h, w = frame.shape
    return warp(frame, rotate_motion({"degrees": degrees, "scale": scale}, w, h))


_MATRIX_ENTRY = "entry of the (y, x) output->input matrix [[a, b], [c, d]]"


def affine_motion(params: Params, width: int, height: int) -> np.ndarray:
    """in = M (out - centre) + centre + (ty*h, tx*w), M = [[a, b], [c, d]] in (y, x)."""
    a, b, c, d = (float(params[key]) for key in "abcd")
    matrix = ((a, b), (c, d))
    oy, ox = _about_centre(matrix, (height - 1) / 2, (width - 1) / 2)
    return motion_matrix(matrix, (oy + float(params["ty"]) * height,
                                  ox + float(params["tx"]) * width))


@transform(
    "affine",
    motion=affine_motion,
    a=Param(1.0, -4.0, 4.0, doc=_MATRIX_ENTRY + ": row from row"),
    b=Param(0.0, -4.0, 4.0, doc=_MATRIX_ENTRY + ": row from column"),
    c=Param(0.0, -4.0, 4.0, doc=_MATRIX_ENTRY + ": column from row"),
    d=Param(1.0, -4.0, 4.0, doc=_MATRIX_ENTRY + ": column from column"),
    tx=Param(0.0, -1.0, 1.0, doc="sampling offset in widths (scipy sign: > 0 moves picture left)"),
    ty=Param(0.0, -1.0, 1.0, doc="sampling offset in heights (scipy sign: > 0 moves picture up)"),
)
def affine(
    frame: Tensor,
    a: float = 1.0,
    b: float = 0.0,
    c: float = 0.0,
    d: float = 1.0,
    tx: float = 0.0,
    ty: float = 0.0,
) -> Tensor:
    """Full 2x2 matrix about the centre plus offset: in = M (out - centre) + centre + (ty*h, tx*w).

    Like scipy, M maps output (row, column) coordinates to the input point sampled.
    """
    _, _, h, w = frame.shape
    return warp(frame, affine_motion({"a": a, "b": b, "c": c, "d": d, "tx": tx, "ty": ty}, w, h))


def tile_edges(n: int, parts: int) -> list[int]:
    """Boundaries splitting n pixels into `parts` near-equal tiles (fewer if n < parts)."""
    parts = max(1, min(parts, n))
    return [(k * n) // parts for k in range(parts + 1)]


@transform(
    "tile_affine",
    rows=Param(2, 1, 16, doc="tiles down"),
    cols=Param(2, 1, 16, doc="tiles across"),
    scale=Param(0.05, -0.5, 0.5, doc="zoom of each tile about its own centre (as zoom's scale)"),
    degrees=Param(0.0, -180.0, 180.0, doc="rotation of each tile about its own centre"),
    alternate=Param(True, doc="flip the sign of scale and degrees on checkerboard tiles"),
)
def tile_affine(
    frame: Tensor,
    rows: int = 2,
    cols: int = 2,
    scale: float = 0.05,
    degrees: float = 0.0,
    alternate: bool = True,
) -> Tensor:
    """Grid of tiles, each zoomed/rotated about its own centre, sampling only inside itself.

    Tile (r, c) behaves as `rotate(tile, degrees, scale)` on that sub-image (black outside it);
    with `alternate`, tiles where r + c is odd use -scale and -degrees.
    """
    _, _, h, w = frame.shape
    dev = frame.device
    y_edges = torch.tensor(tile_edges(h, rows), device=dev, dtype=torch.float32)
    x_edges = torch.tensor(tile_edges(w, cols), device=dev, dtype=torch.float32)
    y, x = _pixel_grid(frame)
    # Which tile each output pixel belongs to, and that tile's origin and size.
    tile_r = torch.bucketize(y[:, 0].contiguous(), y_edges[1:], right=True)[:, None].expand(h, w)
    tile_c = torch.bucketize(x[0], x_edges[1:], right=True)[None, :].expand(h, w)
    y0, y1 = y_edges[tile_r], y_edges[tile_r + 1]
    x0, x1 = x_edges[tile_c], x_edges[tile_c + 1]
    cy, cx = y0 + (y1 - y0 - 1) / 2, x0 + (x1 - x0 - 1) / 2
    dy, dx = y - cy, x - cx
    (p00, p01), (p10, p11) = rotation_matrix(degrees, scale)
    (n00, n01), (n10, n11) = rotation_matrix(-degrees, -scale)
    flip = ((tile_r + tile_c) % 2 == 1) & alternate
    m00 = torch.where(flip, n00, p00)
    m01 = torch.where(flip, n01, p01)
    m10 = torch.where(flip, n10, p10)
    m11 = torch.where(flip, n11, p11)
    in_y = cy + m00 * dy + m01 * dx
    in_x = cx + m10 * dy + m11 * dx
    return sample_bilinear(frame, in_y, in_x, (y0, y1 - 1, x0, x1 - 1))
