"""One immutable show state and one command API.

OSC, MIDI, keyboard and presets never touch the renderer: they decode input into `Command`s and
put them on a `CommandQueue`. The render loop drains the queue once per frame and folds each
command into the `State` with `apply(state, command, env)`. A command that cannot be applied
raises a LivedreamError; the loop logs it and keeps the old state, so the show goes on.

Side effects (start recording, load a model, re-seed the buffer, quit) are not performed here: the
loop derives them by comparing the previous and the new state.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from livedream.errors import ParamError, UnknownNameError
from livedream.look import DREAM_PARAMS, ChainLink, Look
from livedream.params import Param, Value


@dataclass(frozen=True)
class State:
    """Everything the show is doing, as one value."""

    look: Look = field(default_factory=Look)
    preset: str | None = None
    paused: bool = False
    recording: bool = False
    source: str | None = None
    source_mix: float = 0.0
    overlay: bool = True
    fullscreen: bool = False
    ease_seconds: float = 0.0  # numeric parameter changes glide over this time (0 = jump)
    reset_count: int = 0  # incremented by Reset: the loop re-seeds the feedback buffer
    midi_learn: str | None = None  # parameter armed for MIDI learn (next CC moved binds to it)
    quit: bool = False


@dataclass(frozen=True)
class Env:
    """What `apply` needs to know about the world: the current model's layers and the presets."""

    layer_names: Sequence[str] = ()
    presets: Mapping[str, Look] = field(default_factory=dict)


# --- commands -------------------------------------------------------------------------------------
class Command:
    """Base class of all commands (plain frozen dataclasses)."""


@dataclass(frozen=True)
class SetLayer(Command):
    layer: str


@dataclass(frozen=True)
class SetLayers(Command):
    layers: tuple[str, ...]


@dataclass(frozen=True)
class StepLayer(Command):
    delta: int = 1


@dataclass(frozen=True)
class SetTransform(Command):
    """Replace the whole chain with one transform at its default parameters."""

    name: str


@dataclass(frozen=True)
class SetChain(Command):
    names: tuple[str, ...]


@dataclass(frozen=True)
class ToggleTransform(Command):
    """Enable/disable a transform of the chain; append it (enabled) when absent."""

    name: str


@dataclass(frozen=True)
class SetParam(Command):
    """Set a parameter by name (see `resolve_param`); `normalized` maps 0..1 onto its range."""

    name: str
    value: Any
    normalized: bool = False


@dataclass(frozen=True)
class LoadPreset(Command):
    name: str


@dataclass(frozen=True)
class StepPreset(Command):
    delta: int = 1


@dataclass(frozen=True)
class SetModel(Command):
    name: str
    weights: str | None = None
    layer: str | None = None


@dataclass(frozen=True)
class SetFlag(Command):
    """Set (True/False) or toggle (None) a boolean flag: paused, recording, overlay, fullscreen."""

    flag: str
    value: bool | None = None


@dataclass(frozen=True)
class SetSourceMix(Command):
    value: float


@dataclass(frozen=True)
class SetEase(Command):
    seconds: float


@dataclass(frozen=True)
class Reset(Command):
    pass


@dataclass(frozen=True)
class LearnMidi(Command):
    """Arm MIDI learn for a parameter (the next CC moved is bound to it); None disarms."""

    param: str | None


@dataclass(frozen=True)
class Quit(Command):
    pass


@dataclass(frozen=True)
class QueryState(Command):
    """Change nothing; the reply receives the current state (OSC `/livedream/state` dump)."""


FLAGS = ("paused", "recording", "overlay", "fullscreen")
SOURCE_MIX = Param(0.0, 0.0, 1.0, doc="weight of the live source blended into the buffer")
EASE = Param(0.0, 0.0, 30.0, doc="seconds over which numeric parameter changes glide")


# --- parameters by name -------------------------------------------------------------------------
def param_names(look: Look) -> list[str]:
    """Every addressable parameter of a look: dream params and `<transform>.<param>`."""
    from livedream.transforms import get_transform

    names = list(DREAM_PARAMS)
    for link in look.chain:
        names += [f"{link.name}.{p}" for p in get_transform(link.name).params]
    return names


def resolve_param(look: Look, name: str) -> tuple[int | None, str, Param]:
    """Find a parameter: (chain index or None for dream params, param key, spec).

    Accepted names: a dream param (`step_size`), `<transform>.<param>` (first link of that
    transform), `<index>.<param>` (chain position), or a bare `<param>` unique in the chain.
    """
    from livedream.transforms import get_transform

    if name in DREAM_PARAMS:
        return None, name, DREAM_PARAMS[name]
    head, _, key = name.rpartition(".")
    candidates: list[tuple[int, str, Param]] = []
    for i, link in enumerate(look.chain):
        specs = get_transform(link.name).params
        if head and head not in (link.name, str(i)):
            continue
        if key in specs:
            candidates.append((i, key, specs[key]))
    if head and candidates:
        return candidates[0]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise ParamError(f"parameter {name!r} is ambiguous; use one of: "
                         + ", ".join(f"{look.chain[i].name}.{k}" for i, k, _ in candidates))
    raise UnknownNameError("parameter", name, param_names(look))


def param_value(look: Look, name: str) -> Value:
    """Current value of a named parameter (defaults included)."""
    index, key, spec = resolve_param(look, name)
    if index is None:
        return getattr(look.dream, key)
    return look.chain[index].params.get(key, spec.default)


def _set_param(look: Look, cmd: SetParam) -> Look:
    index, key, spec = resolve_param(look, cmd.name)
    value = spec.from_normalized(cmd.value, cmd.name) if cmd.normalized else spec.validate(
        cmd.value, cmd.name)
    if index is None:
        return replace(look, dream=look.dream.with_param(key, value))
    chain = list(look.chain)
    chain[index] = chain[index].with_param(key, value)
    return replace(look, chain=tuple(chain))


def _link(name: str) -> ChainLink:
    from livedream.transforms import make_link

    return make_link(name)


def _cycle(items: Sequence[str], current: str | None, delta: int) -> str:
    if not items:
        raise ParamError("nothing to step through")
    i = list(items).index(current) if current in items else (-1 if delta > 0 else 0)
    return items[(i + delta) % len(items)]


# --- the reducer ------------------------------------------------------------------------------
def apply(state: State, cmd: Command, env: Env) -> State:
    """Return the state after `cmd`; raise LivedreamError (state unchanged) when it is invalid."""
    look = state.look
    match cmd:
        case SetLayer(layer=layer):
            if env.layer_names and layer not in env.layer_names:
                raise UnknownNameError(f"layer of model {look.model!r}", layer, env.layer_names)
            return replace(state, look=replace(look, layers=(layer,)))
        case SetLayers(layers=layers):
            for layer in layers:
                if env.layer_names and layer not in env.layer_names:
                    raise UnknownNameError(f"layer of model {look.model!r}", layer, env.layer_names)
            if not layers:
                raise ParamError("at least one layer is needed")
            return replace(state, look=replace(look, layers=tuple(layers)))
        case StepLayer(delta=delta):
            layer = _cycle(env.layer_names, look.layers[0] if look.layers else None, delta)
            return replace(state, look=replace(look, layers=(layer,)))
        case SetTransform(name=name):
            return replace(state, look=replace(look, chain=(_link(name),)))
        case SetChain(names=names):
            return replace(state, look=replace(look, chain=tuple(_link(n) for n in names)))
        case ToggleTransform(name=name):
            chain = list(look.chain)
            for i, link in enumerate(chain):
                if link.name == name:
                    chain[i] = replace(link, enabled=not link.enabled)
                    break
            else:
                chain.append(_link(name))
            return replace(state, look=replace(look, chain=tuple(chain)))
        case SetParam():
            return replace(state, look=_set_param(look, cmd))
        case LoadPreset(name=name):
            if name not in env.presets:
                raise UnknownNameError("preset", name, list(env.presets))
            return replace(state, look=env.presets[name], preset=name)
        case StepPreset(delta=delta):
            name = _cycle(list(env.presets), state.preset, delta)
            return replace(state, look=env.presets[name], preset=name)
        case SetModel(name=name, weights=weights, layer=layer):
            # Layer names are checked when the model has loaded (off the render thread).
            layers = (layer,) if layer else look.layers
            return replace(state, look=replace(look, model=name, weights=weights, layers=layers))
        case SetFlag(flag=flag, value=value):
            if flag not in FLAGS:
                raise UnknownNameError("flag", flag, FLAGS)
            new = (not getattr(state, flag)) if value is None else bool(value)
            return replace(state, **{flag: new})
        case SetSourceMix(value=value):
            return replace(state, source_mix=SOURCE_MIX.validate(value, "source_mix"))
        case SetEase(seconds=seconds):
            return replace(state, ease_seconds=EASE.validate(seconds, "ease"))
        case Reset():
            return replace(state, reset_count=state.reset_count + 1)
        case LearnMidi(param=param):
            if param is not None:
                resolve_param(look, param)  # unknown or ambiguous names raise here
            return replace(state, midi_learn=param)
        case Quit():
            return replace(state, quit=True)
        case QueryState():
            return state
    raise ParamError(f"unknown command {cmd!r}")


# --- the queue ------------------------------------------------------------------------------
Reply = Callable[[State], None]


@dataclass(frozen=True)
class Envelope:
    """A command with an optional reply callback (echo to the controller that sent it)."""

    command: Command
    reply: Reply | None = None
    origin: str = ""


class CommandQueue:
    """Thread-safe queue from control adapters (any thread) to the render loop (one thread)."""

    def __init__(self, maxsize: int = 10000) -> None:
        self._queue: queue.Queue[Envelope] = queue.Queue(maxsize)
        self.dropped = 0

    def put(self, command: Command, reply: Reply | None = None, origin: str = "") -> bool:
        """Enqueue without blocking; a full queue drops the command (counted), never stalls."""
        try:
            self._queue.put_nowait(Envelope(command, reply, origin))
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def drain(self, limit: int = 10000) -> list[Envelope]:
        """Everything queued so far (at most `limit`), oldest first."""
        out: list[Envelope] = []
        while len(out) < limit:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out
