"""Model switching off the render thread: the show keeps dreaming on the old model meanwhile."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

import torch

from livedream.errors import LivedreamError
from livedream.models.base import DreamModel
from livedream.models.registry import default_layer, load_model

log = logging.getLogger(__name__)

ModelLoader = Callable[[str, str | None, torch.device], DreamModel]
ModelKey = tuple[str, str | None]  # (model name or prototxt, weights)


def default_loader(name: str, weights: str | None, device: torch.device) -> DreamModel:
    return load_model(name, weights, device)


def fallback_layer(model: DreamModel) -> str:
    """The model's default layer when it has one, else its middle layer."""
    names = model.layer_names()
    try:
        layer = default_layer(model.name)
    except LivedreamError:
        layer = None
    return layer if layer in names else names[len(names) // 2]


def layers_on(model: DreamModel, layers: tuple[str, ...]) -> tuple[str, ...]:
    """`layers` when the model has them all, else its fallback layer (logged)."""
    valid = set(model.layer_names())
    if layers and all(layer in valid for layer in layers):
        return layers
    fallback = fallback_layer(model)
    log.warning("layers %s are not in model %s; using %s", ", ".join(layers), model.name,
                fallback)
    return (fallback,)


class ModelSwitcher:
    """Loads one model at a time on a worker thread; `poll` hands it over when it is ready."""

    def __init__(self, loader: ModelLoader, device: torch.device) -> None:
        self.loader = loader
        self.device = device
        self.pending: tuple[ModelKey, Future[DreamModel]] | None = None

    @property
    def loading(self) -> str | None:
        """Name of the model being loaded, if any."""
        return self.pending[0][0] if self.pending else None

    def request(self, key: ModelKey) -> None:
        """Start loading `key` unless that load is already under way."""
        if self.pending is not None and self.pending[0] == key:
            return
        future: Future[DreamModel] = Future()

        def load() -> None:
            try:
                future.set_result(self.loader(key[0], key[1], self.device))
            except BaseException as exc:  # reported on the render thread by poll()
                future.set_exception(exc)

        self.pending = (key, future)
        log.info("loading model %s in the background", key[0])
        threading.Thread(target=load, name=f"load-model-{key[0]}", daemon=True).start()

    def cancel(self) -> None:
        if self.pending is not None:
            log.info("model switch to %s cancelled", self.pending[0][0])
            self.pending = None

    def poll(self) -> tuple[ModelKey, DreamModel | BaseException] | None:
        """(key, model or the load's exception) once the pending load has finished, else None."""
        if self.pending is None or not self.pending[1].done():
            return None
        key, future = self.pending
        self.pending = None
        exc = future.exception()
        return key, (exc if exc is not None else future.result())
