"""One immutable show state and its reducer.

OSC, MIDI, keyboard, presets, tempo and modulators never touch the renderer: they decode input into
`Command`s (`livedream.commands`) and put them on a `CommandQueue` (`livedream.command_queue`).
The show drains the queue and folds each command into the `State` with `apply(state, command,
env)` (`fold` does a whole drain). A command that cannot be applied raises a LivedreamError; the
fold logs it and keeps the old state, so the show goes on.

Side effects (start recording, load a model, re-seed the buffer, quit) are not performed here: the
render loop derives them by comparing the previous and the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from livedream.command_queue import Envelope
from livedream.commands import (
    FLAG_FIELDS,
    ClearModulator,
    Command,
    LearnMidi,
    LoadPreset,
    QueryState,
    Quit,
    Reset,
    ResyncTempo,
    SetChain,
    SetEase,
    SetFlag,
    SetLayer,
    SetLayers,
    SetModel,
    SetModulator,
    SetParam,
    SetQuantize,
    SetSourceMix,
    SetTempo,
    SetTransform,
    StepLayer,
    StepPreset,
    TapTempo,
    ToggleTransform,
)
from livedream.errors import LivedreamError, ParamError, UnknownNameError
from livedream.flow.params import FLOW_PARAMS
from livedream.look import Look
from livedream.paramnames import SHOW_PARAMS, coerce, resolve_param, set_look_param
from livedream.params import Param, Value
from livedream.speed_params import SpeedReading
from livedream.tempo.modulate import check_targets
from livedream.tempo.modulators import MAX_MODULATORS, Modulator
from livedream.tempo.quantize import check_mode
from livedream.tempo.reading import BPM, TempoState
from livedream.tempo.tap import add_tap
from livedream.transforms.registry import make_link


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
    settings: Mapping[str, Value] = field(default_factory=dict)  # show params (SHOW_PARAMS)
    flow: bool = False  # warp the buffer by the source's optical flow (livedream.flow)
    gate: bool = False  # motion gate: the source shows where the scene moves
    # tempo: `tempo` is the tempo clock's reading (refreshed by the show on every beat and
    # change); tempo commands bump the counters, which the tempo observer acts on.
    tempo: TempoState = TempoState(120.0, 0.0, 4, "fixed")
    tempo_changes: int = 0  # SetTempo / a tap that gave a BPM: the clock takes tempo.bpm
    tempo_taps: tuple[float, ...] = ()  # recent tap times (tap tempo)
    tempo_resyncs: int = 0  # ResyncTempo: a downbeat now
    quantize: str = "off"  # look switches wait for: off, beat, bar, 2bars, 4bars
    speed: SpeedReading = SpeedReading()  # the frame governor's choice (it refreshes this)


@dataclass(frozen=True)
class Env:
    """What `apply` needs to know about the world: the current model's layers and the presets."""

    layer_names: Sequence[str] = ()
    presets: Mapping[str, Look] = field(default_factory=dict)


SOURCE_MIX = Param(0.0, 0.0, 1.0, doc="weight of the live source blended into the buffer")
EASE = Param(0.0, 0.0, 30.0, doc="seconds over which numeric parameter changes glide")


#: State flags a preset's [show] table may switch (besides `source_mix` and the FLOW_PARAMS).
SHOW_FLAGS = ("flow", "gate")


def check_show_setting(key: str, value: object) -> Value:
    """One entry of a preset's [show] table, validated: `flow` / `gate` (true or false),
    `source_mix` (0..1), or a live-input parameter (`flow.strength`, `gate.threshold`, ...)."""
    if key in SHOW_FLAGS:
        if not isinstance(value, bool):
            raise ParamError(f"{key}: expected true or false, got {value!r}")
        return value
    if key == "source_mix":
        return SOURCE_MIX.validate(value, key)
    if key in FLOW_PARAMS:
        return FLOW_PARAMS[key].validate(value, key)
    raise UnknownNameError("show setting", key, [*SHOW_FLAGS, "source_mix", *FLOW_PARAMS])


def with_show(state: State, show: Sequence[tuple[str, Value]]) -> State:
    """`state` with a preset's show settings applied (what the preset does not name stays)."""
    if not show:
        return state
    fields = {key: value for key, value in show if key in SHOW_FLAGS or key == "source_mix"}
    params = {key: value for key, value in show if key in FLOW_PARAMS}
    return replace(state, **fields, settings={**state.settings, **params})


def setting(state: State, name: str) -> Value:
    """A show parameter's current value (its default until set)."""
    return state.settings.get(name, SHOW_PARAMS[name].default)


def _set_param(state: State, cmd: SetParam) -> State:
    ref = resolve_param(state.look, cmd.name)
    value = coerce(ref[2], cmd.name, cmd.value, cmd.normalized)
    if ref[0] is None and ref[1] in SHOW_PARAMS:
        return replace(state, settings={**state.settings, ref[1]: value})
    return replace(state, look=set_look_param(state.look, ref, value))


def _set_modulator(look: Look, cmd: SetModulator) -> Look:
    mods = list(look.modulators)
    top = min(len(mods), MAX_MODULATORS - 1)
    if isinstance(cmd.index, bool) or not isinstance(cmd.index, int) or not 0 <= cmd.index <= top:
        raise ParamError(f"modulator {cmd.index!r}: expected 0..{top} "
                         f"({len(mods)} defined; index {len(mods)} adds one)")
    mod = mods[cmd.index] if cmd.index < len(mods) else Modulator(target="")
    mod = mod.with_field(cmd.field, cmd.value)
    if cmd.field == "target":
        check_targets(look, [mod])
    mods[cmd.index:cmd.index + 1] = [mod]
    return replace(look, modulators=tuple(mods))


def _cycle(items: Sequence[str], current: str | None, delta: int) -> str:
    if not items:
        raise ParamError("nothing to step through")
    i = list(items).index(current) if current in items else (-1 if delta > 0 else 0)
    return items[(i + delta) % len(items)]


def _load_preset(state: State, name: str, look: Look) -> State:
    """The preset's look, and its [show] settings (LoadPreset and StepPreset alike)."""
    return with_show(replace(state, look=look, preset=name), look.show)


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
            return replace(state, look=replace(look, chain=(make_link(name),)))
        case SetChain(names=names):
            return replace(state, look=replace(look, chain=tuple(make_link(n) for n in names)))
        case ToggleTransform(name=name):
            chain = list(look.chain)
            for i, link in enumerate(chain):
                if link.name == name:
                    chain[i] = replace(link, enabled=not link.enabled)
                    break
            else:
                chain.append(make_link(name))
            return replace(state, look=replace(look, chain=tuple(chain)))
        case SetParam():
            return _set_param(state, cmd)
        case LoadPreset(name=name):
            if name not in env.presets:
                raise UnknownNameError("preset", name, list(env.presets))
            return _load_preset(state, name, env.presets[name])
        case StepPreset(delta=delta):
            name = _cycle(list(env.presets), state.preset, delta)
            return _load_preset(state, name, env.presets[name])
        case SetModel(name=name, weights=weights, layer=layer):
            # Layer names are checked when the model has loaded (off the render thread).
            layers = (layer,) if layer else look.layers
            return replace(state, look=replace(look, model=name, weights=weights, layers=layers))
        case SetFlag(flag=flag, value=value):
            if flag not in FLAG_FIELDS:
                raise UnknownNameError("flag", flag, FLAG_FIELDS)
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
        case SetTempo(bpm=bpm):
            tempo = replace(state.tempo, bpm=float(BPM.validate(bpm, "tempo")))
            return replace(state, tempo=tempo, tempo_changes=state.tempo_changes + 1)
        case TapTempo(at=at):
            taps, bpm = add_tap(state.tempo_taps, float(at))
            if bpm is None:
                return replace(state, tempo_taps=taps)
            return replace(state, tempo=replace(state.tempo, bpm=bpm), tempo_taps=taps,
                           tempo_changes=state.tempo_changes + 1)
        case ResyncTempo():
            return replace(state, tempo_resyncs=state.tempo_resyncs + 1)
        case SetQuantize(mode=mode):
            return replace(state, quantize=check_mode(mode))
        case SetModulator():
            return replace(state, look=_set_modulator(look, cmd))
        case ClearModulator(index=index):
            mods = list(look.modulators)
            if index is None:
                mods = []
            elif isinstance(index, int) and 0 <= index < len(mods):
                del mods[index]
            else:
                raise ParamError(f"modulator {index!r}: no such modulator ({len(mods)} defined)")
            return replace(state, look=replace(look, modulators=tuple(mods)))
    raise ParamError(f"unknown command {cmd!r}")


# --- a drain ------------------------------------------------------------------------------------
Rejected = Callable[[Envelope, LivedreamError], None]
Applied = Callable[[Envelope, State, State], None]


def fold(
    state: State,
    envelopes: Sequence[Envelope],
    env: Env,
    on_applied: Applied | None = None,
    on_rejected: Rejected | None = None,
) -> State:
    """Apply a drain's envelopes in order: each accepted one calls `on_applied(envelope, old,
    new)`, each rejected one `on_rejected(envelope, error)` and keeps the state. The one fold of
    commands into state (the show's dispatcher and the tests' loop stand-in both use it)."""
    for envelope in envelopes:
        try:
            new = apply(state, envelope.command, env)
        except LivedreamError as exc:
            if on_rejected is not None:
                on_rejected(envelope, exc)
            continue
        old, state = state, new
        if on_applied is not None:
            on_applied(envelope, old, new)
    return state
