"""The render loop: drain commands, dream on the feedback buffer, transform, show, record.

One `RenderLoop.tick()` is one dream frame:

1. drain the `CommandQueue` and fold every command into the immutable `State` (`state.apply`);
   each accepted command's `reply` is called with the new state (OSC/MIDI echo), a rejected one is
   logged (rate-limited) and the old state kept;
2. derive side effects by diffing old and new state: recording on/off, model switch (loaded on a
   worker thread while the show keeps dreaming on the old model), reset (re-seed), fullscreen,
   quit; numeric parameter changes start an ease when `state.ease_seconds > 0`;
3. unless paused: `dream_step` on the buffer, blend the live source by `state.source_mix`, apply
   the transform chain, check the frame is not degenerate (NaN/inf or one flat colour; re-seed if
   so), then hand it to the display and, when recording, to the recorder.

The frame stays a device tensor throughout; display upload and recorder are the only readbacks.
Time comes from an injectable `Clock`, so tests run the loop with a fake clock.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Protocol

import torch
from torch import Tensor

from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.live.clock import Clock, RateMeter, SystemClock
from livedream.look import ChainLink, Look
from livedream.models.base import DreamModel
from livedream.sources import generated_image
from livedream.state import Command, CommandQueue, Env, State, apply
from livedream.transforms.blend import blend

log = logging.getLogger(__name__)

ModelLoader = Callable[[str, str | None, torch.device], DreamModel]
StateObserver = Callable[[State, State], None]
DreamFn = Callable[..., Tensor]


class Display(Protocol):
    """Where frames go: `HeadlessDisplay` or the pyglet `WindowDisplay`."""

    def show(self, frame: Tensor, state: State, stats: Any = None) -> None: ...

    def set_fullscreen(self, on: bool) -> None: ...

    def display_fps(self) -> float | None: ...


class Recorder(Protocol):
    """A frame sink (`livedream.record`): `write` must not block the show; `close` finalises."""

    def write(self, frame: Any) -> None: ...

    def close(self) -> None: ...


class Source(Protocol):
    def read(self) -> Tensor: ...


@dataclass(frozen=True)
class LoopStats:
    """A snapshot for the overlay, the bench and the tests."""

    frames: int  # dream frames produced
    dream_fps: float
    display_fps: float | None  # None when the display shows each dream frame once (headless)
    recording: bool
    recorded: int  # frames handed to recorders
    dropped: int  # frames recorders dropped (full queue)
    applied: int  # commands applied
    rejected: int  # commands rejected (logged, state kept)
    reseeds: int  # degenerate frames recovered
    errors: int  # dream-step exceptions survived
    model: str
    layers: tuple[str, ...]
    chain: tuple[str, ...]
    loading_model: str | None  # model being loaded off-thread, if any


# --- easing ------------------------------------------------------------------------------------
def _lerp_value(a: Any, b: Any, u: float) -> Any:
    """Interpolate numbers (ints rounded); anything else (bool, str) takes the target value."""
    numbers = (a, b)
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in numbers):
        return b
    value = a + (b - a) * u
    return int(round(value)) if isinstance(b, int) else float(value)


_EASED_DREAM = ("step_size", "iterations", "jitter", "octaves", "octave_scale")  # not channel


def interpolate_look(start: Look, target: Look, u: float) -> Look:
    """The look a fraction `u` (0..1) of the way from `start` to `target`.

    Structure (model, layers, chain order, enabled flags) is the target's; numeric dream settings
    and the numeric parameters of chain links that are the same transform at the same position
    glide. u >= 1 returns `target` itself.
    """
    if u >= 1.0:
        return target
    u = max(0.0, u)
    dream = replace(
        target.dream,
        **{
            k: _lerp_value(getattr(start.dream, k), getattr(target.dream, k), u)
            for k in _EASED_DREAM
        },
    )
    chain: list[ChainLink] = []
    for i, link in enumerate(target.chain):
        old = start.chain[i] if i < len(start.chain) else None
        if old is None or old.name != link.name:
            chain.append(link)
            continue
        from livedream.transforms import get_transform

        defaults = get_transform(link.name).defaults()
        keys = set(link.params) | set(old.params)
        params = {
            k: _lerp_value(old.params.get(k, defaults.get(k)), link.params.get(k, defaults.get(k)),
                           u)
            for k in keys
        }
        chain.append(replace(link, params=params))
    return replace(target, dream=dream, chain=tuple(chain))


# --- frames ------------------------------------------------------------------------------------
def degenerate_reason(frame: Tensor, flat_tolerance: float = 1.0 / 255.0) -> str | None:
    """Why `frame` cannot feed the loop any more ('non-finite', 'flat'), or None when it is fine.

    Flat means every channel spans less than `flat_tolerance`: one colour, nothing to dream on.
    """
    finite = torch.isfinite(frame).all()
    spread = (frame.amax(dim=(2, 3)) - frame.amin(dim=(2, 3))).amax()
    # One readback for both numbers: each bool()/float() of a device tensor is a full sync.
    finite_flag, spread_value = torch.stack((finite.float(), spread.float())).tolist()
    finite_ok = finite_flag == 1.0
    if not finite_ok:
        return "non-finite"
    if not spread_value >= flat_tolerance:
        return "flat"
    return None


def _default_loader(name: str, weights: str | None, device: torch.device) -> DreamModel:
    from livedream.models.registry import load_model

    return load_model(name, weights, device)


def _default_dream_fn() -> DreamFn:
    from livedream.dream import dream_step

    return dream_step


def _fallback_layer(model: DreamModel) -> str:
    try:
        from livedream.models.registry import default_layer

        layer = default_layer(model.name)
        if layer in model.layer_names():
            return layer
    except (ImportError, LivedreamError):
        pass
    names = model.layer_names()
    return names[len(names) // 2]


# --- the loop ----------------------------------------------------------------------------------
class RenderLoop:
    """The live show's engine; see the module docstring for what one tick does."""

    def __init__(
        self,
        state: State,
        queue: CommandQueue,
        display: Display,
        *,
        model: DreamModel | None = None,
        model_loader: ModelLoader | None = None,
        clock: Clock | None = None,
        recorder_factory: Callable[[], Recorder] | None = None,
        source: Source | None = None,
        size: tuple[int, int] = (320, 180),
        device: str | torch.device = "cpu",
        presets: Mapping[str, Look] | None = None,
        seed: int = 0,
        start_image: Tensor | None = None,
        dream_fn: DreamFn | None = None,
        pause_sleep: float = 1.0 / 60.0,
        observers: Sequence[StateObserver] = (),
    ) -> None:
        self.queue = queue
        self.display = display
        self.observers = list(observers)  # called (old, new) after every applied command
        self.clock: Clock = clock or SystemClock()
        self.device = torch.device(device)
        self.size = size
        self.source = source
        self.seed = seed
        self.recorder_factory = recorder_factory
        self.pause_sleep = pause_sleep
        self._loader: ModelLoader = model_loader or _default_loader
        self._dream: DreamFn = dream_fn or _default_dream_fn()
        self._presets = dict(presets or {})
        self._limiter = RateLimitedLog(log, 5.0, clock=self.clock.now)  # a repeat per frame
        self._lock = threading.Lock()

        self.model = model if model is not None else self._loader(
            state.look.model, state.look.weights, self.device)
        self.model.check_layers(state.look.layers)
        self._model_key = (state.look.model, state.look.weights)
        self._active_layers = tuple(state.look.layers)
        self.env = Env(layer_names=tuple(self.model.layer_names()), presets=self._presets)
        self._pending: tuple[tuple[str, str | None], Future[DreamModel]] | None = None

        self._start_image = (
            start_image.to(self.device, torch.float32) if start_image is not None
            else generated_image(size, seed, self.device)
        )
        self.buffer = self._seed_frame()
        self.generator = torch.Generator().manual_seed(seed)

        self.state = replace(state, recording=False)
        self.recorder: Recorder | None = None
        self._ease: tuple[Look, Look, float, float] | None = None  # start, target, t0, seconds
        self.running = True
        self.frame_index = 0
        self._meter = RateMeter()
        self._applied = self._rejected = self._reseeds = self._errors = 0
        self._recorded = 0
        self._dropped_closed = 0  # dropped counts of recorders already closed
        if state.recording:  # start recording through the same path as a command would
            self._set_state(state)
            self._side_effects(replace(state, recording=False), state)

    # --- commands and state ------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        self.state = state

    def submit(self, command: Command) -> None:
        """Queue a command from the loop's own thread or any other (same path as controllers)."""
        self.queue.put(command, origin="api")

    def _drain(self) -> None:
        for envelope in self.queue.drain():
            old = self.state
            try:
                new = apply(old, envelope.command, self.env)
            except LivedreamError as exc:
                self._rejected += 1
                self._limiter.log(f"reject:{type(envelope.command).__name__}",
                                  f"ignored {envelope.command!r} from {envelope.origin or '?'}: "
                                  f"{exc}", logging.WARNING)
                continue
            self._applied += 1
            log.debug("frame %d: applied %r from %s", self.frame_index, envelope.command,
                      envelope.origin or "?")
            self._set_state(new)
            self._side_effects(old, new)
            for observer in self.observers:
                try:
                    observer(old, self.state)
                except Exception as exc:  # an adapter's bug must not stop the show
                    self._limiter.log("observer", f"state observer: {exc!r}", logging.WARNING)
            if envelope.reply is not None:
                try:
                    envelope.reply(self.state)
                except Exception as exc:  # a broken controller must not stop the show
                    self._limiter.log("reply", f"reply to {envelope.origin}: {exc!r}",
                                      logging.WARNING)

    def _side_effects(self, old: State, new: State) -> None:
        if new.recording != old.recording:
            self._start_recording() if new.recording else self._stop_recording()
        key = (new.look.model, new.look.weights)
        if key != self._model_key and (self._pending is None or self._pending[0] != key):
            self._start_model_load(key)
        elif key == self._model_key and self._pending is not None:
            log.info("model switch to %s cancelled", self._pending[0][0])
            self._pending = None
        if key == self._model_key:
            self._active_layers = tuple(new.look.layers)
        if new.reset_count != old.reset_count:
            self.buffer = self._seed_frame()
            log.info("frame %d: buffer re-seeded (reset)", self.frame_index)
        if new.fullscreen != old.fullscreen:
            self.display.set_fullscreen(new.fullscreen)
        if new.quit:
            self.running = False
        if new.look != old.look:
            self._start_ease(old, new)

    # --- easing ------------------------------------------------------------------------------
    def _start_ease(self, old: State, new: State) -> None:
        now = self.clock.now()
        if new.ease_seconds <= 0:
            self._ease = None
            return
        current = self._eased_look(now, old.look)
        self._ease = (current, new.look, now, new.ease_seconds)

    def _eased_look(self, now: float, target: Look | None = None) -> Look:
        """The look the dream uses at `now`: the state's, or part-way there while easing."""
        target = target or self.state.look
        if self._ease is None:
            return target
        start, ease_target, t0, seconds = self._ease
        if ease_target is not target:
            return target
        u = (now - t0) / seconds
        if u >= 1.0:
            self._ease = None
            return target
        return interpolate_look(start, target, u)

    def effective_look(self) -> Look:
        """The look the next frame will use (eased values included)."""
        return self._eased_look(self.clock.now())

    # --- recording ---------------------------------------------------------------------------
    def _start_recording(self) -> None:
        if self.recorder is not None:
            return
        if self.recorder_factory is None:
            self._limiter.log("record:no-target",  # a controller may repeat it
                              "recording requested but no recording target was configured "
                              "(start with --record FILE or --record-frames DIR)", logging.ERROR)
            self._set_state(replace(self.state, recording=False))
            return
        try:
            self.recorder = self.recorder_factory()
        except (LivedreamError, OSError, ValueError) as exc:
            log.error("cannot start recording: %s", exc)
            self._set_state(replace(self.state, recording=False))
            return
        log.info("frame %d: recording started", self.frame_index)

    def _stop_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            recorder.close()
        except Exception as exc:  # finalising must never take the show down
            log.error("closing the recording failed: %r", exc)
        self._dropped_closed += int(getattr(recorder, "dropped", 0) or 0)
        log.info("frame %d: recording stopped (%d frames written, %d dropped)", self.frame_index,
                 int(getattr(recorder, "frames_written", self._recorded) or 0),
                 int(getattr(recorder, "dropped", 0) or 0))

    # --- model switch --------------------------------------------------------------------------
    def _start_model_load(self, key: tuple[str, str | None]) -> None:
        future: Future[DreamModel] = Future()

        def load() -> None:
            try:
                future.set_result(self._loader(key[0], key[1], self.device))
            except BaseException as exc:  # reported on the render thread
                future.set_exception(exc)

        self._pending = (key, future)
        log.info("frame %d: loading model %s in the background", self.frame_index, key[0])
        threading.Thread(target=load, name=f"load-model-{key[0]}", daemon=True).start()

    def _poll_model_load(self) -> None:
        if self._pending is None or not self._pending[1].done():
            return
        (name, weights), future = self._pending
        self._pending = None
        try:
            model = future.result()
        except Exception as exc:
            self._limiter.log("model:load-failed",  # rate-limited: OSC can repeat it
                              f"model {name} could not be loaded, staying on "
                              f"{self._model_key[0]}: {exc}", logging.ERROR)
            look = replace(self.state.look, model=self._model_key[0], weights=self._model_key[1],
                           layers=self._active_layers)
            self._set_state(replace(self.state, look=look))
            return
        layers = tuple(self.state.look.layers)
        valid = set(model.layer_names())
        if not layers or any(layer not in valid for layer in layers):
            fallback = _fallback_layer(model)
            log.warning("layers %s are not in model %s; using %s", ", ".join(layers), name,
                        fallback)
            layers = (fallback,)
            self._set_state(replace(self.state, look=replace(self.state.look, layers=layers)))
        self.model = model
        self._model_key = (name, weights)
        self._active_layers = layers
        self.env = Env(layer_names=tuple(model.layer_names()), presets=self._presets)
        log.info("frame %d: now dreaming with model %s (layers %s)", self.frame_index, name,
                 ", ".join(layers))

    # --- frames ------------------------------------------------------------------------------
    def _read_source(self) -> Tensor | None:
        if self.source is None:
            return None
        try:
            frame = self.source.read()
        except (LivedreamError, OSError, RuntimeError) as exc:
            self._limiter.log("source", f"source read failed: {exc}", logging.WARNING)
            return None
        return frame.to(device=self.device, dtype=torch.float32)

    def _seed_frame(self) -> Tensor:
        """A fresh buffer: the live source's frame, else the start image (noise if that is flat)."""
        frame = self._read_source()
        if frame is None or degenerate_reason(frame) is not None:
            frame = self._start_image
        if degenerate_reason(frame) is not None:
            gen = torch.Generator().manual_seed(self.seed + 1)
            noise = torch.rand(frame.shape, generator=gen).to(frame.device)
            frame = (0.5 * torch.nan_to_num(frame, nan=0.5).clamp(0, 1) + 0.5 * noise)
        return frame.clone()

    def _dream_frame(self, look: Look) -> Tensor:
        """One dream step + source blend + chain; the old buffer (re-chained) if the step fails."""
        frame = self.buffer
        try:
            frame = self._dream(self.model, frame, list(self._active_layers), look.dream,
                                generator=self.generator)
        except Exception as exc:  # the show goes on: log (rate-limited) and skip the step
            self._errors += 1
            self._limiter.log(f"dream:{type(exc).__name__}",
                              f"frame {self.frame_index}: dream step failed: {exc!r}",
                              logging.ERROR)
        if self.state.source_mix > 0:
            source = self._read_source()
            if source is not None:
                frame = blend(frame, source, self.state.source_mix)
        try:
            from livedream.transforms import apply_chain

            frame = apply_chain(frame, look.chain, t=self.frame_index, seed=self.seed)
        except Exception as exc:
            self._errors += 1
            self._limiter.log(f"chain:{type(exc).__name__}",
                              f"frame {self.frame_index}: transform chain failed: {exc!r}",
                              logging.ERROR)
        return frame

    def tick(self) -> bool:
        """Produce one frame (or, paused, apply commands and wait); False once the show is over."""
        self._drain()
        self._poll_model_load()
        if not self.running:
            return False
        if self.state.paused:
            self.clock.sleep(self.pause_sleep)
            return True
        look = self.effective_look()
        frame = self._dream_frame(look)
        reason = degenerate_reason(frame)
        if reason is not None:
            self._reseeds += 1
            self._limiter.log(f"degenerate:{reason}",
                              f"frame {self.frame_index}: {reason} frame, buffer re-seeded",
                              logging.WARNING)
            frame = self._seed_frame()
        self.buffer = frame
        self.frame_index += 1
        self._meter.mark(self.clock.now())
        self.display.show(frame, self.state, self.stats())
        if self.recorder is not None:
            try:
                self.recorder.write(frame)
                self._recorded += 1
            except Exception as exc:
                log.error("recording failed, stopping it: %r", exc)
                self._set_state(replace(self.state, recording=False))
                self._stop_recording()
        return True

    def run(
        self,
        max_frames: int | None = None,
        max_seconds: float | None = None,
        stop: threading.Event | None = None,
    ) -> LoopStats:
        """Tick until quit, `stop` is set, `max_frames` frames or `max_seconds` have passed."""
        t0 = self.clock.now()
        while self.running:
            if stop is not None and stop.is_set():
                break
            if max_frames is not None and self.frame_index >= max_frames:
                break
            if max_seconds is not None and self.clock.now() - t0 >= max_seconds:
                break
            self.tick()
        return self.stats()

    def close(self) -> None:
        """Finalise the recording (if any); the loop can no longer run."""
        self.running = False
        if self.recorder is not None:
            self._stop_recording()

    # --- stats -------------------------------------------------------------------------------
    def stats(self) -> LoopStats:
        dropped = self._dropped_closed + int(getattr(self.recorder, "dropped", 0) or 0)
        dream_fps = self._meter.rate()
        return LoopStats(
            frames=self.frame_index,
            dream_fps=dream_fps if math.isfinite(dream_fps) else 0.0,
            display_fps=self.display.display_fps(),
            recording=self.recorder is not None,
            recorded=self._recorded,
            dropped=dropped,
            applied=self._applied,
            rejected=self._rejected,
            reseeds=self._reseeds,
            errors=self._errors,
            model=self._model_key[0],
            layers=self._active_layers,
            chain=tuple(link.name for link in self.state.look.chain if link.enabled),
            loading_model=self._pending[0][0] if self._pending else None,
        )
