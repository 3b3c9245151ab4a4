"""Shader loading, compile errors naming file and line, motion and grading uniforms."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import livedream.transforms.geometry  # noqa: F401  (registers zoom/stretch/rotate/affine)
from livedream.live.shaders import (
    Grading,
    ShaderCompileError,
    ShaderSource,
    chain_motion,
    compile_error,
    display_uniforms,
    fragment_defines,
    grade_reference,
    load_shader,
    motion_reference,
    motion_uv_matrix,
    parse_info_log,
    with_defines,
)
from livedream.look import ChainLink
from livedream.transforms import apply_chain

BROKEN = """#version 330 core
in vec2 v_uv;
out vec4 out_color;
void main() {
    vec3 c = vec3(v_uv, 0.0)
    out_color = vec4(c, 1.0);
}
"""


def test_shipped_shaders_load():
    vert, frag = load_shader("display", "vertex"), load_shader("display", "fragment")
    assert vert.path.name == "display.vert.glsl" and "#version 330" in vert.text
    assert "u_motion" in frag.text and "u_gamma" in frag.text


def test_missing_shader_names_the_path(tmp_path):
    with pytest.raises(ShaderCompileError, match="nope.frag.glsl"):
        load_shader("nope", "fragment", tmp_path)


@pytest.mark.parametrize(
    "log_line",
    [
        "0:6(5): error: syntax error, unexpected IDENTIFIER",  # Mesa
        "0(6) : error C0000: syntax error, unexpected identifier",  # NVIDIA
        "ERROR: 0:6: 'out_color' : syntax error",  # AMD / Intel / ANGLE
    ],
)
def test_info_log_formats_map_to_file_and_line(log_line, tmp_path):
    path = tmp_path / "broken.frag.glsl"
    error = compile_error(ShaderSource(path, BROKEN, "fragment"), log_line + "\n")
    text = str(error)
    assert f"{path}:6:" in text and "syntax error" in text
    assert "out_color = vec4(c, 1.0);" in text  # quotes the offending line


def test_info_log_line_offset_and_unparsed_lines():
    parsed = parse_info_log("linker said no\n\n0:9(1): error: x\n")
    assert parsed == [(None, "linker said no"), (9, "error: x")]
    source = ShaderSource(__import__("pathlib").Path("a.glsl"), BROKEN, "fragment")
    assert "a.glsl:6:" in str(compile_error(source, "0:8(1): error: x", line_offset=2))


def test_defines_go_after_the_version_line_and_keep_the_line_numbers():
    text = with_defines(BROKEN, ("A", "B"))
    lines = text.splitlines()
    assert lines[:4] == ["#version 330 core", "#define A 1", "#define B 1", "#line 2"]
    assert lines[4:] == BROKEN.splitlines()[1:]
    assert with_defines(BROKEN, ()) == BROKEN
    # A comment before #version; and a file without one (defines first, numbering from 1).
    commented = "// hi\n#version 330 core\nvoid main() {}\n"
    assert with_defines(commented, ("X",)).splitlines() == [
        "// hi", "#version 330 core", "#define X 1", "#line 3", "void main() {}"]
    assert with_defines("void main() {}", ("X",)).splitlines() == [
        "#define X 1", "#line 1", "void main() {}"]


@pytest.mark.parametrize(("crossfade", "grading", "expected"), [
    (False, Grading(), ()),
    (True, Grading(), ("LIVEDREAM_CROSSFADE",)),
    (False, Grading(gamma=2.0), ("LIVEDREAM_GAMMA",)),
    (False, Grading(contrast=1.2), ("LIVEDREAM_GRADE",)),
    (False, Grading(brightness=-0.1), ("LIVEDREAM_GRADE",)),
    (True, Grading(saturation=0.0, gamma=0.5),
     ("LIVEDREAM_CROSSFADE", "LIVEDREAM_GRADE", "LIVEDREAM_GAMMA")),
])
def test_fragment_defines_compile_in_only_the_stages_in_use(crossfade, grading, expected):
    assert fragment_defines(crossfade, grading) == expected


def test_display_uniforms_name_the_shaders_uniforms_and_are_column_major():
    uv = np.arange(9.0).reshape(3, 3)
    uniforms = display_uniforms(uv, 0.25, Grading(contrast=1.5, gamma=2.0))
    frag = load_shader("display", "fragment").text
    assert all(f" {name};" in frag for name in uniforms), sorted(uniforms)
    assert uniforms["u_motion"] == (0.0, 3.0, 6.0, 1.0, 4.0, 7.0, 2.0, 5.0, 8.0)
    picked = (uniforms["u_crossfade"], uniforms["u_contrast"], uniforms["u_gamma"])
    assert picked == (0.25, 1.5, 2.0)


def test_shipped_fragment_shader_knows_every_define():
    frag = load_shader("display", "fragment").text
    every = fragment_defines(True, Grading(contrast=2.0, gamma=2.0))
    assert all(f"#ifdef {name}" in frag for name in every)


def test_grade_reference_hand_computed():
    frame = torch.tensor([0.2, 0.5, 0.8]).view(1, 3, 1, 1)
    assert torch.allclose(grade_reference(frame, Grading()), frame)
    out = grade_reference(frame, Grading(brightness=0.1, contrast=2.0, saturation=0.0, gamma=2.0))
    c = np.array([0.2, 0.5, 0.8]) * 2 - 0.5 + 0.1  # contrast about 0.5, then brightness
    luma = float(np.dot(c, [0.2126, 0.7152, 0.0722]))
    expected = np.full(3, np.clip(luma, 0, 1) ** 0.5)
    assert np.allclose(out.flatten().numpy(), expected, atol=1e-6)


def test_motion_uv_matrix_composes():
    chain = (ChainLink("zoom", {"scale": 0.1}), ChainLink("rotate", {"degrees": 8.0}))
    per_frame = chain_motion(chain, 64, 48)
    full = motion_uv_matrix(per_frame, 1.0, 64, 48)
    half = motion_uv_matrix(per_frame, 0.5, 64, 48)
    assert np.allclose(half @ half, full, atol=1e-9)
    assert np.allclose(motion_uv_matrix(per_frame, 0.0, 64, 48), np.eye(3))
    flip = np.diag([-1.0, 1.0, 1.0])
    assert np.allclose(motion_uv_matrix(flip, 0.5, 64, 48), np.eye(3))  # no real root: none
    assert np.allclose(motion_uv_matrix(flip, 1.0, 64, 48), np.diag([-1.0, 1.0, 1.0])
                       + np.array([[0, 0, 1.0], [0, 0, 0], [0, 0, 0]]))  # a whole frame: exact


@pytest.mark.parametrize(
    "chain",
    [
        (ChainLink("zoom", {"scale": 0.08}),),
        (ChainLink("stretch", {"scale": 0.1, "axis": "horizontal"}),),
        (ChainLink("rotate", {"degrees": 6.0}),),
        (ChainLink("affine", {"a": 0.95, "b": 0.05, "c": -0.03, "d": 1.02, "tx": 0.02}),),
    ],
)
def test_full_motion_matches_the_chain_transform(chain):
    """At fraction 1 the shader's motion reproduces what the chain does to the frame."""
    h, w = 48, 64
    gen = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8, generator=gen), size=(h, w),
                                             mode="bicubic", align_corners=False).clamp(0, 1)
    expected = apply_chain(smooth, chain)
    got = motion_reference(smooth, motion_uv_matrix(chain_motion(chain, w, h), 1.0, w, h))
    inner = (slice(None), slice(None), slice(6, h - 6), slice(6, w - 6))
    assert (got[inner] - expected[inner]).abs().max() < 2e-3


def test_chain_motion_composes_in_chain_order():
    """Stretch then rotate (they do not commute): one composed warp equals the chain's two."""
    h, w = 48, 64
    gen = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8, generator=gen), size=(h, w),
                                             mode="bicubic", align_corners=False).clamp(0, 1)
    chain = (ChainLink("stretch", {"scale": 0.2, "axis": "horizontal"}),
             ChainLink("rotate", {"degrees": 30.0}))
    expected = apply_chain(smooth, chain)
    inner = (slice(None), slice(None), slice(8, h - 8), slice(8, w - 8))
    right = motion_reference(smooth, motion_uv_matrix(chain_motion(chain, w, h), 1.0, w, h))
    wrong = motion_reference(smooth, motion_uv_matrix(chain_motion(chain[::-1], w, h), 1, w, h))
    right_err = (right - expected)[inner].abs().mean()
    wrong_err = (wrong - expected)[inner].abs().mean()
    assert right_err < 3e-3 and wrong_err > 3 * right_err


def test_non_geometric_links_add_no_motion():
    import livedream.transforms  # noqa: F401

    assert np.allclose(chain_motion((), 64, 48), np.eye(3))
    assert np.allclose(chain_motion((ChainLink("zoom", {"scale": 0.1}, enabled=False),), 64, 48),
                       np.eye(3))


@pytest.mark.display
@pytest.mark.parametrize("defines", [(), ("LIVEDREAM_CROSSFADE", "LIVEDREAM_GAMMA")])
def test_broken_glsl_file_error_names_file_and_line(xvfb_display, tmp_path, defines):
    # pyglet only once Xvfb is up (the package's `gl` attribute is pyglet.gl, not the module)
    display_gl = importlib.import_module("livedream.live.display.gl")

    path = tmp_path / "broken.frag.glsl"
    path.write_text(BROKEN)
    window = display_gl.pyglet.window.Window(32, 32, visible=False, config=display_gl.gl.Config(
        major_version=3, minor_version=3, forward_compatible=True, double_buffer=True))
    try:
        with pytest.raises(ShaderCompileError) as info:
            display_gl.compile_program(load_shader("display", "vertex"),
                                       load_shader(str(path), "fragment"), defines)
    finally:
        window.close()
    text = str(info.value)
    # Mesa reports the missing ';' where the next statement starts (line 6); with defines
    # inserted, the #line directive keeps the file's numbering.
    assert f"{path}:6:" in text or f"{path}:5:" in text, text
    assert "fragment shader failed" in text


def test_motion_uv_matrix_takes_the_matrix_log_once_per_chain(monkeypatch) -> None:
    """The window asks for per_frame ** fraction at 60 Hz: the logarithm is computed once."""
    import scipy.linalg

    from livedream.live import shaders

    calls = []
    real_logm = scipy.linalg.logm
    monkeypatch.setattr(scipy.linalg, "logm", lambda m: calls.append(1) or real_logm(m))
    shaders._matrix_log.cache_clear()
    shaders._uv_motion.cache_clear()
    per_frame = shaders.chain_motion((ChainLink("rotate", {"degrees": 3.0}),), 64, 48)
    first = motion_uv_matrix(per_frame, 0.5, 64, 48)
    for fraction in (0.25, 0.5, 0.75):
        motion_uv_matrix(per_frame, fraction, 64, 48)
    whole = motion_uv_matrix(per_frame, 1.0, 64, 48)
    np.testing.assert_allclose(first @ first, whole, atol=1e-9)  # a true square root
    assert len(calls) == 1


@pytest.mark.parametrize("chain", [
    (ChainLink("zoom", {"scale": 0.05}),),
    (ChainLink("rotate", {"degrees": 4.0}), ChainLink("zoom", {"scale": -0.03})),
    (ChainLink("affine", {"a": 1.02, "b": 0.03, "c": -0.01, "d": 0.99, "tx": 0.02, "ty": -0.01}),),
    (),
])
def test_motion_uv_matrix_is_the_fractional_power_in_uv(chain) -> None:
    """Oracle: scipy's fractional_matrix_power of the pixel map, moved into uv coordinates."""
    import scipy.linalg

    w, h = 96, 54
    per_frame = chain_motion(chain, w, h)
    to_pixels = np.array([[w, 0.0, -w / 2], [0.0, h, -h / 2], [0, 0, 1]])
    for fraction in (0.0, 0.1, 0.5, 0.77, 1.0):
        power = np.real(scipy.linalg.fractional_matrix_power(per_frame, fraction))
        expected = np.linalg.inv(to_pixels) @ power @ to_pixels
        np.testing.assert_allclose(motion_uv_matrix(per_frame, fraction, w, h), expected,
                                   atol=1e-10)


@pytest.mark.parametrize("scale", [0.0, 1e-3, 0.3, 2.0, 40.0])
def test_exp_series_matches_scipy(scale: float) -> None:
    """The per-frame matrix exponential against scipy's (the oracle), small to large norms,
    at fractions of the matrix."""
    import scipy.linalg

    from livedream.live.shaders import exp_series, exp_series_at

    rng = np.random.default_rng(7)
    a = rng.normal(size=(3, 3)) * scale
    series = exp_series(a)
    for fraction in (0.0, 0.3, 1.0):
        np.testing.assert_allclose(exp_series_at(series, fraction),
                                   scipy.linalg.expm(fraction * a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("frame", "window", "rect"), [
    ((320, 180), (320, 180), (0, 0, 320, 180)),  # same size: a 1:1 copy
    ((320, 180), (1920, 1080), (0, 0, 1920, 1080)),  # same aspect, scaled up
    ((320, 180), (1024, 768), (0, 96, 1024, 672)),  # 16:9 on 4:3: bars above and below
    ((640, 480), (1920, 1080), (240, 0, 1680, 1080)),  # 4:3 on 16:9: bars left and right
])
def test_the_picture_fills_the_window_with_its_aspect_kept(frame, window, rect):
    from livedream.live.shaders import fit_rect

    assert fit_rect(frame, window) == rect
