"""GLSL shaders for the display: loading `shaders/*.glsl`, readable compile errors, uniforms.

No GL here (only `display.py` imports pyglet): this module finds and reads shader files, turns a
driver's info log into an error naming the file and line, computes the between-frame motion
matrix from the transform chain, and holds a torch reference of the shader's colour grading
(the oracle the window test compares a screenshot against).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.look import ChainLink
from livedream.transforms.registry import link_motion as registry_link_motion

#: Shader files live at the repository root in `shaders/`; LIVEDREAM_SHADERS overrides it.
DEFAULT_SHADER_DIR = Path(__file__).resolve().parents[2] / "shaders"


class ShaderCompileError(LivedreamError):
    """A shader failed to compile or link; the message names the file and line of each error."""


@dataclass(frozen=True)
class ShaderSource:
    """One shader stage read from a file."""

    path: Path
    text: str
    stage: str  # "vertex" or "fragment"


def shader_dir() -> Path:
    return Path(os.environ.get("LIVEDREAM_SHADERS", DEFAULT_SHADER_DIR))


def load_shader(name: str, stage: str, directory: Path | None = None) -> ShaderSource:
    """Read `<directory>/<name>.<vert|frag>.glsl` (a path ending in .glsl is read as given)."""
    if stage not in ("vertex", "fragment"):
        raise ValueError(f"stage must be 'vertex' or 'fragment', got {stage!r}")
    path = Path(name)
    if path.suffix != ".glsl":
        suffix = "vert" if stage == "vertex" else "frag"
        path = (directory or shader_dir()) / f"{name}.{suffix}.glsl"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShaderCompileError(f"cannot read {stage} shader {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ShaderCompileError(f"{path}: shader source is not UTF-8 text") from None
    return ShaderSource(path, text, stage)


def with_defines(text: str, defines: Sequence[str]) -> str:
    """GLSL `text` with `#define NAME 1` for each of `defines` right after its `#version` line
    (GLSL wants that line first), then a `#line` directive so the compiler's line numbers stay
    those of the file."""
    if not defines:
        return text
    lines = text.splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.lstrip().startswith("#version")), 0)
    head = "".join(lines[:at])
    if head and not head.endswith("\n"):
        head += "\n"
    block = "".join(f"#define {name} 1\n" for name in defines) + f"#line {at + 1}\n"
    return head + block + "".join(lines[at:])


# Info-log formats: Mesa "0:12(5): error: ...", NVIDIA "0(12) : error C0000: ...",
# AMD/Intel/ANGLE "ERROR: 0:12: ...".
_LOG_PATTERNS = (
    re.compile(r"^\s*\d+:(?P<line>\d+)\(\d+\):\s*(?P<msg>.*)$"),
    re.compile(r"^\s*\d+\((?P<line>\d+)\)\s*:\s*(?P<msg>.*)$"),
    re.compile(r"^\s*(?P<kind>ERROR|WARNING):\s*\d+:(?P<line>\d+):\s*(?P<msg>.*)$"),
)


def parse_info_log(info_log: str) -> list[tuple[int | None, str]]:
    """(source line or None, message) for each non-empty line of a GL compile info log."""
    out: list[tuple[int | None, str]] = []
    for raw in info_log.splitlines():
        if not raw.strip():
            continue
        for pattern in _LOG_PATTERNS:
            match = pattern.match(raw)
            if match:
                kind = match.groupdict().get("kind")
                msg = match.group("msg").strip()
                out.append((int(match.group("line")), f"{kind.lower()}: {msg}" if kind else msg))
                break
        else:
            out.append((None, raw.strip()))
    return out


def compile_error(source: ShaderSource, info_log: str, line_offset: int = 0) -> ShaderCompileError:
    """A ShaderCompileError naming `source.path:line` for every message of `info_log`.

    `line_offset` is the number of lines prepended to the file's text before compiling.
    """
    lines = source.text.splitlines()
    parts = []
    for line, msg in parse_info_log(info_log) or [(None, "compilation failed (empty log)")]:
        if line is None:
            parts.append(f"{source.path}: {msg}")
            continue
        line -= line_offset
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        parts.append(f"{source.path}:{line}: {msg}" + (f"\n    {code}" if code else ""))
    return ShaderCompileError(f"{source.stage} shader failed to compile:\n" + "\n".join(parts))


# --- colour grading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grading:
    """The fragment shader's colour grading uniforms (defaults leave the frame unchanged)."""

    brightness: float = 0.0
    contrast: float = 1.0
    saturation: float = 1.0
    gamma: float = 1.0

    def __post_init__(self) -> None:
        for key in ("brightness", "contrast", "saturation", "gamma"):
            if not math.isfinite(getattr(self, key)):
                raise LivedreamError(f"grading.{key} must be finite")
        if self.gamma <= 0:
            raise LivedreamError(f"grading.gamma must be > 0, got {self.gamma}")


_LUMA = (0.2126, 0.7152, 0.0722)
NO_GRADING = Grading()


def display_uniforms(uv_matrix: np.ndarray, crossfade: float, grading: Grading
                     ) -> dict[str, Any]:
    """The display shader's uniforms for one redraw (texture unit 0: the current frame, 1: the
    previous one)."""
    return {"u_current": 0, "u_previous": 1,
            "u_motion": tuple(float(v) for v in uv_matrix.T.flatten()),  # GLSL: column-major
            "u_crossfade": float(crossfade),
            "u_brightness": float(grading.brightness), "u_contrast": float(grading.contrast),
            "u_saturation": float(grading.saturation), "u_gamma": float(grading.gamma)}


def fragment_defines(crossfade: bool, grading: Grading) -> tuple[str, ...]:
    """The display shader's compile-time stages a redraw needs: the previous frame only to
    crossfade, the colour arithmetic only off the neutral grading, the power only for gamma != 1.
    A uniform `if` would not do: a software rasteriser (Mesa llvmpipe) pays for both sides, and
    the unused stages were 2x the composite's cost at 720p there (bench row 11)."""
    neutral = dataclasses.replace(grading, gamma=1.0) == NO_GRADING
    return tuple(name for name, used in (("LIVEDREAM_CROSSFADE", crossfade),
                                         ("LIVEDREAM_GRADE", not neutral),
                                         ("LIVEDREAM_GAMMA", grading.gamma != 1.0)) if used)


def grade_reference(frame: Tensor, grading: Grading) -> Tensor:
    """What `display.frag.glsl` does to a [B,3,H,W] frame (no motion, crossfade 1), in torch."""
    c = (frame - 0.5) * grading.contrast + 0.5 + grading.brightness
    luma = (c * torch.tensor(_LUMA, dtype=c.dtype, device=c.device).view(1, 3, 1, 1)).sum(
        1, keepdim=True)
    c = luma + (c - luma) * grading.saturation
    return c.clamp(0.0, 1.0).pow(1.0 / grading.gamma)


def fit_rect(frame: tuple[int, int], window: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the largest rectangle of the frame's aspect ratio centred in the
    window (window pixels)."""
    (fw, fh), (ww, wh) = frame, window
    scale = min(ww / fw, wh / max(1, fh))
    w, h = round(fw * scale), round(fh * scale)
    x0, y0 = (ww - w) // 2, (wh - h) // 2
    return x0, y0, x0 + w, y0 + h


# --- between-frame motion ----------------------------------------------------------------------
def to_centred(motion: np.ndarray, width: int, height: int) -> np.ndarray:
    """A (x, y) pixel-index motion (`livedream.transforms.registry`) in the shader's centred
    pixel coordinates (origin at the frame centre, a pixel's centre at index + 0.5 - size / 2)."""
    shift = np.array([[1.0, 0.0, 0.5 - width / 2], [0.0, 1.0, 0.5 - height / 2], [0, 0, 1]])
    return shift @ motion @ np.linalg.inv(shift)


def link_motion(link: ChainLink, width: int, height: int) -> np.ndarray | None:
    """The 3x3 output->input map of one geometric link, in centred (x, y) pixel coordinates.

    The transform's own declared motion (the one its torch op samples through); None for links
    that declare none, which add no motion between dream frames.
    """
    motion = registry_link_motion(link, width, height)
    return None if motion is None else to_centred(motion, width, height)


def chain_motion(chain: tuple[ChainLink, ...], width: int, height: int) -> np.ndarray:
    """The whole chain's per-frame geometric map (links compose as A1 @ A2 @ ...)."""
    total = np.eye(3)
    for link in chain:
        if link.enabled:
            m = link_motion(link, width, height)
            if m is not None:
                total = total @ m
    return total


_TAYLOR_POWERS = np.arange(18)  # ||scaled|| <= 1/4: the 18th term is below 1e-29


def exp_series(a: np.ndarray) -> tuple[np.ndarray, int]:
    """(terms, squarings) with exp(f a) = (sum_k f^k terms[k]) ^ (2^squarings) for f in [0, 1]:
    scaling and squaring of the Taylor series (error ~1e-16 relative), the terms computed once
    per matrix. Plain numpy, no LAPACK: scipy's `expm` per frame woke its BLAS pool, which spins."""
    norm = float(np.abs(a).sum(axis=0).max())
    squarings = max(0, math.ceil(math.log2(norm / 0.25))) if norm > 0.25 else 0
    scaled = a / (2.0 ** squarings)
    terms = [np.eye(a.shape[0])]
    for k in _TAYLOR_POWERS[1:]:
        terms.append(terms[-1] @ scaled / k)
    return np.stack(terms), squarings


def exp_series_at(series: tuple[np.ndarray, int], fraction: float) -> np.ndarray:
    """exp(fraction * a) from `exp_series(a)`, fraction in [0, 1]."""
    terms, squarings = series
    result = np.tensordot(fraction ** _TAYLOR_POWERS, terms, axes=1)
    for _ in range(squarings):
        result = result @ result
    return result


@functools.lru_cache(maxsize=16)
def _matrix_log(flat: tuple[float, ...]) -> np.ndarray | None:
    """Real logarithm of a 3x3 motion matrix, or None (flip, collapse, complex log).

    Cached: the window redraws at 60 Hz with the same per-frame motion until the chain changes,
    and only the fraction varies.
    """
    from scipy.linalg import logm

    per_frame = np.array(flat).reshape(3, 3)
    if np.linalg.det(per_frame[:2, :2]) <= 1e-6:
        return None
    log_m = logm(per_frame)
    if np.iscomplexobj(log_m):
        if np.abs(log_m.imag).max() > 1e-9:
            return None
        log_m = log_m.real
    log_m.setflags(write=False)  # shared between callers through the cache
    return log_m


@functools.lru_cache(maxsize=16)
def _uv_motion(flat: tuple[float, ...], width: int, height: int
               ) -> tuple[np.ndarray, tuple[np.ndarray, int] | None]:
    """Per chain and frame size: the per-frame map in uv coordinates, and the Taylor series of
    its logarithm (None: identity, flip or collapse, no motion in between)."""
    per_frame = np.array(flat).reshape(3, 3)
    to_pixels = np.array([[width, 0.0, -width / 2], [0.0, height, -height / 2], [0, 0, 1]])
    from_pixels = np.linalg.inv(to_pixels)
    uv_per_frame = from_pixels @ per_frame @ to_pixels
    log_m = None if np.allclose(per_frame, np.eye(3)) else _matrix_log(flat)
    series = None if log_m is None else exp_series(from_pixels @ log_m @ to_pixels)
    return uv_per_frame, series


def motion_uv_matrix(per_frame: np.ndarray, fraction: float, width: int, height: int) -> np.ndarray:
    """`u_motion`: frame uv -> sampled uv for `per_frame ** fraction` (pixel map -> uv map).

    Called at every redraw and output frame: the logarithm and its series are cached per chain
    and size, so a call is one polynomial in `fraction` and a few 3x3 products (bench row 11:
    the per-call expm was 1 ms of the window thread's CPU per redraw under load)."""
    fraction = min(1.0, max(0.0, float(fraction)))
    uv_per_frame, series = _uv_motion(tuple(per_frame.ravel().tolist()), width, height)
    if fraction == 1.0:
        return uv_per_frame.copy()
    if fraction == 0.0 or series is None:
        return np.eye(3)
    return exp_series_at(series, fraction)


def motion_reference(frame: Tensor, uv_matrix: np.ndarray) -> Tensor:
    """Torch version of the shader's motion sampling (bilinear, black outside) for tests."""
    _, _, h, w = frame.shape
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) / w
    v, u = torch.meshgrid(ys, xs, indexing="ij")
    m = torch.as_tensor(uv_matrix, dtype=torch.float64)
    su = m[0, 0] * u + m[0, 1] * v + m[0, 2]
    sv = m[1, 0] * u + m[1, 1] * v + m[1, 2]
    grid = torch.stack((su * 2 - 1, sv * 2 - 1), -1).unsqueeze(0).to(frame.dtype)
    out = torch.nn.functional.grid_sample(frame, grid.expand(frame.shape[0], -1, -1, -1),
                                          mode="bilinear", padding_mode="border",
                                          align_corners=False)
    inside = ((su >= 0) & (su <= 1) & (sv >= 0) & (sv <= 1)).to(frame.dtype)
    return out * inside
