"""The pyglet window (this package is the only one that imports pyglet, and only when a window
is made).

The dream runs in a worker thread; the window (main thread) redraws at `refresh_hz`. `show()`
(worker thread) reads the dream frame back once as 8-bit RGB and leaves it as the *latest*
frame (a newer one replaces it; nothing queues up and lags). Each redraw uploads a pending frame
with one `glTexSubImage2D` and composes the output picture through `shaders/display.*.glsl` into
an off-screen target at output size: between dream frames the shader keeps the motion going
(the chain's per-frame map raised to the fraction of the expected dream interval elapsed,
`motion`) or crossfades (`crossfade`), then grades the colour. The window shows that picture
scaled to fit; with an `output` stream, the same picture, read back through a PBO, is the
output frame NDI, the virtual camera and the recording get (bench row 11: cheaper than the torch
compositor once a window draws anyway). Keys go through `livedream.control.keys` to the queue.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.commands import Quit
from livedream.errors import LivedreamError
from livedream.live.clock import RateMeter
from livedream.live.display.gl import (
    DisplayUnavailableError,
    OutputTarget,
    QuadProgram,
    Texture,
    gl,
    pyglet,
    require_pyglet,
)
from livedream.live.display_base import LoopStats, dispatch_key
from livedream.live.overlay import overlay_text
from livedream.live.shaders import (
    Grading,
    chain_motion,
    display_uniforms,
    fragment_defines,
    load_shader,
    motion_uv_matrix,
)
from livedream.outputs.compositor import MOTION_MODES
from livedream.record.convert import to_uint8_hwc
from livedream.state import State

log = logging.getLogger(__name__)


class WindowDisplay:
    """A pyglet window showing the dream through the display shader (see module docstring)."""

    def __init__(
        self,
        queue: CommandQueue,
        size: tuple[int, int],
        *,
        fullscreen: bool = False,
        screen: int | None = None,
        vsync: bool = True,
        motion: str = "motion",
        grading: Grading | None = None,
        visible: bool = True,
        refresh_hz: float = 60.0,
        shader: str = "display",
        current_state: Callable[[], State] | None = None,
        output: Any = None,
    ) -> None:
        require_pyglet()
        if motion not in MOTION_MODES:
            raise LivedreamError(f"display motion {motion!r}; valid: {', '.join(MOTION_MODES)}")
        self.queue = queue
        self.current_state = current_state  # the show's latest state (knob to screen)
        self._motion_chain: tuple[Any, ...] | None = None
        self.frame_size = size
        self.motion = motion
        self.grading = grading or Grading()
        self.refresh_hz = refresh_hz
        self._screen = self._pick_screen(screen)
        config = gl.Config(major_version=3, minor_version=3, forward_compatible=True,
                           double_buffer=True)
        width, height = size
        try:
            self.window = pyglet.window.Window(
                width, height, caption="livedream", resizable=True, vsync=vsync, config=config,
                visible=visible, screen=self._screen)
        except (pyglet.window.NoSuchConfigException, pyglet.gl.ContextException) as exc:
            raise DisplayUnavailableError(f"no OpenGL 3.3 context: {exc}; use --headless") from None
        self._sources = (load_shader(shader, "vertex"), load_shader(shader, "fragment"))
        self._programs: dict[tuple[str, ...], QuadProgram] = {}
        self.program()  # compiled now: a broken shader fails at the start, not mid-show
        self._textures = [Texture(width, height), Texture(width, height)]
        self._target = OutputTarget(width, height)
        self.output = output  # an OutputStream fed with the picture drawn, or None
        self.published = 0
        self._current = 0  # index of the texture holding the latest dream frame
        self._lock = threading.Lock()
        self._pending: np.ndarray | None = None
        self._pending_state: State | None = None
        self._state: State | None = None
        self._stats: LoopStats | None = None
        self._arrivals = RateMeter(window=3.0)
        self._last_arrival: float | None = None
        self._per_frame_motion = np.eye(3)
        self._want_fullscreen: bool | None = None
        self._draws = RateMeter(window=2.0)
        self.uploads = 0
        self.frames_drawn = 0
        self.closed = False
        self._label = pyglet.text.Label("", x=10, y=10, anchor_y="bottom", multiline=True,
                                        width=max(200, width - 20), font_size=11,
                                        color=(255, 255, 255, 230))
        self.redraws_skipped = 0
        self._damaged = True  # the window needs a full redraw (new, resized, exposed)
        self.window.draw = self._redraw  # pyglet's per-interval redraw goes through _redraw
        self.window.push_handlers(on_draw=self.draw, on_key_press=self._on_key_press,
                                  on_close=self._on_close, on_resize=self._on_damage,
                                  on_expose=self._on_damage)
        if fullscreen:
            self.set_fullscreen(True)

    # --- any thread --------------------------------------------------------------------------
    def show(self, frame: Tensor, state: State, stats: LoopStats | None = None) -> None:
        """Hand over a new dream frame (the readback happens here, on the caller's thread)."""
        self.show_pixels(to_uint8_hwc(frame), state, stats)

    def show_pixels(self, pixels: np.ndarray, state: State | None, stats: Any = None) -> None:
        """Hand over an HxWx3 uint8 frame already on the host (e.g. pictures composed
        elsewhere: open the window with motion="none" and the default grading for those)."""
        if pixels.shape[:2] != (self.frame_size[1], self.frame_size[0]):
            raise LivedreamError(f"frame is {pixels.shape[1]}x{pixels.shape[0]}, the window "
                                 f"texture {self.frame_size[0]}x{self.frame_size[1]}")
        with self._lock:
            self._pending = pixels  # a newer frame simply replaces one not yet drawn
            self._pending_state = state
            self._stats = stats

    def set_fullscreen(self, on: bool) -> None:
        """Request fullscreen on/off; applied by the window's thread at the next redraw."""
        self._want_fullscreen = bool(on)

    def display_fps(self) -> float | None:
        return self._draws.rate(time.monotonic())

    # --- window thread ------------------------------------------------------------------------
    def _pick_screen(self, index: int | None) -> Any:
        if index is None:
            return None
        screens = pyglet.display.get_display().get_screens()
        if not 0 <= index < len(screens):
            raise LivedreamError(
                f"--screen {index}: this display has screens 0..{len(screens) - 1}")
        return screens[index]

    def _on_key_press(self, symbol: int, modifiers: int) -> bool:
        dispatch_key(self.queue, pyglet.window.key.symbol_string(symbol), modifiers)
        return True  # handled: Esc must not close the window behind the loop's back

    def _on_damage(self, *_args: Any) -> None:
        self._damaged = True

    def _redraw(self, dt: float) -> None:
        """pyglet's redraw at refresh_hz. With motion "none", a redraw without a new frame,
        overlay or damage would draw the same picture again: it is skipped, buffers not swapped,
        the picture on screen stays (under a software GL the redraw costs CPU the dream needs);
        the last picture's readback, if still in flight, is collected for the outputs."""
        with self._lock:
            new_frame = self._pending is not None
        still = self.motion == "none" and not (new_frame or self._damaged) and \
            self._want_fullscreen is None and not (self._state is not None and self._state.overlay)
        if still:
            self.redraws_skipped += 1
            if self.output is not None and self._target.in_flight:
                self.window.switch_to()
                self._publish(keep=0)  # its copy finished a redraw ago: nothing waits
            return
        self._damaged = False
        pyglet.window.Window.draw(self.window, dt)

    def _on_close(self) -> bool:
        self.queue.put(Quit(), origin="window")
        return True

    def _apply_fullscreen(self) -> None:
        want, self._want_fullscreen = self._want_fullscreen, None
        if want is not None and want != self.window.fullscreen:
            self.window.set_fullscreen(want, screen=self._screen)

    def _take_pending(self) -> None:
        with self._lock:
            pixels, state = self._pending, self._pending_state
            self._pending = None
        if pixels is None:
            return
        now = time.monotonic()
        self._current ^= 1
        self._textures[self._current].upload(pixels)
        self.uploads += 1
        self._arrivals.mark(now)
        self._last_arrival = now
        if state is not None:
            self._state = state

    def _follow_state(self) -> None:
        """Use the show's latest state for the in-between motion and the overlay, so a knob
        turned mid-frame moves the picture at the next redraw, not after the next dream frame."""
        if self.current_state is not None:
            self._state = self.current_state()
        if self._state is None or self._state.look.chain is self._motion_chain:
            return
        self._motion_chain = self._state.look.chain
        width, height = self.frame_size
        self._per_frame_motion = chain_motion(self._motion_chain, width, height)

    def program(self) -> QuadProgram:
        """The display shader compiled with the stages this redraw needs (`fragment_defines`:
        the previous frame only for crossfades, grading only off neutral); each variant once."""
        defines = fragment_defines(self.motion == "crossfade", self.grading)
        program = self._programs.get(defines)
        if program is None:
            program = self._programs[defines] = QuadProgram(*self._sources, defines)
        return program

    def elapsed_fraction(self, now: float | None = None) -> float:
        """How far (0..1) the display is between the last dream frame and the expected next."""
        if self._last_arrival is None:
            return 0.0
        interval = self._arrivals.interval()
        if interval is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return min(1.0, max(0.0, (now - self._last_arrival) / interval))

    def draw(self, fraction: float | None = None) -> None:
        """Redraw: upload a pending frame, compose the output picture (motion, grading) at
        output size, show it scaled to fit, the overlay on top; hand the output its picture."""
        self._apply_fullscreen()
        self._take_pending()
        self._follow_state()
        now = time.monotonic()
        f = self.elapsed_fraction(now) if fraction is None else fraction
        width, height = self.frame_size
        if self.motion == "motion":
            uv = motion_uv_matrix(self._per_frame_motion, f, width, height)
        else:
            uv = np.eye(3)
        crossfade = f if (self.motion == "crossfade" and self.uploads > 1) else 1.0
        self._target.bind()
        gl.glActiveTexture(gl.GL_TEXTURE0)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[self._current].id)
        gl.glActiveTexture(gl.GL_TEXTURE1)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[self._current ^ 1].id)
        self.program().draw(display_uniforms(uv, crossfade, self.grading))
        gl.glActiveTexture(gl.GL_TEXTURE0)
        wanted = self.output is not None and self.output.wanted()
        if wanted:
            try:
                self._target.start_readback(now)
            except Exception as exc:  # noqa: BLE001 - the window goes on without outputs
                self._outputs_failed(exc)
                wanted = False
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)  # the window's own from here on
        ww, wh = self.window.get_framebuffer_size()
        gl.glViewport(0, 0, ww, wh)
        gl.glClearColor(0.0, 0.0, 0.0, 1.0)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        self._target.show_fitted(ww, wh)
        if self._state is not None and self._state.overlay:
            self._label.width = max(200, self.window.width - 20)  # follows resize/fullscreen
            self._label.text = self.overlay_text()
            self._label.draw()
        if wanted:
            self._publish(keep=1)  # the previous redraw's picture: its copy is done by now
        self.frames_drawn += 1
        self._draws.mark(now)

    def _publish(self, keep: int) -> None:
        try:
            done = self._target.finish_readback(keep)
        except Exception as exc:  # noqa: BLE001 - the window goes on without outputs
            self._outputs_failed(exc)
            return
        if done is not None:
            pixels, at = done
            self.output.publish(pixels, at, self.uploads)
            self.published += 1

    def _outputs_failed(self, exc: Exception) -> None:
        """A GL readback failed (driver, lost context): the window keeps showing, the outputs
        (NDI, recording) get no more frames; said once."""
        log.error("reading the window's picture back for the outputs failed, they stop "
                  "receiving frames (the window goes on): %s", exc)
        self.output = None

    def overlay_text(self) -> str:
        """Layer, chain, dream and display fps, recording state (see `overlay_text`)."""
        return overlay_text(self._state, self._stats, self.display_fps() or 0.0)

    def screenshot(self) -> np.ndarray:
        """The back buffer as HxWx3 uint8, top row first (call after `draw`, before flip)."""
        ww, wh = self.window.get_framebuffer_size()
        buf = (ctypes.c_ubyte * (ww * wh * 3))()
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, ww, wh, gl.GL_RGB, gl.GL_UNSIGNED_BYTE, buf)
        return np.frombuffer(buf, dtype=np.uint8).reshape(wh, ww, 3)[::-1].copy()

    def run(self, worker: Callable[[threading.Event], Any], stop: threading.Event) -> None:
        """Run `worker(stop)` (the render loop) on a thread, the window on this one, until the
        worker returns or the window is closed; then stop the worker and close the window."""
        done = threading.Event()
        errors: list[BaseException] = []

        def target() -> None:
            try:
                worker(stop)
            except BaseException as exc:  # re-raised on the main thread
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=target, name="render-loop", daemon=True)

        def check(_dt: float) -> None:
            if done.is_set():
                pyglet.app.exit()

        pyglet.clock.schedule_interval(check, 0.05)
        thread.start()
        try:
            pyglet.app.run(1.0 / self.refresh_hz)
        finally:
            pyglet.clock.unschedule(check)
            stop.set()
            thread.join(timeout=30)
            self.close()
        if errors:
            raise errors[0]

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.output is not None:
            try:  # the last picture drawn is the show's last output frame
                self.window.switch_to()
                self._publish(keep=0)
            except Exception as exc:  # the recording is still finalised by its owner
                log.error("last output frame from the window failed: %r", exc)
        self._target.delete()
        for program in self._programs.values():
            program.delete()
        for texture in self._textures:
            texture.delete()
        self.window.close()
