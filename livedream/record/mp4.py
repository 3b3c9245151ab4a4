"""Crash-safe H.264 recording through PyAV, and `probe_video`, an ffprobe equivalent for checks.

Crash safety: the file is a fragmented MP4 (`frag_keyframe+empty_moov+default_base_moof`) written
straight to its final path. The header needs no frame index, every keyframe starts a new fragment
and the GOP is one second, so each finished second lands on disk as a self-contained fragment while
recording. `kill -9` therefore leaves a playable file holding everything up to the last keyframe.
For the same reason x264 runs with `tune=zerolatency` (no lookahead, no B-frames): every frame is
encoded the moment it arrives, otherwise a second or more would sit inside the encoder.
A live show often renders slower than the file's nominal fps (8 dream frames/s into a 30 fps
file), so a GOP of `fps` frames could span several seconds of wall time: a keyframe is also forced
once `max_fragment_seconds` of wall time have passed since the last one.

With an `audio` clip (offline music videos) the writer adds an AAC stream and muxes the audio
interleaved with the frames; such a file is a regular (not fragmented) mp4, because only its edit
list trims the AAC encoder's priming samples, which keeps audio and video starting together.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from livedream.errors import LivedreamError, ParamError
from livedream.record.convert import to_uint8_hwc
from livedream.record.sink import SinkBase

log = logging.getLogger(__name__)

MP4_SUFFIXES = (".mp4", ".mov", ".mkv")
FRAGMENTED_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
AAC_FRAME = 1024  # samples per AAC-LC frame: audio goes to the encoder in these steps
#: Up to this many pixels per frame x264 encodes on one thread: its slice threads (zerolatency)
#: cost 15-40% more CPU for latency nobody needs, CPU a CPU dream is short of (at 320x180:
#: 0.82 vs 1.17 ms per frame; bench row 11). Larger frames keep x264's own thread count.
SINGLE_THREAD_PIXELS = 640 * 360


def x264_threads(width: int, height: int) -> int:
    """Encoder threads for a frame size: 1 for small frames, 0 (x264 chooses) above."""
    return 1 if width * height <= SINGLE_THREAD_PIXELS else 0


def fps_fraction(fps: float) -> Fraction:
    """Validate `fps` and return it as an exact rational (29.97 -> 2997/100, 30 -> 30)."""
    if isinstance(fps, bool) or not isinstance(fps, int | float | Fraction):
        raise ParamError(f"fps must be a number, got {fps!r}")
    if not math.isfinite(float(fps)) or not 0 < float(fps) <= 1000:
        raise ParamError(f"fps must be in (0, 1000], got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


def pad_to_even(pixels: np.ndarray) -> np.ndarray:
    """Pad an HxWx3 frame to even height and width by repeating its last row / column.

    yuv420p stores chroma at half resolution, so H.264 needs even sizes. Padding (rather than
    cropping) keeps every rendered pixel; the video is then one pixel larger on the odd axis.
    """
    pad_h, pad_w = pixels.shape[0] % 2, pixels.shape[1] % 2
    if not (pad_h or pad_w):
        return pixels
    return np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


class Mp4Writer(SinkBase):
    """H.264 (libx264, yuv420p) writer for .mp4 / .mov / .mkv; the size comes from the first frame.

    Odd sizes are padded to even (see `pad_to_even`); a later frame of another size raises
    LivedreamError (no silent rescale). `crf` is x264's quality (0 lossless .. 51, 18 ~ visually
    lossless); `preset` trades CPU for file size. `max_fragment_seconds` (0.5: the fragment in
    progress plus what the recorder queue holds stays under a second) bounds, in wall time, how
    much a kill can lose (None: keyframes by frame count only).

    `realtime=True` (the live show) stamps each frame with the time it was shown (`write(frame,
    at=...)`, else the time of the call) on a 1/fps grid, so a show dreaming 3 frames/s plays
    back at its real speed instead of as a 30 fps time-lapse; otherwise frame n is at n/fps.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float = 30.0,
        crf: int = 18,
        *,
        preset: str = "veryfast",
        max_fragment_seconds: float | None = 0.5,
        realtime: bool = False,
        audio: Any = None,
    ) -> None:
        super().__init__(os.fspath(path))
        import av  # heavy import kept out of module import time

        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
            raise ParamError(f"crf must be an integer in 0..51, got {crf!r}")
        self.path = os.fspath(path)
        self.fps = fps_fraction(fps)
        self.crf = crf
        self.preset = preset
        self.max_fragment_seconds = max_fragment_seconds
        self.realtime = realtime
        if audio is not None and realtime:
            raise ParamError("an audio track can only be muxed into an offline (non-realtime) mp4")
        self.audio = audio  # livedream.audio.decode.AudioClip or None
        self._audio_stream: Any = None
        self._audio_pos = 0  # samples of `audio` sent to the encoder
        self._first_at: float | None = None  # realtime: when the first frame was shown
        self._last_pts = -1
        self._last_keyframe = 0.0  # time.monotonic() of the last keyframe requested
        self.size: tuple[int, int] | None = None  # (width, height) of the input frames
        self._av = av
        self._stream: Any = None
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):  # PyAV only opens the file at the first frame
            raise LivedreamError(f"cannot open {self.path}: directory {parent} does not exist")
        suffix = os.path.splitext(self.path)[1].lower()
        options = {"movflags": FRAGMENTED_MOVFLAGS} if suffix in (".mp4", ".mov") else {}
        if audio is not None and options:
            options["movflags"] = "+faststart"  # edit list trims AAC priming (see module doc)
        options["flush_packets"] = "1"  # hand each muxed packet to the OS: a kill loses no buffer
        try:
            self._container = av.open(self.path, mode="w", options=options)
        except (OSError, av.FFmpegError) as exc:
            raise LivedreamError(f"cannot open {self.path} for writing: {exc}") from exc

    def _open_stream(self, width: int, height: int) -> None:
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        # A keyframe at least every second: each second becomes its own fragment on disk.
        stream.codec_context.gop_size = max(1, round(float(self.fps)))
        stream.codec_context.options = {
            "crf": str(self.crf),
            "preset": self.preset,
            "tune": "zerolatency",
            "forced-idr": "1",  # a forced keyframe is an IDR frame: a clean fragment start
            "threads": str(x264_threads(width, height)),
        }
        self._stream = stream
        if self.audio is not None:
            layout = "stereo" if self.audio.channels == 2 else "mono"
            self._audio_stream = self._container.add_stream("aac", rate=self.audio.rate)
            self._audio_stream.layout = layout

    def _write_audio(self, until: int) -> None:
        """Encode the audio clip up to sample `until` (whole AAC frames; the tail at the end)."""
        clip = self.audio
        total = clip.samples.shape[1]
        until = min(until, total)
        layout = "stereo" if clip.channels == 2 else "mono"
        while self._audio_pos < until and (self._audio_pos + AAC_FRAME <= until
                                           or until == total):
            end = min(self._audio_pos + AAC_FRAME, total)
            chunk = np.ascontiguousarray(clip.samples[:, self._audio_pos:end], dtype=np.float32)
            frame = self._av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = clip.rate
            frame.pts = self._audio_pos
            self._container.mux(self._audio_stream.encode(frame))
            self._audio_pos = end

    def _next_pts(self, at: float | None) -> int:
        """Presentation time in 1/fps ticks: the frame count, or (realtime) the time shown."""
        if not self.realtime:
            return self.frames_written
        at = time.monotonic() if at is None else at
        if self._first_at is None:
            self._first_at = at
        ticks = round((at - self._first_at) * self.fps)
        return max(self._last_pts + 1, ticks)  # strictly increasing, even for a stalled clock

    def write(self, frame: Any, at: float | None = None) -> None:
        """Encode one frame (tensor or uint8 HxWx3); encoded packets are muxed immediately."""
        self._check_open()
        pixels = to_uint8_hwc(frame)
        height, width = pixels.shape[:2]
        if self.size is None:
            self._open_stream(width, height)
            self.size = (width, height)
        elif self.size != (width, height):
            raise LivedreamError(
                f"{self.path}: frame size changed from {self.size[0]}x{self.size[1]} to "
                f"{width}x{height}; a video keeps one size (start a new recording to change it)"
            )
        video_frame = self._av.VideoFrame.from_ndarray(pad_to_even(pixels), format="rgb24")
        video_frame.pts = self._last_pts = self._next_pts(at)
        now = time.monotonic()
        if self.frames_written == 0:
            self._last_keyframe = now
        elif (self.max_fragment_seconds is not None
              and now - self._last_keyframe >= self.max_fragment_seconds):
            video_frame.pict_type = self._av.video.frame.PictureType.I
            self._last_keyframe = now
        try:
            self._container.mux(self._stream.encode(video_frame))
            if self._audio_stream is not None:  # the audio up to the end of this frame
                self._write_audio(round((self.frames_written + 1) / self.fps * self.audio.rate))
        except (OSError, self._av.FFmpegError) as exc:
            raise LivedreamError(f"{self.path}: encoding / writing failed: {exc}") from exc
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (writes the last fragment); idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._stream is not None:
                self._container.mux(self._stream.encode(None))
            if self._audio_stream is not None:
                self._write_audio(round(self.frames_written / self.fps * self.audio.rate))
                self._container.mux(self._audio_stream.encode(None))
        finally:
            self._container.close()
        if self.frames_written == 0:
            log.warning("%s: closed without any frame; no file written", self.path)


@dataclass(frozen=True)
class VideoInfo:
    """What `probe_video` found: codec name, decoded frame count, size, frame rate, seconds."""

    codec: str
    frames: int
    width: int
    height: int
    fps: float
    duration: float


def _open_to_read(path: str | os.PathLike[str], what: str) -> tuple[str, Any]:
    """(path as text, the open PyAV container), or LivedreamError naming the file."""
    import av

    target = os.fspath(path)
    try:
        return target, av.open(target, mode="r")
    except (OSError, av.FFmpegError) as exc:
        raise LivedreamError(f"cannot read {what} {target}: {exc}") from exc


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Decode every frame of the first video stream of `path` and report what is really there.

    Like `ffprobe -count_frames`: the frame count comes from decoding, not from the header, so a
    file cut short by a crash reports the frames it truly holds. A damaged tail (the fragment a
    kill interrupted) ends the count instead of failing; an unreadable file raises LivedreamError.
    """
    import av

    target, container = _open_to_read(path, "video")
    with container:
        if not container.streams.video:
            raise LivedreamError(f"{target} holds no video stream")
        stream = container.streams.video[0]
        frames = 0
        pts_values: list[int] = []
        try:
            for packet in container.demux(stream):
                for decoded in packet.decode():
                    frames += 1
                    if decoded.pts is not None:
                        pts_values.append(decoded.pts)
        except av.FFmpegError as exc:
            if frames == 0:
                raise LivedreamError(f"cannot decode video {target}: {exc}") from exc
            log.info("%s: stopped at a damaged tail after %d frames: %s", target, frames, exc)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if pts_values and stream.time_base and fps:
            span = max(pts_values) - min(pts_values)
            duration = float(span * stream.time_base) + 1.0 / fps
        else:
            duration = frames / fps if fps else 0.0
        return VideoInfo(
            codec=stream.codec_context.name,
            frames=frames,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            duration=duration,
        )


@dataclass(frozen=True)
class AudioInfo:
    """What `probe_audio` found in the first audio stream: codec, seconds, rate, channels."""

    codec: str
    duration: float
    rate: int
    channels: int


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """The first audio stream of `path`; its duration from the container (edit list applied)."""
    target, container = _open_to_read(path, "audio")
    with container:
        if not container.streams.audio:
            raise LivedreamError(f"{target} holds no audio stream")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        else:  # no header duration: count the decoded samples
            duration = sum(f.samples for f in container.decode(stream)) / stream.rate
        return AudioInfo(stream.codec_context.name, duration, int(stream.rate),
                         stream.codec_context.channels)
