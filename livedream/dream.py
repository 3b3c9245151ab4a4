"""The dream step: gradient ascent on a CNN layer's activations, on the frame's own device.

This is the original DeepDream notebook's `make_step` / `deepdream` in torch:

* objective: mean square (L2) of one or more layers' activations, optionally of a single feature
  map (`channel`), or - with a guide image - the notebook's guide objective: every activation
  vector is pulled towards the guide feature it already matches best (dot product);
* each step rolls the frame by a random jitter, takes the gradient of the objective with respect
  to the RGB [0, 1] frame, rolls the gradient back, normalises it by its mean absolute value and
  adds `step_size / 255` of it (step_size is in the notebook's 0..255 pixel units), then clips
  to the valid pixel range;
* `dream_step` is one octave (the live loop), `deepdream` the octave pyramid with the detail
  carried up (offline quality).

Everything stays a torch tensor on the frame's device; only the input gets a gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.errors import ParamError
from livedream.look import DreamSettings
from livedream.models.base import DreamModel

#: Smallest side an octave of the pyramid may have; coarser octaves are skipped (a VGG16 pool5
#: needs 32 px, and tinier octaves add nothing visible).
MIN_OCTAVE_SIDE = 32

#: Guide features per layer, as returned by `guide_features`.
GuideFeatures = Mapping[str, Tensor]


def _layer_list(layers: Sequence[str] | str) -> list[str]:
    """Accept one layer name or a sequence; reject an empty selection."""
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ParamError("dream: no layers selected; name at least one layer of the model")
    return names


def _full_precision(device_type: str) -> AbstractContextManager[object]:
    """A context that switches autocast off on `device_type` when it is on (else does nothing)."""
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except RuntimeError:  # a device type autocast does not know (e.g. meta)
        enabled = False
    return torch.autocast(device_type, enabled=False) if enabled else nullcontext()


def dream_objective(
    activations: Mapping[str, Tensor],
    layers: Sequence[str],
    channel: int = -1,
    guide: GuideFeatures | None = None,
) -> Tensor:
    """Scalar to maximise: summed over `layers`, mean square activation (or guide match).

    `channel` >= 0 restricts the objective to that feature map of every layer. With `guide`,
    each spatial activation vector x_i scores max_j <x_i, y_j> over the guide's feature vectors
    y_j (the notebook's `objective_guide`, whose gradient is the best-matching guide vector).
    """
    total: Tensor | None = None
    for name in layers:
        act = activations[name]
        if channel >= 0:
            if channel >= act.shape[1]:
                raise ParamError(
                    f"dream.channel: {channel} out of range for layer {name!r}, which has "
                    f"{act.shape[1]} channels (valid: -1 or 0..{act.shape[1] - 1})"
                )
            act = act[:, channel : channel + 1]
        if guide is not None:
            y = guide[name]
            if channel >= 0:
                y = y[:, channel : channel + 1]
            x = act.flatten(2).float()  # [B, C, N]
            y = y.flatten(2)[0].float()  # [C, M]
            # In float32 even under autocast: a dot product of a few hundred channels overflows
            # fp16 (inf scores tie, and amax then spreads the gradient over every tied vector).
            with _full_precision(x.device.type):
                scores = torch.einsum("bcn,cm->bnm", x, y)  # dot product of every pair
            term = scores.amax(dim=2).mean()
        else:
            term = act.float().pow(2).mean()
        total = term if total is None else total + term
    assert total is not None
    return total


@torch.no_grad()
def guide_features(
    model: DreamModel, guide_image: Tensor, layers: Sequence[str] | str
) -> dict[str, Tensor]:
    """Features of a guide image (RGB [0,1], [1,3,H,W]) for the guide objective."""
    names = _layer_list(layers)
    model.check_layers(names)
    guide_image = guide_image.to(device=model.device)
    feats = model.features(guide_image, names)
    return {name: feats[name].detach() for name in names}


def _jitter_offsets(jitter: int, generator: torch.Generator | None) -> tuple[int, int]:
    """Random (dy, dx) in [-jitter, jitter], drawn on the CPU generator (no device sync)."""
    if jitter <= 0:
        return 0, 0
    dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    return int(dy), int(dx)


def _ascent(
    model: DreamModel,
    frame: Tensor,
    layers: list[str],
    settings: DreamSettings,
    generator: torch.Generator | None,
    guide: GuideFeatures | None,
    autocast: torch.dtype | None = None,
) -> Tensor:
    """`settings.iterations` jittered, normalised gradient-ascent steps on one octave.

    `autocast` (opt-in, e.g. torch.bfloat16 / torch.float16) runs the network under
    `torch.autocast`; the frame, its gradient and the update stay float32.
    """
    scale = settings.step_size / 255.0
    device_type = frame.device.type
    for _ in range(settings.iterations):
        dy, dx = _jitter_offsets(settings.jitter, generator)
        shifted = frame.detach().roll(shifts=(dy, dx), dims=(2, 3)) if (dy or dx) else frame
        x = shifted.detach().requires_grad_(True)
        with torch.enable_grad(), (torch.autocast(device_type, dtype=autocast)
                                   if autocast is not None else nullcontext()):
            acts = model.forward_blobs(model.preprocess(x), set(layers))
            objective = dream_objective(acts, layers, settings.channel, guide)
            (grad,) = torch.autograd.grad(objective, x)
        with torch.no_grad():
            if dy or dx:
                grad = grad.roll(shifts=(-dy, -dx), dims=(2, 3))
            mean_abs = grad.abs().mean(dim=(1, 2, 3), keepdim=True)
            # A flat objective (all-zero gradient) gives no step rather than 0/0 = NaN.
            step = grad * (scale / mean_abs.clamp_min(torch.finfo(grad.dtype).tiny))
            step = torch.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0)
            frame = (frame.detach() + step).clamp_(0.0, 1.0)
    return frame.detach()


def _checked_layers(model: DreamModel, frame: Tensor, layers: Sequence[str] | str) -> list[str]:
    """The layer list, after checking the layers exist and the frame is [B,3,H,W]."""
    names = _layer_list(layers)
    model.check_layers(names)
    if frame.ndim != 4 or frame.shape[1] != 3:
        raise ParamError(f"dream: frame must be [B,3,H,W], got shape {tuple(frame.shape)}")
    return names


def dream_step(
    model: DreamModel,
    frame: Tensor,
    layers: Sequence[str] | str,
    settings: DreamSettings,
    generator: torch.Generator | None = None,
    guide: GuideFeatures | None = None,
    autocast: torch.dtype | None = None,
) -> Tensor:
    """One octave of DeepDream on `frame` ([B,3,H,W] RGB [0,1]): the live loop's step.

    Runs `settings.iterations` steps (jitter, gradient, normalised step, clip) and returns a new
    frame on the same device, dtype and memory format. `generator` (a CPU torch.Generator) makes
    the jitter reproducible. `guide` (from `guide_features`) switches to the guide objective.
    `autocast` (off by default) runs the network in bf16/fp16 under torch.autocast.
    """
    names = _checked_layers(model, frame, layers)
    return _ascent(model, frame, names, settings, generator, guide, autocast)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize to (h, w), like the notebook's `nd.zoom(order=1)`."""
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def octave_sizes(
    height: int, width: int, octaves: int, octave_scale: float
) -> list[tuple[int, int]]:
    """Sizes of the pyramid, finest first; stops before a side would drop below MIN_OCTAVE_SIDE."""
    sizes = [(height, width)]
    for _ in range(octaves - 1):
        h, w = sizes[-1]
        nh, nw = round(h / octave_scale), round(w / octave_scale)
        if min(nh, nw) < MIN_OCTAVE_SIDE:
            break
        sizes.append((nh, nw))
    return sizes


def deepdream(
    model: DreamModel,
    frame: Tensor,
    layers: Sequence[str] | str,
    settings: DreamSettings,
    generator: torch.Generator | None = None,
    guide: GuideFeatures | None = None,
    autocast: torch.dtype | None = None,
) -> Tensor:
    """The notebook's `deepdream`: dream every octave, coarsest first, carrying the detail up.

    The frame is downscaled `settings.octaves - 1` times by `settings.octave_scale`; on each
    octave `settings.iterations` steps are taken on (octave base + upscaled detail), and the
    detail (dreamed minus base) is carried to the next finer octave. Returns the same size.
    With octaves = 1 this is exactly `dream_step` (the live loop's usual case). `autocast` as in
    `dream_step`.
    """
    names = _checked_layers(model, frame, layers)
    if settings.octaves <= 1:
        return _ascent(model, frame, names, settings, generator, guide, autocast)
    frame = frame.detach()
    sizes = octave_sizes(frame.shape[2], frame.shape[3], settings.octaves, settings.octave_scale)
    bases = [frame] + [_resize(frame, s) for s in sizes[1:]]
    detail = torch.zeros_like(bases[-1])
    dreamed = frame
    for base in reversed(bases):
        detail = _resize(detail, tuple(base.shape[-2:]))
        start = (base + detail).clamp(0.0, 1.0)
        dreamed = _ascent(model, start, names, settings, generator, guide, autocast)
        detail = dreamed - base
    return dreamed


DreamFn = Callable[..., Tensor]


class Dreamer:
    """The one dreamer of the live loop and the offline renderer: a model, its layers and
    settings, an optional guide image, a reused jitter generator and the precision.

    Calling it dreams one frame through `dream_fn` (default `deepdream`: the octave pyramid when
    settings.octaves > 1, else one octave), so live and offline honour the same settings. Model,
    layers, settings and guide can be swapped between frames; layers are checked on set.
    """

    def __init__(
        self,
        model: DreamModel,
        layers: Sequence[str] | str,
        settings: DreamSettings | None = None,
        seed: int = 0,
        guide_image: Tensor | None = None,
        autocast: torch.dtype | None = None,
        dream_fn: DreamFn | None = None,
    ) -> None:
        self.model = model
        self.settings = settings or DreamSettings()
        self.autocast = autocast
        self.dream_fn: DreamFn = dream_fn or deepdream
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(int(seed))
        self._guide_image = guide_image
        self.guide: dict[str, Tensor] | None = None
        self.layers: list[str] = []
        self.set_layers(layers)

    def set_model(self, model: DreamModel, layers: Sequence[str] | str) -> None:
        """Switch to another model (and its layers) between frames."""
        self.model = model
        self.layers = []
        self.set_layers(layers)

    def set_layers(self, layers: Sequence[str] | str) -> None:
        """Switch the dreamed layers (validated now, so a bad name never reaches the loop)."""
        names = _layer_list(layers)
        self.model.check_layers(names)
        if names == self.layers and (self.guide is not None or self._guide_image is None):
            return
        self.layers = names
        if self._guide_image is not None:
            self.guide = guide_features(self.model, self._guide_image, names)

    def set_guide(self, guide_image: Tensor | None) -> None:
        """Dream towards a guide image's features (None: back to the L2 objective)."""
        self._guide_image = guide_image
        self.guide = None if guide_image is None else guide_features(
            self.model, guide_image, self.layers
        )

    def __call__(self, frame: Tensor, settings: DreamSettings | None = None) -> Tensor:
        extra = {"autocast": self.autocast} if self.autocast is not None else {}
        return self.dream_fn(self.model, frame, self.layers, settings or self.settings,
                             generator=self.generator, guide=self.guide, **extra)
