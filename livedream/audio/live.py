"""Live audio for the show: a track played (analysed) in real time, or a sound-card input.

Both run the `Analyser` off the render thread and keep the latest `AudioFeatures`; the loop
reads `latest()` once per frame. With a `TempoClock` given, detected beats drive it (the `audio`
tempo source): each beat sets the BPM and puts a whole beat at the moment it was heard.
A missing sound device or PortAudio library is a LivedreamError; the show goes on without audio.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

from livedream.audio.analysis import HOP, Analyser
from livedream.audio.decode import AudioClip, load_clip
from livedream.audio.features import SILENCE, AudioFeatures
from livedream.errors import LivedreamError
from livedream.live.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class _AudioInput:
    """Shared part: the analyser, the latest reading, the optional tempo it drives."""

    def __init__(self, rate: int, clock: Clock | None, tempo: Any = None) -> None:
        self.clock = clock or SystemClock()
        self.tempo = tempo
        self.started_at = self.clock.now()
        self.analyser = Analyser(rate, HOP, on_beat=self._beat if tempo is not None else None)
        self._latest = SILENCE
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _beat(self, at_audio: float, bpm: float) -> None:
        at = self.started_at + at_audio  # audio time -> clock time
        self.tempo.set_bpm(bpm, now=at, propose=False)
        self.tempo.follow(round(self.tempo.beat(at)), now=at)

    def _publish(self, features: AudioFeatures) -> None:
        with self._lock:
            self._latest = features

    def latest(self) -> AudioFeatures:
        """The most recent analysis reading (silence before the first one)."""
        with self._lock:
            return self._latest

    def close(self) -> None:
        self._stop.set()


class FilePlayer(_AudioInput):
    """`--audio FILE`: decodes the track and analyses it in step with the clock (plays once)."""

    def __init__(self, path: str | os.PathLike[str] | AudioClip, clock: Clock | None = None,
                 tempo: Any = None) -> None:
        self.clip = path if isinstance(path, AudioClip) else load_clip(path, channels=1)
        super().__init__(self.clip.rate, clock, tempo)
        self._mono = self.clip.mono()
        self._pos = 0
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return self._pos >= self._mono.size

    def pump(self, now: float | None = None) -> int:
        """Analyse every hop the clock has reached since the start; returns hops processed."""
        now = self.clock.now() if now is None else now
        due = int((now - self.started_at) * self.clip.rate)
        hops = 0
        while not self.finished and self._pos + HOP <= due:  # the last hop may be short
            self._publish(self.analyser.process(self._mono[self._pos:self._pos + HOP]))
            self._pos += HOP
            hops += 1
        if self.finished:
            self._publish(SILENCE)
        return hops

    def start(self) -> FilePlayer:
        self.started_at = self.clock.now()
        self._thread = threading.Thread(target=self._run, name="livedream-audio", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set() and not self.finished:
            self.pump()
            self.clock.sleep(HOP / self.clip.rate)
        self.pump()
        log.info("audio: the track has ended")

    def close(self) -> None:
        super().close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as exc:
        raise LivedreamError(
            "--audio-in needs sounddevice: pip install 'livedream[audio]'") from exc
    except OSError as exc:  # sounddevice raises OSError when the PortAudio library is missing
        raise LivedreamError(
            f"--audio-in: PortAudio is not available ({exc}); install libportaudio2 or use "
            "--audio FILE") from exc
    return sounddevice


class DeviceInput(_AudioInput):
    """`--audio-in DEVICE`: a sound-card input (name or index) through PortAudio."""

    def __init__(self, device: str | int | None, clock: Clock | None = None, tempo: Any = None,
                 rate: int = 44100) -> None:
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            try:
                names = [d["name"] for d in sd.query_devices() if d["max_input_channels"] > 0]
            except Exception:  # noqa: BLE001 - only for the message
                names = []
            raise LivedreamError(
                f"--audio-in {device!r}: no such input device ({exc}); inputs: "
                + (", ".join(names) or "none")) from None
        super().__init__(rate, clock, tempo)
        self._pending = np.zeros(0, dtype=np.float32)
        try:
            self._stream = sd.InputStream(device=device, channels=1, samplerate=rate,
                                          blocksize=HOP, dtype="float32", callback=self._callback)
            self._stream.start()
        except sd.PortAudioError as exc:
            raise LivedreamError(f"--audio-in {info['name']!r}: cannot open: {exc}") from None
        self.started_at = self.clock.now()

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        self._pending = np.concatenate([self._pending, indata[:, 0]])
        while self._pending.size >= HOP:
            self._publish(self.analyser.process(self._pending[:HOP]))
            self._pending = self._pending[HOP:]

    def close(self) -> None:
        super().close()
        self._stream.stop()
        self._stream.close()


def open_audio(file: str | None = None, device: str | None = None, clock: Clock | None = None,
               tempo: Any = None) -> _AudioInput | None:
    """The show's audio input from `--audio FILE` / `--audio-in DEVICE`, started; None if
    neither was given. A numeric DEVICE is a PortAudio device index."""
    if file:
        return FilePlayer(file, clock, tempo).start()
    if device is not None:
        return DeviceInput(int(device) if str(device).isdigit() else device, clock, tempo)
    return None
