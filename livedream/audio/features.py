"""What the audio analyser reports per moment, as modulators and the overlay read it.

Every level is normalised to 0..1 (against a slowly decaying peak), so `depth` means the same
for a quiet track and a loud club feed. `onset` and `beat` are pulses: 1 at the event, decaying
over ~150 ms, so a modulator driven by them flashes instead of flickering for one frame.
"""

from __future__ import annotations

from dataclasses import dataclass

#: band edges in Hz: low (kick / bass), low-mid, high-mid (snare / voice), high (hats / air)
BAND_EDGES = (20.0, 150.0, 600.0, 4000.0, 16000.0)
BAND_NAMES = ("low", "lowmid", "highmid", "high")
#: modulator sources an AudioFeatures provides (one vocabulary for presets and OSC)
FEATURE_NAMES = ("rms", "onset", "beat", *BAND_NAMES)


@dataclass(frozen=True)
class AudioFeatures:
    """One analysis reading: levels in 0..1, onset / beat pulses in 0..1, BPM (0 = unknown)."""

    rms: float = 0.0
    onset: float = 0.0
    beat: float = 0.0
    bands: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    bpm: float = 0.0
    time: float = 0.0  # seconds into the track / since the input opened

    def value(self, name: str) -> float:
        """The feature called `name` (one of FEATURE_NAMES)."""
        if name in BAND_NAMES:
            return self.bands[BAND_NAMES.index(name)]
        return float(getattr(self, name))


SILENCE = AudioFeatures()
