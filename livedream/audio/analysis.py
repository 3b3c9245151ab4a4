"""The audio analyser: onset, beat and BPM (aubio), RMS and four band energies, hop by hop.

`Analyser.process(hop)` takes the next `hop` mono samples and returns `AudioFeatures`; the same
object serves a live input (one hop per callback), a file played in real time and an offline
render (`analyse_clip`, one reading per hop, looked up per video frame). Levels are divided by a
slowly decaying peak so they read 0..1 whatever the gain; onsets and beats are decaying pulses.

aubio's onset detector reports nothing for sounds that follow digital silence or sound under its
silence gate (a synthetic click track is silent between the clicks), so a -80 dBFS seeded dither
is added before detection and the gate is lowered to -90 dB - inaudible, and real music is never
that quiet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from livedream.audio.decode import AudioClip
from livedream.audio.features import BAND_EDGES, AudioFeatures
from livedream.errors import LivedreamError

HOP = 512
WINDOW = 1024
PULSE_SECONDS = 0.15  # onset / beat pulses decay with this time constant
PEAK_HALF_LIFE = 8.0  # seconds for the level normaliser's peak to halve
DITHER = 1e-4  # -80 dBFS
SILENCE_DB = -90.0
BAND_FLOOR = 0.1

BeatListener = Callable[[float, float], None]  # (beat time in seconds, bpm)


class Analyser:
    """Streaming analysis of mono float32 audio in hops of `hop` samples at `rate` Hz."""

    def __init__(self, rate: int = 44100, hop: int = HOP, window: int = WINDOW,
                 on_beat: BeatListener | None = None) -> None:
        try:
            import aubio
        except ImportError as exc:
            raise LivedreamError(
                "audio analysis needs aubio: pip install 'livedream[audio]' (aubio-ledfx)"
            ) from exc
        self.rate, self.hop, self.window = int(rate), int(hop), int(window)
        self._onset = aubio.onset("hfc", window, hop, rate)
        self._onset.set_minioi_ms(40)
        self._onset.set_silence(SILENCE_DB)
        self._tempo = aubio.tempo("default", window, hop, rate)
        self._buf = np.zeros(window, dtype=np.float32)
        freqs = np.fft.rfftfreq(window, 1.0 / rate)
        self._bands = [(freqs >= lo) & (freqs < hi)
                       for lo, hi in zip(BAND_EDGES, BAND_EDGES[1:], strict=False)]
        self._hann = np.hanning(window).astype(np.float32)
        self._rng = np.random.default_rng(0)
        self._decay = 0.5 ** (hop / rate / PEAK_HALF_LIFE)
        self._peaks = np.full(1 + len(self._bands), 1e-3)
        self.samples = 0
        self.onsets: list[float] = []
        self.beats: list[float] = []
        self.bpm = 0.0
        self.on_beat = on_beat

    @property
    def time(self) -> float:
        """Seconds of audio processed so far (the end of the last hop)."""
        return self.samples / self.rate

    def _normalise(self, levels: np.ndarray) -> np.ndarray:
        """Levels over their decaying peaks. A band's peak is at least BAND_FLOOR of the loudest
        band's, so a band holding only leakage and dither reads near 0, not 1."""
        self._peaks = np.maximum(levels, self._peaks * self._decay)
        peaks = np.maximum(self._peaks, 1e-3)  # under -60 dBFS is silence
        peaks[1:] = np.maximum(peaks[1:], BAND_FLOOR * peaks[1:].max())
        return np.clip(levels / peaks, 0.0, 1.0)

    def _pulse(self, events: list[float], now: float) -> float:
        if not events:
            return 0.0
        return math.exp(-max(0.0, now - events[-1]) / PULSE_SECONDS)

    def process(self, hop: np.ndarray) -> AudioFeatures:
        """Analyse the next `hop` samples (shorter chunks are zero-padded)."""
        x = np.zeros(self.hop, dtype=np.float32)
        chunk = np.asarray(hop, dtype=np.float32).ravel()[: self.hop]
        x[: chunk.size] = np.nan_to_num(chunk, nan=0.0, posinf=0.0, neginf=0.0)
        x += self._rng.standard_normal(self.hop).astype(np.float32) * DITHER
        self.samples += self.hop
        now = self.time
        if self._onset(x)[0] and self.samples > self.window:  # aubio flags t=0 at start-up
            self.onsets.append(float(self._onset.get_last_s()))
        if self._tempo(x)[0]:
            beat = float(self._tempo.get_last_s())
            self.beats.append(beat)
            self.bpm = float(self._tempo.get_bpm())
            if self.on_beat is not None and self.bpm > 0:
                self.on_beat(beat, self.bpm)
        self._buf = np.concatenate([self._buf[self.hop:], x])
        spectrum = np.abs(np.fft.rfft(self._buf * self._hann)) ** 2
        rms = float(np.sqrt(np.mean(x * x)))
        bands = [float(np.sqrt(spectrum[mask].sum())) for mask in self._bands]
        levels = self._normalise(np.array([rms, *bands]))
        return AudioFeatures(
            rms=float(levels[0]),
            onset=self._pulse(self.onsets, now),
            beat=self._pulse(self.beats, now),
            bands=tuple(float(v) for v in levels[1:]),  # type: ignore[arg-type]
            bpm=self.bpm,
            time=now,
        )


@dataclass
class FeatureTrack:
    """A whole clip's analysis: one AudioFeatures per hop, plus onset and beat times."""

    hop_seconds: float
    readings: list[AudioFeatures]
    onsets: list[float] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)
    bpm: float = 0.0

    def at(self, t: float) -> AudioFeatures:
        """The reading covering time `t` (seconds; clamped to the clip)."""
        if not self.readings:
            return AudioFeatures()
        i = int(t / self.hop_seconds)
        return self.readings[min(len(self.readings) - 1, max(0, i))]

    def beat_at(self, t: float) -> float:
        """Beat position at `t`: interpolated between detected beats (beat k at beats[k]),
        extrapolated at the track's BPM outside them (120 BPM when none was found)."""
        bpm = self.bpm if self.bpm > 0 else 120.0
        beats = self.beats
        if len(beats) < 2:
            return t * bpm / 60.0
        if t <= beats[0]:
            return (t - beats[0]) * bpm / 60.0
        if t >= beats[-1]:
            return len(beats) - 1 + (t - beats[-1]) * bpm / 60.0
        return float(np.interp(t, beats, np.arange(len(beats))))


def analyse_clip(clip: AudioClip, hop: int = HOP) -> FeatureTrack:
    """Run the analyser over a whole clip (offline renders, tests)."""
    analyser = Analyser(clip.rate, hop)
    mono = clip.mono()
    readings = [analyser.process(mono[i:i + hop]) for i in range(0, mono.size, hop)]
    return FeatureTrack(hop / clip.rate, readings, analyser.onsets, analyser.beats, analyser.bpm)
