"""Sound: decode a track (PyAV) or read an input device, and analyse it (onset, beat, BPM, RMS,
band energies) with aubio, for audio-reactive modulators and the `audio` tempo source."""
