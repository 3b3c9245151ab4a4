"""Tempo: one beat clock (BPM, beat and bar phase) fed by Link, MIDI clock, taps, audio or a fixed
BPM; beat-quantised command scheduling; and modulators (LFOs, beat envelopes, audio followers)."""
