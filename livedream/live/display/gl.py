"""GL resources of the window: pyglet's import guard, shader programs, textures, and the output
target (the picture at output size, read back asynchronously for the other outputs).

Only this package (`livedream.live.display`) imports pyglet, and only when a window is made.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from livedream.errors import LivedreamError
from livedream.live.shaders import ShaderSource, compile_error, fit_rect, with_defines

try:  # pyglet needs an X display (or EGL) as soon as pyglet.gl is imported.
    import pyglet
    from pyglet import gl
    from pyglet.graphics.shader import Shader, ShaderException, ShaderProgram
except Exception as exc:  # noqa: BLE001 - reported when a window is requested
    pyglet = None  # type: ignore[assignment]
    gl = None  # type: ignore[assignment]
    _IMPORT_ERROR: Exception | None = exc
else:
    _IMPORT_ERROR = None


class DisplayUnavailableError(LivedreamError):
    """No window can be opened (no X display / GL): run with --headless."""


def require_pyglet() -> None:
    if pyglet is None:
        raise DisplayUnavailableError(
            f"cannot open a window ({_IMPORT_ERROR}); use --headless (e.g. with --record FILE), "
            "or run under an X server / xvfb-run")


def compile_program(vertex: ShaderSource, fragment: ShaderSource,
                    defines: Sequence[str] = ()) -> Any:
    """Compile and link a GL program, with `#define NAME 1` for each of `defines` in both
    stages; errors name the shader file and line."""
    require_pyglet()
    shaders = []
    for source, kind in ((vertex, "vertex"), (fragment, "fragment")):
        try:
            shaders.append(Shader(with_defines(source.text, defines), kind))
        except ShaderException as exc:
            message = str(exc)
            info_log = message.split("shader: \n", 1)[-1]
            raise compile_error(source, info_log) from None
    try:
        return ShaderProgram(*shaders)
    except ShaderException as exc:
        raise compile_error(fragment, str(exc).split("\n", 1)[-1]) from None


class QuadProgram:
    """A compiled program and its full-target quad (`position` in [-1, 1]^2). `draw` sets only
    the uniforms the driver kept: a compile-time variant, or a custom shader, may drop some."""

    def __init__(self, vertex: ShaderSource, fragment: ShaderSource,
                 defines: Sequence[str] = ()) -> None:
        self.program = compile_program(vertex, fragment, defines)
        self.quad = self.program.vertex_list(
            4, gl.GL_TRIANGLE_STRIP, position=("f", (-1, -1, 1, -1, -1, 1, 1, 1)))
        self.active = frozenset(self.program.uniforms)

    def draw(self, uniforms: Mapping[str, Any]) -> None:
        self.program.use()
        for name, value in uniforms.items():
            if name in self.active:
                self.program[name] = value
        self.quad.draw(gl.GL_TRIANGLE_STRIP)
        self.program.stop()

    def delete(self) -> None:
        self.quad.delete()
        self.program.delete()


class Texture:
    """A GL texture of fixed size (RGB8 for frames, RGBA8 to render into), updated in place
    with glTexSubImage2D."""

    def __init__(self, width: int, height: int, internal_format: int | None = None) -> None:
        self.width, self.height = width, height
        tex_id = gl.GLuint()
        gl.glGenTextures(1, ctypes.byref(tex_id))
        self.id = tex_id.value
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.id)
        for param in (gl.GL_TEXTURE_MIN_FILTER, gl.GL_TEXTURE_MAG_FILTER):
            gl.glTexParameteri(gl.GL_TEXTURE_2D, param, gl.GL_LINEAR)
        for param in (gl.GL_TEXTURE_WRAP_S, gl.GL_TEXTURE_WRAP_T):
            gl.glTexParameteri(gl.GL_TEXTURE_2D, param, gl.GL_CLAMP_TO_EDGE)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, internal_format or gl.GL_RGB8, width, height, 0,
                        gl.GL_RGB, gl.GL_UNSIGNED_BYTE, None)

    def upload(self, pixels: np.ndarray) -> None:
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.id)
        gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 1)
        gl.glTexSubImage2D(gl.GL_TEXTURE_2D, 0, 0, 0, self.width, self.height, gl.GL_RGB,
                           gl.GL_UNSIGNED_BYTE, pixels.ctypes.data_as(ctypes.c_void_p))

    def delete(self) -> None:
        gl.glDeleteTextures(1, ctypes.byref(gl.GLuint(self.id)))


class OutputTarget:
    """The output picture at output size, off screen: the display shader composes into it,
    the window shows it scaled (a blit), and the other outputs get it through an asynchronous
    readback: each frame's copy goes into one of two pixel-pack buffers right after it is drawn
    and is mapped one redraw later, when the copy has long finished (on a GPU nothing waits)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._bytes = width * height * 3
        self.texture = Texture(width, height, gl.GL_RGBA8)  # RGBA8: colour-renderable everywhere
        fbo = gl.GLuint()
        gl.glGenFramebuffers(1, ctypes.byref(fbo))
        self.fbo = fbo.value
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glFramebufferTexture2D(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_TEXTURE_2D,
                                  self.texture.id, 0)
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise DisplayUnavailableError(f"the GL driver cannot render into a {width}x{height} "
                                          f"texture (framebuffer status {status:#x})")
        self._pbos = (gl.GLuint * 2)()
        gl.glGenBuffers(2, self._pbos)
        for pbo in self._pbos:
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, pbo)
            gl.glBufferData(gl.GL_PIXEL_PACK_BUFFER, self._bytes, None, gl.GL_STREAM_READ)
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, 0)
        self._in_flight: list[tuple[int, float]] = []  # (buffer, time) copies started
        self._next = 0

    @property
    def in_flight(self) -> int:
        """Readbacks started and not yet collected."""
        return len(self._in_flight)

    def bind(self) -> None:
        """Draw into the output picture from now on."""
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glViewport(0, 0, self.width, self.height)

    def start_readback(self, at: float) -> None:
        """Start copying the picture just drawn (composed for time `at`) into a PBO."""
        if len(self._in_flight) == len(self._pbos):  # nobody collected: the oldest is dropped
            self._in_flight.pop(0)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.fbo)
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, self._pbos[self._next])
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, self.width, self.height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE, 0)
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, 0)
        self._in_flight.append((self._next, at))
        self._next = (self._next + 1) % len(self._pbos)

    def finish_readback(self, keep: int = 1) -> tuple[np.ndarray, float] | None:
        """The oldest copy, once more than `keep` are in flight: (HxWx3 uint8 RGB, top row
        first, read-only; its time), else None. keep=0 collects the last one (at the end)."""
        if len(self._in_flight) <= keep:
            return None
        index, at = self._in_flight.pop(0)
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, self._pbos[index])
        mapped = gl.glMapBufferRange(gl.GL_PIXEL_PACK_BUFFER, 0, self._bytes, gl.GL_MAP_READ_BIT)
        try:
            if not mapped:
                raise LivedreamError("the GL driver did not map the output readback buffer")
            raw = (ctypes.c_ubyte * self._bytes).from_address(mapped)
            rows = np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width, 3)
            pixels = rows[::-1].copy()  # GL's rows go bottom-up
        finally:
            if mapped:
                gl.glUnmapBuffer(gl.GL_PIXEL_PACK_BUFFER)
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, 0)
        pixels.setflags(write=False)
        return pixels, at

    def show_fitted(self, window_width: int, window_height: int) -> None:
        """Blit the picture (bilinear) into the window, as large as it fits with its aspect
        ratio kept (letterboxed or pillarboxed, centred)."""
        x0, y0, x1, y1 = fit_rect((self.width, self.height), (window_width, window_height))
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.fbo)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, 0)
        gl.glBlitFramebuffer(0, 0, self.width, self.height, x0, y0, x1, y1,
                             gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)

    def delete(self) -> None:
        gl.glDeleteBuffers(2, self._pbos)
        gl.glDeleteFramebuffers(1, ctypes.byref(gl.GLuint(self.fbo)))
        self.texture.delete()
