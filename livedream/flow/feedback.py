"""`FlowFeedback`: flow-guided feedback and the gated source blend around one dream step.

The render loop (or any driver) calls, per dream frame:

1. `warp(buffer, sample, settings)` before the dream step: with `flow` on and a fresh flow
   field, the buffer is warped so what was dreamed moves with the scene;
2. `blend(buffer, sample, settings, source_mix)` after it: the source is mixed in by
   `source_mix`, raised towards 1 where the motion gate or the key says the source shows.

It holds the only state this needs: the decaying motion mask.
"""

from __future__ import annotations

from torch import Tensor

from livedream.flow.gate import key_mask, masked_blend, motion_mask, source_weight
from livedream.flow.params import FLOW_PARAMS, FlowSettings, field_name
from livedream.flow.warp import warp_by_flow
from livedream.state import State, setting
from livedream.threaded_source import SourceSample


class FlowFeedback:
    """Per-show flow state (the motion mask); see the module docstring for the two calls."""

    def __init__(self) -> None:
        self.mask: Tensor | None = None  # [1, 1, H, W] motion mask of the last frame

    def reset(self) -> None:
        self.mask = None

    def warp(self, buffer: Tensor, sample: SourceSample | None, settings: FlowSettings) -> Tensor:
        """The buffer warped by the sample's flow (unchanged without flow or a fresh field)."""
        if not settings.flow or sample is None or sample.flow is None:
            return buffer
        return warp_by_flow(buffer, sample.flow, settings.flow_strength)

    def update_mask(self, sample: SourceSample | None, settings: FlowSettings,
                    size: tuple[int, int]) -> Tensor | None:
        """Fold the sample's flow into the decaying motion mask at `size` = (H, W)."""
        if not settings.gate:
            self.mask = None
            return None
        if sample is not None and sample.flow is not None:
            self.mask = motion_mask(sample.flow, settings.gate_threshold, size, self.mask,
                                    settings.gate_decay)
        return self.mask

    def blend(self, buffer: Tensor, sample: SourceSample | None, settings: FlowSettings,
              source_mix: float) -> Tensor:
        """Mix the sample's frame into the buffer, per pixel where a gate or key is on."""
        if sample is None:
            return buffer
        masks = []
        mask = self.update_mask(sample, settings, tuple(buffer.shape[-2:]))
        if mask is not None:
            masks.append(mask)
        if settings.source_key != "off":
            masks.append(key_mask(sample.frame, settings.source_key, settings.source_key_level))
        weight = source_weight(source_mix, masks)
        if not masks and weight == 0:
            return buffer
        return masked_blend(buffer, sample.frame, weight)


def flow_settings(state: State) -> FlowSettings:
    """The show's flow settings: the `flow` / `gate` flags and the FLOW_PARAMS values."""
    values = {name: setting(state, name) for name in FLOW_PARAMS}
    return FlowSettings(flow=state.flow, gate=state.gate,
                        **{field_name(name): value for name, value in values.items()})
