"""Live input that moves: optical flow of the source, flow-guided feedback, motion/key gates.

- `params`: the show-level parameter table (`flow`, `flow.strength`, `flow.scale`, `gate`,
  `gate.threshold`, `gate.decay`, `source.key`, `source.key_level`) and `FlowSettings`;
- `estimate`: DIS optical flow (OpenCV) between consecutive source frames, run on the source's
  thread at a reduced resolution;
- `warp`: `warp_by_flow`, the pure torch backward warp of the feedback buffer;
- `gate`: motion mask (flow magnitude, temporal decay), luma/chroma key, masked source blend;
- `feedback`: `FlowFeedback`, the per-show state that applies all of it around a dream step.
"""
