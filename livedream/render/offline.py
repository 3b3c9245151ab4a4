"""Offline rendering: the 2015 post's loop (dream, save the frame, transform, repeat) on the device.

`render` keeps the frame on the model's device the whole time; the only readback is inside the
recorders (mp4 / GIF / numbered PNGs). A KeyboardInterrupt (Ctrl-C) stops the loop and every
output is still closed properly, so what was rendered so far is a playable file.

Music videos: with `audio=track`, the frame count is the track's length at `fps`, the look's
modulators follow the track's analysis (beat position and audio features at each frame's time)
and every video output gets the track as an AAC stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import Tensor

from livedream.dream import Dreamer
from livedream.errors import ParamError
from livedream.look import Look
from livedream.models.base import DreamModel
from livedream.params import MAX_SIDE, MIN_SIDE
from livedream.record import open_recorder, output_kind
from livedream.tempo.reading import BPM

log = logging.getLogger(__name__)

GIF_MODES = ("forward", "reverse", "pingpong")
MAX_FRAMES = 1_000_000

FrameCallback = Callable[[int, Tensor], None]


@dataclass(frozen=True)
class RenderResult:
    """What a render produced: frames written to every output, the outputs, interruption, time."""

    frames: int
    outputs: list[Path] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def load_look_model(look: Look, device: str | torch.device | None) -> DreamModel:
    """The look's model from the registry (cached there), on `device` (default: best available)."""
    from livedream.models.registry import load_model

    return load_model(look.model, weights=look.weights, device=device)


def _check_args(frames: int, size: tuple[int, int], gif_mode: str, loop: int, seed: int) -> None:
    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise ParamError(f"frames: expected an integer in [1, {MAX_FRAMES}], got {frames!r}")
    if (
        len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in size)
        or not all(MIN_SIDE <= s <= MAX_SIDE for s in size)
    ):
        raise ParamError(
            f"size: expected (width, height) integers in [{MIN_SIDE}, {MAX_SIDE}], got {size!r}"
        )
    if gif_mode not in GIF_MODES:
        raise ParamError(f"gif_mode: expected one of {', '.join(GIF_MODES)}, got {gif_mode!r}")
    if isinstance(loop, bool) or not isinstance(loop, int) or loop < 0:
        raise ParamError(f"loop: expected an integer >= 0 (0 = forever), got {loop!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParamError(f"seed: expected an integer >= 0, got {seed!r}")


def start_frame(
    input: str | Path | None, size: tuple[int, int], seed: int, device: torch.device
) -> Tensor:
    """The first frame: the input image resized to `size`, or the built-in generated image."""
    from livedream import sources

    if input is None:
        frame = sources.generated_image(size, seed=seed)
    else:
        frame = sources.load_image(input, size=size)
    return frame.to(device=device, dtype=torch.float32)


def _open_outputs(
    outputs: Sequence[Path], fps: float, gif_mode: str, loop: int, audio: object = None
) -> list[object]:
    """Open one recorder per output; if one fails, the ones already open are closed."""
    sinks: list[object] = []
    try:
        for path in outputs:
            kind = output_kind(path)
            if kind == "frames":
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "gif":
                sinks.append(open_recorder(path, fps, gif_mode=gif_mode, loop=loop))
            elif kind == "video" and audio is not None:
                from livedream.record.mp4 import Mp4Writer

                sinks.append(Mp4Writer(path, fps, audio=audio))
            else:
                sinks.append(open_recorder(path, fps))
    except BaseException:
        _close_all(sinks)
        raise
    return sinks


def _close_all(sinks: Sequence[object]) -> None:
    """Close every sink even if one fails; the first failure is re-raised after all are closed."""
    first: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - keep closing the others
            log.error("closing %s failed: %s", sink, exc)
            first = first or exc
    if first is not None:
        raise first


def render(
    look: Look,
    *,
    input: str | Path | None = None,
    frames: int | None = None,
    size: tuple[int, int],
    out: Sequence[str | Path],
    fps: float = 15.0,
    audio: str | Path | None = None,
    bpm: float = 120.0,
    seed: int = 0,
    octaves: int | None = None,
    iterations: int | None = None,
    gif_mode: str = "forward",
    loop: int = 0,
    device: str | torch.device | None = None,
    model: DreamModel | None = None,
    progress: bool = True,
    on_frame: FrameCallback | None = None,
    autocast: torch.dtype | None = None,
) -> RenderResult:
    """Render `frames` frames of `look` to every output in `out` (.mp4/.mov/.mkv, .gif, a dir).

    Per frame, as in the post: dream (octave pyramid when octaves > 1), write the frame, apply the
    transform chain (with the frame index `t` and `seed`). `octaves` / `iterations` override the
    look's dream settings. `model` skips loading (tests, the demo); `on_frame(t, frame)` is called
    after each frame is written. Ctrl-C ends early with `interrupted=True` and closed outputs.

    `audio` (a track): `frames` defaults to the track's length at `fps`, the modulators follow
    its analysis and video outputs carry it. Without it the modulators run at `bpm`.
    `autocast` runs the net in that dtype (see `livedream.device.pick_precision`; None = fp32).
    """
    from livedream.tempo.modulate import modulate
    from livedream.transforms.registry import apply_chain

    bpm = float(BPM.validate(bpm, "bpm"))
    clip = track = None
    if audio is not None:
        from livedream.audio.analysis import analyse_clip
        from livedream.audio.decode import load_clip
        from livedream.record.mp4 import fps_fraction

        clip = load_clip(audio)
        track = analyse_clip(clip)
        if frames is None:
            frames = max(1, round(clip.duration * float(fps_fraction(fps))))
    if frames is None:
        raise ParamError("frames: give a frame count or an audio track to take it from")
    _check_args(frames, size, gif_mode, loop, seed)
    outputs = [Path(p) for p in out]
    if not outputs:
        raise ParamError("out: give at least one output (.mp4, .gif or a frames directory)")
    for path in outputs:
        output_kind(path, f"output {str(path)!r}")  # an unknown suffix fails before the model
    settings = look.dream
    if octaves is not None:
        settings = settings.with_param("octaves", octaves)
    if iterations is not None:
        settings = settings.with_param("iterations", iterations)
    look = replace(look, dream=settings)

    if model is None:
        model = load_look_model(look, device)
    target = model.device if device is None else torch.device(device)
    model.check_layers(list(look.layers))
    frame = start_frame(input, size, seed, target)
    guide = None
    if look.guide is not None:
        from livedream import sources

        guide = sources.load_image(look.guide, size=size).to(device=target, dtype=torch.float32)
    dreamer = Dreamer(model, look.layers, settings, seed=seed, guide_image=guide,
                      autocast=autocast)

    from tqdm import tqdm

    sinks = _open_outputs(outputs, fps, gif_mode, loop, clip)
    written = 0
    interrupted = False
    started = time.perf_counter()
    bar = tqdm(total=frames, unit="frame", desc=look.name, disable=not progress, leave=False)
    try:
        for t in range(frames):
            active = look
            if look.modulators:
                at = t / fps
                beat = track.beat_at(at) if track is not None else at * bpm / 60.0
                active = modulate(look, look.modulators, beat,
                                  track.at(at) if track is not None else None)
                dreamer.settings = active.dream
            frame = dreamer(frame)
            for sink in sinks:
                sink.write(frame)  # type: ignore[attr-defined]
            written += 1
            bar.update(1)
            if on_frame is not None:
                on_frame(t, frame)
            if t + 1 < frames:
                with torch.no_grad():
                    frame = apply_chain(frame, active.chain, t=t, seed=seed)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted after %d frames; finalising the outputs", written)
    finally:
        bar.close()
        _close_all(sinks)
    return RenderResult(written, outputs, interrupted, time.perf_counter() - started)
