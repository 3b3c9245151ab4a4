"""Decode an audio file (any format FFmpeg reads) into float32 samples with PyAV.

`load_clip(path)` -> `AudioClip` (channels x samples, float32 in -1..1, one sample rate): the
analyser reads its mono mix, the mp4 muxer its channels. Every failure - missing, truncated,
not audio - is a LivedreamError naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from livedream.errors import LivedreamError

RATE = 44100
#: longest track decoded (an hour of stereo float32 at 44.1 kHz is ~1.3 GB: refuse beyond)
MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: `samples` is float32 [channels, n] in -1..1 at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.rate

    def mono(self) -> np.ndarray:
        """The channels' mean, float32 [n] (what the analyser listens to)."""
        return np.ascontiguousarray(self.samples.mean(axis=0, dtype=np.float32))


def load_clip(
    path: str | os.PathLike[str], rate: int = RATE, channels: int = 2
) -> AudioClip:
    """Decode the first audio stream of `path`, resampled to `rate` Hz and `channels` (1 or 2)."""
    import av

    target = os.fspath(path)
    layout = "stereo" if channels == 2 else "mono"
    try:
        container = av.open(target, mode="r")
    except (OSError, av.FFmpegError) as exc:
        raise LivedreamError(f"cannot read audio {target}: {exc}") from None
    chunks: list[np.ndarray] = []
    total = 0
    with container:
        if not container.streams.audio:
            raise LivedreamError(f"{target} holds no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += chunks[-1].shape[1]
                if total > MAX_SECONDS * rate:
                    raise LivedreamError(f"{target}: longer than {MAX_SECONDS:g} s")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.FFmpegError as exc:
            if not chunks:
                raise LivedreamError(f"cannot decode audio {target}: {exc}") from None
    if not chunks:
        raise LivedreamError(f"{target}: the audio stream is empty")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return AudioClip(np.clip(samples, -1.0, 1.0), rate)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int = RATE) -> None:
    """Write float samples ([n] or [channels, n], -1..1) as 16-bit PCM WAV (tests, examples)."""
    import wave

    data = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(os.fspath(path), "wb") as out:
        out.setnchannels(data.shape[0])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
