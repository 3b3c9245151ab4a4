"""Caffe layer types as torch modules, each reproducing Caffe's forward pass (TEST phase).

A layer is built from its prototxt parameters and its bottoms' shapes (so it can size its weights),
lists the blob shapes Caffe stores for it, loads them, and maps bottoms to tops in `forward`.
Parameter errors raise ModelFormatError naming the layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livedream.errors import ModelFormatError

Shape = tuple[int, ...]
INT32_MAX = (1 << 31) - 1


class LayerSpec:
    """One prototxt layer: name, type, bottoms, tops and its raw parameter dict."""

    def __init__(self, name: str, kind: str, bottoms: list[str], tops: list[str],
                 params: dict[str, Any]) -> None:
        self.name, self.kind, self.bottoms, self.tops, self.params = (
            name, kind, bottoms, tops, params)

    def error(self, message: str) -> ModelFormatError:
        return ModelFormatError(f"layer {self.name!r} ({self.kind}): {message}")

    def section(self, key: str) -> dict[str, Any]:
        """The `<type>_param { ... }` message (empty if absent)."""
        value = self.params.get(key, {})
        if isinstance(value, list):
            value = value[-1] if value else {}
        if not isinstance(value, dict):
            raise self.error(f"{key} must be a message {{ ... }}, got {value!r}")
        return value


# --- typed access to prototxt values -------------------------------------------------------------
def _scalar(spec: LayerSpec, section: dict[str, Any], key: str, default: Any) -> Any:
    value = section.get(key, default)
    if isinstance(value, list):
        if len(value) != 1:
            raise spec.error(f"{key} must be a single value, got {value!r}")
        value = value[0]
    return value


def get_int(spec: LayerSpec, section: dict[str, Any], key: str, default: int | None,
            lo: int | None = None) -> int:
    value = _scalar(spec, section, key, default)
    if value is None:
        raise spec.error(f"missing {key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise spec.error(f"{key} must be an integer, got {value!r}")
    if lo is not None and value < lo:
        raise spec.error(f"{key} must be >= {lo}, got {value}")
    if abs(value) > INT32_MAX:
        raise spec.error(f"{key} {value} is out of Caffe's int32 range")
    return value


def get_float(spec: LayerSpec, section: dict[str, Any], key: str, default: float) -> float:
    value = _scalar(spec, section, key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise spec.error(f"{key} must be a finite number, got {value!r}")
    return float(value)


def get_bool(spec: LayerSpec, section: dict[str, Any], key: str, default: bool) -> bool:
    value = _scalar(spec, section, key, default)
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        value = bool(value)
    if not isinstance(value, bool):
        raise spec.error(f"{key} must be true or false, got {value!r}")
    return value


def get_enum(spec: LayerSpec, section: dict[str, Any], key: str, names: Sequence[str],
             default: str) -> str:
    """An enum given by name or number; `names` lists the values in numeric order."""
    value = _scalar(spec, section, key, default)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        value = names[value]
    if value not in names:
        raise spec.error(f"{key} must be one of {', '.join(names)}, got {value!r}")
    return value


def get_pair(spec: LayerSpec, section: dict[str, Any], key: str, default: int | None,
             lo: int) -> tuple[int, int]:
    """(h, w) from `<stem>_h`/`<stem>_w` (kernel_h for kernel_size), or from a 1- or 2-valued
    `key`: Caffe's ways to give a spatial parameter."""
    stem = key.removesuffix("_size")
    if f"{stem}_h" in section or f"{stem}_w" in section:
        return (get_int(spec, section, f"{stem}_h", None, lo),
                get_int(spec, section, f"{stem}_w", None, lo))
    raw = section.get(key, [] if default is None else [default])
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise spec.error(f"missing {key}")
    if len(values) not in (1, 2):
        raise spec.error(f"{key} needs 1 or 2 values (only 2-D layers are supported), "
                         f"got {values!r}")
    parsed = [get_int(spec, {key: v}, key, None, lo) for v in values]
    return (parsed[0], parsed[-1])


def canonical_axis(spec: LayerSpec, axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < ndim:
        raise spec.error(f"{what} {axis} is out of range for a {ndim}-D bottom")
    return axis % ndim


def blob_shapes_match(stored: Shape, expected: Shape) -> bool:
    """Caffe's ShapeEquals: legacy 4-D blobs match once leading 1s are ignored."""
    def strip(shape: Shape) -> Shape:
        index = 0
        while index < len(shape) - 1 and shape[index] == 1:
            index += 1
        return shape[index:]
    return stored == expected or strip(stored) == strip(expected)


# --- layers --------------------------------------------------------------------------------------
class CaffeLayer(nn.Module):
    """Base: a layer without weights; subclasses list theirs in Caffe order in `blob_attrs`."""

    kind: ClassVar[str] = ""
    blob_attrs: tuple[str, ...] = ()
    num_bottoms: ClassVar[tuple[int, int]] = (1, 1)  # (min, max) bottoms accepted

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__()
        self.spec = spec
        lo, hi = self.num_bottoms
        if not lo <= len(spec.bottoms) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise spec.error(f"needs {want} bottom(s), got {len(spec.bottoms)}")
        if len(spec.tops) != 1 and not isinstance(self, Split):
            raise spec.error(f"needs exactly 1 top, got {len(spec.tops)}")

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        """Top shapes for these bottom shapes (default: same as the first bottom)."""
        return [shapes[0]]

    def blob_shapes(self) -> list[Shape]:
        """Shapes of the blobs a caffemodel stores for this layer, in order."""
        return [tuple(getattr(self, attr).shape) for attr in self.blob_attrs]

    @torch.no_grad()
    def load_blobs(self, blobs: list[np.ndarray]) -> None:
        """Copy already shape-checked blobs into this layer's weights."""
        for attr, blob in zip(self.blob_attrs, blobs, strict=True):
            target = getattr(self, attr)
            target.copy_(torch.from_numpy(np.ascontiguousarray(blob)).reshape(target.shape))

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> None:
        """Weights for a net loaded without a caffemodel (default: nothing to set)."""

    def forward(self, *bottoms: Tensor) -> Tensor | list[Tensor]:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"{self.spec.name!r}"


def _he_init(weight: Tensor, fan_in: int, generator: torch.Generator) -> None:
    weight.copy_(torch.randn(weight.shape, generator=generator) * math.sqrt(2.0 / max(fan_in, 1)))


class Convolution(CaffeLayer):
    kind = "Convolution"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("convolution_param")
        if len(shapes[0]) != 4:
            raise spec.error(f"needs a 4-D bottom, got shape {shapes[0]}")
        if get_int(spec, p, "axis", 1) != 1:
            raise spec.error("only axis 1 (channels) is supported")
        channels = shapes[0][1]
        self.out_channels = get_int(spec, p, "num_output", None, 1)
        self.kernel = get_pair(spec, p, "kernel_size", None, 1)
        self.pad = get_pair(spec, p, "pad", 0, 0)
        self.stride = get_pair(spec, p, "stride", 1, 1)
        self.dilation = get_pair(spec, p, "dilation", 1, 1)
        self.group = get_int(spec, p, "group", 1, 1)
        if channels % self.group or self.out_channels % self.group:
            raise spec.error(f"group {self.group} does not divide {channels} input channels and "
                             f"{self.out_channels} outputs")
        self.weight = nn.Parameter(
            torch.empty(self.out_channels, channels // self.group, *self.kernel))
        self.bias = (nn.Parameter(torch.empty(self.out_channels))
                     if get_bool(spec, p, "bias_term", True) else None)
        self.blob_attrs = ("weight", "bias") if self.bias is not None else ("weight",)

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> None:
        _he_init(self.weight, self.weight[0].numel(), generator)
        if self.bias is not None:
            self.bias.zero_()

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        n, _, height, width = shapes[0]
        out = [
            (size + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1
            for size, kernel, pad, stride, dilation in zip(
                (height, width), self.kernel, self.pad, self.stride, self.dilation, strict=True)
        ]
        if out[0] < 1 or out[1] < 1:
            raise self.spec.error(f"input {height}x{width} is too small for kernel {self.kernel}")
        return [(n, self.out_channels, out[0], out[1])]

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.pad, self.dilation,
                        self.group)


class Pooling(CaffeLayer):
    """MAX/AVE pooling with Caffe's output size: ceil rounding (or floor with round_mode), and,
    when padded, no window that starts past the padded input. AVE divides by the window size
    clipped to the padded input, exactly as Caffe does. Caffe's one degenerate case, an empty
    window (stride > kernel without pad), gives -FLT_MAX for MAX as in Caffe and 0 for AVE
    (Caffe: 0/0)."""

    kind = "Pooling"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("pooling_param")
        if len(shapes[0]) != 4:
            raise spec.error(f"needs a 4-D bottom, got shape {shapes[0]}")
        self.method = get_enum(spec, p, "pool", ("MAX", "AVE", "STOCHASTIC"), "MAX")
        if self.method == "STOCHASTIC":
            raise spec.error("STOCHASTIC pooling is not supported (use MAX or AVE)")
        self.global_pooling = get_bool(spec, p, "global_pooling", False)
        self.ceil = get_enum(spec, p, "round_mode", ("CEIL", "FLOOR"), "CEIL") == "CEIL"
        self.pad = get_pair(spec, p, "pad", 0, 0)
        self.stride = get_pair(spec, p, "stride", 1, 1)
        if self.global_pooling:
            if self.pad != (0, 0) or self.stride != (1, 1):
                raise spec.error("global_pooling needs pad 0 and stride 1")
            self.kernel = (0, 0)  # taken from the input at run time
        else:
            self.kernel = get_pair(spec, p, "kernel_size", None, 1)
            if self.pad[0] >= self.kernel[0] or self.pad[1] >= self.kernel[1]:
                raise spec.error(f"pad {self.pad} must be smaller than kernel {self.kernel}")

    def output_size(self, size: int, kernel: int, pad: int, stride: int) -> int:
        span = size + 2 * pad - kernel
        out = (-(-span // stride) if self.ceil else span // stride) + 1
        if (self.pad[0] or self.pad[1]) and (out - 1) * stride >= size + pad:
            out -= 1
        return out

    def _sizes(self, height: int, width: int) -> tuple[tuple[int, int], list[int]]:
        """(kernel, Caffe's output size) for an input of height x width."""
        kernel = (height, width) if self.global_pooling else self.kernel
        out = [self.output_size(s, k, p, st)
               for s, k, p, st in zip((height, width), kernel, self.pad, self.stride, strict=True)]
        if out[0] < 1 or out[1] < 1:
            raise self.spec.error(f"input {height}x{width} is too small for kernel {kernel}")
        return kernel, out

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        _, out = self._sizes(shapes[0][2], shapes[0][3])
        return [(*shapes[0][:2], out[0], out[1])]

    def forward(self, x: Tensor) -> Tensor:
        kernel, out = self._sizes(x.shape[-2], x.shape[-1])
        if self._torch_agrees(x.shape[-2:], kernel, out):
            if self.method == "MAX":
                return F.max_pool2d(x, kernel, self.stride, self.pad, ceil_mode=self.ceil)
            return F.avg_pool2d(x, kernel, self.stride, self.pad, ceil_mode=self.ceil,
                                count_include_pad=True)
        return self._explicit(x, kernel, out)

    def _torch_agrees(self, size: Sequence[int], kernel: Sequence[int], out: list[int]) -> bool:
        """Whether torch's pooling (its own ceil rule, pad <= kernel/2) yields Caffe's size."""
        for s, k, p, st, o in zip(size, kernel, self.pad, self.stride, out, strict=True):
            if 2 * p > k:
                return False
            span = s + 2 * p - k
            torch_out = (-(-span // st) if self.ceil else span // st) + 1
            if self.ceil and (torch_out - 1) * st >= s + p:
                torch_out -= 1
            if torch_out != o:
                return False
        return True

    def _explicit(self, x: Tensor, kernel: Sequence[int], out: list[int]) -> Tensor:
        """Caffe's pooling spelled out: pad by hand, pool without padding, crop to Caffe's size."""
        (ph, pw), (sh, sw), (kh, kw) = self.pad, self.stride, kernel
        height, width = x.shape[-2:]
        right = max(0, (out[1] - 1) * sw + kw - width - pw)
        bottom = max(0, (out[0] - 1) * sh + kh - height - ph)
        if self.method == "MAX":
            # Caffe starts each max at -FLT_MAX, which is also what an empty window yields
            padded = F.pad(x, (pw, right, ph, bottom), value=torch.finfo(x.dtype).min)
            return F.max_pool2d(padded, (kh, kw), (sh, sw))[..., : out[0], : out[1]]
        padded = F.pad(x, (pw, right, ph, bottom))
        sums = F.avg_pool2d(padded, (kh, kw), (sh, sw))[..., : out[0], : out[1]] * (kh * kw)

        def counts(n: int, size: int, k: int, p: int, s: int) -> Tensor:
            start = torch.arange(n, device=x.device) * s - p
            return (torch.clamp(start + k, max=size + p) - start).clamp(min=1).to(x.dtype)

        area = counts(out[0], height, kh, ph, sh)[:, None] * counts(out[1], width, kw, pw, sw)
        return sums / area


class LRN(CaffeLayer):
    """Local response normalisation. ACROSS_CHANNELS: x / (k + alpha/n * sum of x^2 over n
    neighbouring channels)^beta. WITHIN_CHANNEL: x / (1 + alpha * mean of x^2 over an n x n
    window)^beta (Caffe ignores k there)."""

    kind = "LRN"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("lrn_param")
        if len(shapes[0]) != 4:
            raise spec.error(f"needs a 4-D bottom, got shape {shapes[0]}")
        self.size = get_int(spec, p, "local_size", 5, 1)
        if self.size % 2 == 0:
            raise spec.error(f"local_size must be odd, got {self.size}")
        self.alpha = get_float(spec, p, "alpha", 1.0)
        self.beta = get_float(spec, p, "beta", 0.75)
        self.k = get_float(spec, p, "k", 1.0)
        self.region = get_enum(spec, p, "norm_region", ("ACROSS_CHANNELS", "WITHIN_CHANNEL"),
                               "ACROSS_CHANNELS")

    def forward(self, x: Tensor) -> Tensor:
        half = (self.size - 1) // 2
        # In float32 at least: under fp16 autocast x*x overflows (Caffe nets see 0..255 inputs,
        # so activations of a few hundred are common) and the layer would output zeros.
        dtype = x.dtype
        if dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        if self.region == "ACROSS_CHANNELS":
            mean_sq = F.avg_pool3d((x * x).unsqueeze(1), (self.size, 1, 1), stride=1,
                                   padding=(half, 0, 0)).squeeze(1)
            return (x * (self.k + self.alpha * mean_sq).pow(-self.beta)).to(dtype)
        mean_sq = F.avg_pool2d(x * x, self.size, stride=1, padding=half, count_include_pad=True)
        return (x * (1.0 + self.alpha * mean_sq).pow(-self.beta)).to(dtype)


class ReLU(CaffeLayer):
    kind = "ReLU"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        self.negative_slope = get_float(spec, spec.section("relu_param"), "negative_slope", 0.0)

    def forward(self, x: Tensor) -> Tensor:
        if self.negative_slope == 0.0:
            return F.relu(x)
        return torch.where(x > 0, x, x * self.negative_slope)


class Concat(CaffeLayer):
    kind = "Concat"
    num_bottoms = (1, 1 << 16)

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("concat_param")
        axis = get_int(spec, p, "axis", get_int(spec, p, "concat_dim", 1))
        self.axis = canonical_axis(spec, axis, len(shapes[0]))
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(
                a != b for i, (a, b) in enumerate(zip(shape, shapes[0], strict=True))
                if i != self.axis
            ):
                raise spec.error(f"bottom shapes {shapes} differ outside axis {self.axis}")

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        shape = list(shapes[0])
        shape[self.axis] = sum(s[self.axis] for s in shapes)
        return [tuple(shape)]

    def forward(self, *bottoms: Tensor) -> Tensor:
        return torch.cat(bottoms, self.axis)


class InnerProduct(CaffeLayer):
    kind = "InnerProduct"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("inner_product_param")
        self.axis = canonical_axis(spec, get_int(spec, p, "axis", 1), len(shapes[0]))
        self.in_features = math.prod(shapes[0][self.axis:])
        self.out_features = get_int(spec, p, "num_output", None, 1)
        self.transpose = get_bool(spec, p, "transpose", False)
        shape = ((self.in_features, self.out_features) if self.transpose
                 else (self.out_features, self.in_features))
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = (nn.Parameter(torch.empty(self.out_features))
                     if get_bool(spec, p, "bias_term", True) else None)
        self.blob_attrs = ("weight", "bias") if self.bias is not None else ("weight",)

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> None:
        _he_init(self.weight, self.in_features, generator)
        if self.bias is not None:
            self.bias.zero_()

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        return [(*shapes[0][: self.axis], self.out_features)]

    def forward(self, x: Tensor) -> Tensor:
        flat = x.flatten(self.axis)
        if flat.shape[-1] != self.in_features:
            raise self.spec.error(
                f"expects {self.in_features} input features but got {flat.shape[-1]} "
                f"(bottom shape {tuple(x.shape)}; the net's input size differs from the "
                "prototxt's)")
        weight = self.weight.t() if self.transpose else self.weight
        return F.linear(flat, weight, self.bias)


class Dropout(CaffeLayer):
    """Identity at test time (Caffe scales during training only)."""

    kind = "Dropout"

    def forward(self, x: Tensor) -> Tensor:
        return x


class Softmax(CaffeLayer):
    kind = "Softmax"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        self.axis = canonical_axis(
            spec, get_int(spec, spec.section("softmax_param"), "axis", 1), len(shapes[0]))

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(x, self.axis)


class BatchNorm(CaffeLayer):
    """Normalise with the stored statistics: Caffe keeps mean and variance multiplied by a scale
    factor (third blob), so both are divided by it (a factor of 0 means zero statistics)."""

    kind = "BatchNorm"
    blob_attrs = ("mean", "var", "factor")

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        if len(shapes[0]) < 2:
            raise spec.error(f"needs a bottom with a channel axis, got shape {shapes[0]}")
        self.eps = get_float(spec, spec.section("batch_norm_param"), "eps", 1e-5)
        channels = shapes[0][1]
        self.register_buffer("mean", torch.empty(channels))
        self.register_buffer("var", torch.empty(channels))
        self.register_buffer("factor", torch.empty(1))

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> None:
        self.mean.zero_()
        self.var.fill_(1.0)
        self.factor.fill_(1.0)

    def forward(self, x: Tensor) -> Tensor:
        factor = torch.where(self.factor == 0, torch.zeros_like(self.factor), 1.0 / self.factor)
        view = (1, -1) + (1,) * (x.dim() - 2)
        mean, var = (self.mean * factor).view(view), (self.var * factor).view(view)
        return (x - mean) * torch.rsqrt(var + self.eps)


class Scale(CaffeLayer):
    """y = x * scale (+ bias), the scale broadcast from `axis` (a learned blob, or bottom 2)."""

    kind = "Scale"
    num_bottoms = (1, 2)

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("scale_param")
        ndim = len(shapes[0])
        axis = canonical_axis(spec, get_int(spec, p, "axis", 1), ndim)
        if len(shapes) == 2:
            scale_shape = shapes[1]
        else:
            num_axes = get_int(spec, p, "num_axes", 1, -1)
            end = ndim if num_axes == -1 else axis + num_axes
            if end > ndim:
                raise spec.error(f"axis {axis} + num_axes {num_axes} exceeds the bottom's "
                                 f"{ndim} axes")
            scale_shape = shapes[0][axis:end]
        if tuple(shapes[0][axis:axis + len(scale_shape)]) != tuple(scale_shape):
            raise spec.error(f"scale shape {scale_shape} does not match bottom shape "
                             f"{shapes[0]} at axis {axis}")
        self.axis, self.scale_ndim = axis, len(scale_shape)
        attrs: list[str] = []
        self.weight = None
        if len(shapes) == 1:
            self.weight = nn.Parameter(torch.empty(scale_shape))
            attrs.append("weight")
        self.bias = (nn.Parameter(torch.empty(scale_shape))
                     if get_bool(spec, p, "bias_term", False) else None)
        if self.bias is not None:
            attrs.append("bias")
        self.blob_attrs = tuple(attrs)

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> None:
        if self.weight is not None:
            self.weight.fill_(1.0)
        if self.bias is not None:
            self.bias.zero_()

    def forward(self, x: Tensor, scale: Tensor | None = None) -> Tensor:
        shape = (1,) * self.axis + tuple(x.shape[self.axis:self.axis + self.scale_ndim])
        shape += (1,) * (x.dim() - len(shape))
        factor = (scale if scale is not None else self.weight).reshape(shape)
        y = x * factor
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y


class Eltwise(CaffeLayer):
    kind = "Eltwise"
    num_bottoms = (2, 1 << 16)

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("eltwise_param")
        self.operation = get_enum(spec, p, "operation", ("PROD", "SUM", "MAX"), "SUM")
        raw = p.get("coeff", [])
        coeffs = raw if isinstance(raw, list) else [raw]
        if coeffs and (self.operation != "SUM" or len(coeffs) != len(shapes)):
            raise spec.error(f"coeff needs one value per bottom ({len(shapes)}) and SUM, got "
                             f"{coeffs!r}")
        self.coeffs = [get_float(spec, {"coeff": c}, "coeff", 1.0) for c in coeffs]
        if any(shape != shapes[0] for shape in shapes):
            raise spec.error(f"bottom shapes differ: {shapes}")

    def forward(self, *bottoms: Tensor) -> Tensor:
        if self.operation == "PROD":
            return _fold(bottoms, torch.mul)
        if self.operation == "MAX":
            return _fold(bottoms, torch.maximum)
        if not self.coeffs:
            return _fold(bottoms, torch.add)
        return _fold([b * c for b, c in zip(bottoms, self.coeffs, strict=True)], torch.add)


def _fold(tensors: Sequence[Tensor], op: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    result = tensors[0]
    for tensor in tensors[1:]:
        result = op(result, tensor)
    return result


class Flatten(CaffeLayer):
    kind = "Flatten"

    def __init__(self, spec: LayerSpec, shapes: list[Shape]) -> None:
        super().__init__(spec, shapes)
        p = spec.section("flatten_param")
        ndim = len(shapes[0])
        self.start = canonical_axis(spec, get_int(spec, p, "axis", 1), ndim)
        self.end = canonical_axis(spec, get_int(spec, p, "end_axis", -1), ndim, "end_axis")
        if self.end < self.start:
            raise spec.error(f"end_axis {self.end} is before axis {self.start}")

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        shape = shapes[0]
        return [(*shape[: self.start], math.prod(shape[self.start:self.end + 1]),
                 *shape[self.end + 1:])]

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start, self.end)


class Split(CaffeLayer):
    """Copies one bottom to every top."""

    kind = "Split"

    def output_shapes(self, shapes: list[Shape]) -> list[Shape]:
        return [shapes[0]] * len(self.spec.tops)

    def forward(self, x: Tensor) -> list[Tensor]:
        return [x] * len(self.spec.tops)


LAYER_TYPES: dict[str, type[CaffeLayer]] = {
    cls.kind: cls
    for cls in (Convolution, Pooling, LRN, ReLU, Concat, InnerProduct, Dropout, Softmax,
                BatchNorm, Scale, Eltwise, Flatten, Split)
}

#: legacy V1 layer type enum: (number, NAME) -> modern type name, for the supported types
V1_TYPES: dict[int | str, str] = {}
for _number, _v1, _modern in (
    (3, "CONCAT", "Concat"), (4, "CONVOLUTION", "Convolution"), (6, "DROPOUT", "Dropout"),
    (8, "FLATTEN", "Flatten"), (14, "INNER_PRODUCT", "InnerProduct"), (15, "LRN", "LRN"),
    (17, "POOLING", "Pooling"), (18, "RELU", "ReLU"), (20, "SOFTMAX", "Softmax"),
    (22, "SPLIT", "Split"), (25, "ELTWISE", "Eltwise"),
):
    V1_TYPES[_number] = V1_TYPES[_v1] = _modern
