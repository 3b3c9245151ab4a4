"""Generated click tracks (numpy) for the audio tests: short noise bursts on every beat."""

import numpy as np


def click_track(bpm: float = 120.0, seconds: float = 12.0, rate: int = 44100,
                start: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mono float32 samples, click times in seconds): 10 ms decaying noise bursts."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * rate), dtype=np.float32)
    times = np.arange(start, seconds - 0.05, 60.0 / bpm)
    n = int(0.01 * rate)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.002 * rate)) * 0.8
    for t in times:
        i = int(round(t * rate))
        x[i:i + n] += burst.astype(np.float32)
    return x, times
