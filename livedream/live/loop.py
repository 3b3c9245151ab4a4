"""The render loop: take the latest state, dream on the feedback buffer, transform, show, record.

One `RenderLoop.tick()` is one dream frame:

1. drain the command queue through the `Dispatcher` (which owns the `State`; in a live show its
   own thread drains too, so echoes do not wait for this tick) and derive side effects by diffing
   the state this loop last acted on against the current one: recording on/off
   (`RecordingControl`), model switch (`ModelSwitcher`, loaded off-thread while the show keeps
   dreaming on the old model), reset (re-seed), fullscreen, quit, and easing (`Easing`);
2. unless paused: the look for this frame (eased, then every `look_filters` entry: modulators,
   the frame-budget governor), the optical-flow warp of the buffer (`state.flow`, `FlowFeedback`),
   one `Dreamer` call (octaves, guide, precision), the live source blended in by
   `state.source_mix` (per pixel where the motion gate or key opens it), the transform chain, a
   degenerate-frame check (NaN/inf or one flat colour: re-seed), then every output
   (`display.show`) and the recorder.

The frame stays a device tensor throughout; outputs and recorder are the only readbacks.
Time comes from an injectable `Clock`, so tests run the loop with a fake clock.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.commands import Command
from livedream.control.ratelimit import RateLimitedLog
from livedream.dream import Dreamer, DreamFn
from livedream.errors import LivedreamError
from livedream.flow.feedback import FlowFeedback, flow_settings
from livedream.live.clock import Clock, RateMeter, SystemClock
from livedream.live.dispatch import Dispatcher, StateObserver
from livedream.live.display_base import Display, LoopStats
from livedream.live.easing import Easing
from livedream.live.health import degenerate_reason, fresh_frame
from livedream.live.live_input import LiveInput
from livedream.live.model_switch import (
    ModelKey,
    ModelLoader,
    ModelSwitcher,
    default_loader,
    layers_on,
)
from livedream.live.recording import RecorderFactory, RecordingControl
from livedream.look import Look
from livedream.models.base import DreamModel
from livedream.sources import Source, generated_image, load_image
from livedream.state import Env, State
from livedream.transforms.registry import apply_chain

log = logging.getLogger(__name__)

#: (look, now) -> the look to dream with this frame (modulators, the frame-budget governor)
LookFilter = Callable[[Look, float], Look]

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
        recorder_factory: RecorderFactory | None = None,
        source: Source | None = None,
        size: tuple[int, int] = (320, 180),
        device: str | torch.device = "cpu",
        presets: Mapping[str, Look] | None = None,
        seed: int = 0,
        start_image: Tensor | None = None,
        dream_fn: DreamFn | None = None,
        autocast: torch.dtype | None = None,
        pause_sleep: float = 1.0 / 60.0,
        observers: Sequence[StateObserver] = (),
        look_filters: Sequence[LookFilter] = (),
        outputs: Sequence[Display] = (),
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.queue = queue
        self.display = display
        self.outputs = [display, *outputs]
        self.clock: Clock = clock or SystemClock()
        self.device = torch.device(device)
        self.size = size
        self.source = source
        self.seed = seed
        self.pause_sleep = pause_sleep
        self.look_filters = list(look_filters)
        self._presets = dict(presets or {})
        self._limiter = RateLimitedLog(log, 5.0, clock=self.clock.now)  # a repeat per frame
        self.input = LiveInput(source, self.device, self._limiter)
        self._models = ModelSwitcher(model_loader or default_loader, self.device)

        self.model = model if model is not None else self._models.loader(
            state.look.model, state.look.weights, self.device)
        self.model.check_layers(state.look.layers)
        self._model_key: ModelKey = (state.look.model, state.look.weights)
        self._active_layers = tuple(state.look.layers)
        self.dreamer = Dreamer(self.model, self._active_layers, state.look.dream, seed=seed,
                               autocast=autocast, dream_fn=dream_fn)
        self._guide_path: str | None = None

        self._start_image = (
            start_image.to(self.device, torch.float32) if start_image is not None
            else generated_image(size, seed, self.device)
        )
        self.buffer = self._seed_frame()

        initial = replace(state, recording=False)
        self.dispatcher = dispatcher or Dispatcher(initial, queue, clock=self.clock)
        self.dispatcher.replace_state(initial)
        self.dispatcher.observers.extend(observers)
        self.dispatcher.set_env(self._env())
        self._seen = initial  # the state whose side effects this loop has performed
        self._reach = 0  # first frame that a command applied now reaches
        self.dispatcher.frame_reached = lambda: self._reach
        self.recording = RecordingControl(recorder_factory, self._limiter)
        self.easing = Easing()
        self.flow = FlowFeedback()  # optical-flow warp and motion gate (livedream.flow)
        self.running = True
        self.frame_index = 0
        self._meter = RateMeter()
        self._reseeds = self._errors = 0
        self._sync_guide(state.look)
        if state.recording:  # start recording through the same path as a command would
            self.dispatcher.replace_state(state)
            self._sync()

    # --- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.dispatcher.state

    @state.setter
    def state(self, state: State) -> None:
        """Replace the state outright, without side effects (tests, start-up)."""
        self.dispatcher.replace_state(state)
        self._seen = state

    def submit(self, command: Command) -> None:
        """Queue a command from the loop's own thread or any other (same path as controllers)."""
        self.queue.put(command, origin="api")

    def _env(self) -> Env:
        return Env(layer_names=tuple(self.model.layer_names()), presets=self._presets)

    def _amend(self, change: Callable[[State], State]) -> None:
        """Correct the state (the side effect did not happen) without re-triggering it."""
        self._seen = change(self._seen)
        self.dispatcher.amend(change)

    def _sync(self) -> None:
        """Perform the side effects of every state change since the last sync."""
        current = self.dispatcher.state
        self._reach = self.frame_index + 1  # a change applied from now on reaches the next frame
        if current is self._seen:
            return
        old, self._seen = self._seen, current
        self._side_effects(old, current)

    def _side_effects(self, old: State, new: State) -> None:
        if new.recording != old.recording:
            if not new.recording:
                self.recording.stop()
            elif not self.recording.start():
                self._amend(lambda s: replace(s, recording=False))
        key = (new.look.model, new.look.weights)
        if key != self._model_key:
            self._models.request(key)
        else:
            self._models.cancel()
            self._set_layers(tuple(new.look.layers))
        if new.reset_count != old.reset_count:
            self.buffer = self._seed_frame()
            self.flow.reset()
            log.info("frame %d: buffer re-seeded (reset)", self.frame_index)
        if new.fullscreen != old.fullscreen:
            self.display.set_fullscreen(new.fullscreen)
        if new.quit:
            self.running = False
        if new.look != old.look:
            self.easing.start(old.look, new.look, self.clock.now(), new.ease_seconds)
            self._sync_guide(new.look)

    def _set_layers(self, layers: tuple[str, ...]) -> None:
        if layers != self._active_layers:
            self.dreamer.set_layers(layers)
            self._active_layers = layers

    def _sync_guide(self, look: Look) -> None:
        """Load the look's guide image (dream towards its features) when it changes."""
        if look.guide == self._guide_path:
            return
        self._guide_path = look.guide
        image = None
        if look.guide is not None:
            try:
                image = load_image(look.guide, self.size, self.device)
            except LivedreamError as exc:
                self._limiter.log("guide", f"guide image ignored: {exc}", logging.ERROR)
        self.dreamer.set_guide(image)

    def _poll_model_load(self) -> None:
        done = self._models.poll()
        if done is None:
            return
        (name, weights), result = done
        if isinstance(result, BaseException):
            self._limiter.log("model:load-failed",  # rate-limited: OSC can repeat it
                              f"model {name} could not be loaded, staying on "
                              f"{self._model_key[0]}: {result}", logging.ERROR)
            model_key, layers = self._model_key, self._active_layers
            self._amend(lambda s: replace(s, look=replace(
                s.look, model=model_key[0], weights=model_key[1], layers=layers)))
            return
        model = result
        wanted = tuple(self.state.look.layers)
        layers = layers_on(model, wanted)
        if layers != wanted:
            self._amend(lambda s: replace(s, look=replace(s.look, layers=layers)))
        self.model = model
        self._model_key = (name, weights)
        self._active_layers = layers
        self.dreamer.set_model(model, layers)
        self.dispatcher.set_env(self._env())
        log.info("frame %d: now dreaming with model %s (layers %s)", self.frame_index, name,
                 ", ".join(layers))

    # --- frames ------------------------------------------------------------------------------
    def _seed_frame(self) -> Tensor:
        """A fresh buffer: the live source's frame, else the start image (noise if that is flat)."""
        return fresh_frame(self.input.frame(), self._start_image, self.seed)

    def _frame_look(self, state: State) -> Look:
        now = self.clock.now()
        look = self.easing.look(now, state.look)
        for look_filter in self.look_filters:
            look = look_filter(look, now)
        return look

    def _dream_frame(self, state: State, look: Look) -> Tensor:
        """Flow warp + one dream step + (gated) source blend + chain; the old buffer (re-chained)
        if the step fails."""
        settings = flow_settings(state)
        sample = self.input.sample(state, settings)
        frame = self.flow.warp(self.buffer, sample, settings)  # dreams move with the scene
        try:
            frame = self.dreamer(frame, look.dream)
        except Exception as exc:  # the show goes on: log (rate-limited) and skip the step
            self._errors += 1
            self._limiter.log(f"dream:{type(exc).__name__}",
                              f"frame {self.frame_index}: dream step failed: {exc!r}",
                              logging.ERROR)
        if sample is not None:
            frame = self.flow.blend(frame, sample, settings, state.source_mix)
        try:
            frame = apply_chain(frame, look.chain, t=self.frame_index, seed=self.seed)
        except Exception as exc:
            self._errors += 1
            self._limiter.log(f"chain:{type(exc).__name__}",
                              f"frame {self.frame_index}: transform chain failed: {exc!r}",
                              logging.ERROR)
        return frame

    def tick(self) -> bool:
        """Produce one frame (or, paused, apply commands and wait); False once the show is over."""
        self._reach = self.frame_index
        self.dispatcher.drain()
        self._sync()
        self._poll_model_load()
        if not self.running:
            return False
        state = self._seen  # this frame's state (side effects done); later ones: next frame
        if state.paused:
            self.clock.sleep(self.pause_sleep)
            return True
        frame = self._dream_frame(state, self._frame_look(state))
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
        stats = self.stats()
        for output in self.outputs:
            output.show(frame, state, stats)
        if not self.recording.write(frame):
            self._amend(lambda s: replace(s, recording=False))
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
        self.recording.stop()

    # --- stats -------------------------------------------------------------------------------
    @property
    def recorder(self) -> Any:
        """The live recorder, if recording."""
        return self.recording.recorder

    def stats(self) -> LoopStats:
        dream_fps = self._meter.rate()
        extra: dict[str, Any] = {}
        for look_filter in self.look_filters:
            report = getattr(look_filter, "report", None)
            if callable(report):
                extra.update(report())
        return LoopStats(
            frames=self.frame_index,
            dream_fps=dream_fps if math.isfinite(dream_fps) else 0.0,
            display_fps=self.display.display_fps(),
            recording=self.recording.active,
            recorded=self.recording.recorded,
            dropped=self.recording.dropped,
            applied=self.dispatcher.stats.applied,
            rejected=self.dispatcher.stats.rejected,
            reseeds=self._reseeds,
            errors=self._errors,
            model=self._model_key[0],
            layers=self._active_layers,
            chain=tuple(link.name for link in self.state.look.chain if link.enabled),
            loading_model=self._models.loading,
            coalesced=self.queue.coalesced,
            extra=extra or None,
        )
