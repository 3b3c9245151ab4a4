"""The OSC address table, as data: address -> arguments -> command -> echo -> current value.

`ROUTES` is the one definition of livedream's OSC address space. `decode` (messages into
commands), `echo_messages` (what goes back to the sender), `dump_messages` (the `/livedream/state`
reply), `docs/osc.md`'s address table (`markdown_table`, checked by a test) and the OSCQuery
namespace are all derived from it. Flags and triggers come from the command vocabulary
(`livedream.commands.FLAGS` / `TRIGGERS`), parameter names from `livedream.paramnames`.
"""

from __future__ import annotations

import functools
from typing import Any

from livedream.commands import (
    ClearModulator,
    Command,
    LearnMidi,
    LoadPreset,
    QueryState,
    Quit,
    SetChain,
    SetEase,
    SetLayer,
    SetLayers,
    SetModel,
    SetModulator,
    SetParam,
    SetQuantize,
    SetSourceMix,
    SetTempo,
    SetTransform,
    ToggleTransform,
)
from livedream.control.osc.arguments import (
    NAME,
    PREFIX,
    Args,
    count,
    name,
    names,
    number,
    one_name,
    one_number,
    plain_file,
    trigger,
)
from livedream.control.osc.route import Route, at, flag_route, same_address, trigger_route
from livedream.control.osc.wire import Message, OscError
from livedream.flow.params import FLOW_FLAGS
from livedream.look import DREAM_PARAMS
from livedream.paramnames import (
    SHOW_PARAMS,
    name_from_path,
    param_value,
    path_of_name,
    resolve_param,
)
from livedream.state import State
from livedream.tempo.modulators import MOD_KEYS, modulator_fields
from livedream.tempo.quantize import QUANTIZE_MODES
from livedream.transforms.registry import get_transform


def _layer(state: State) -> list[Any]:
    return [state.look.layers[0] if state.look.layers else ""]


def _chain(state: State) -> list[Any]:
    return [link.name for link in state.look.chain]


def _model(state: State) -> list[Any]:
    return [state.look.model] + ([state.look.weights] if state.look.weights else [])


def _enabled(state: State, transform: str) -> int:
    return int(any(link.name == transform and link.enabled for link in state.look.chain))


def _param(address: str, tail: str, args: Args) -> Command:
    parsed = name_from_path(tail)
    if parsed is None:
        raise OscError("unknown address", f"{address}: bad parameter name {tail!r} "
                       "(use <param>, <transform>/<param> or <index>/<param>)")
    param, raw = parsed
    count(address, args, 1, 1)
    value = args[0]
    if not raw:
        return SetParam(param, number(address, value), normalized=True)
    if isinstance(value, str):
        value = name(address, value, "value")
    elif not isinstance(value, bool):
        value = number(address, value)
    return SetParam(param, value)


def _param_echo(address: str, command: Command, state: State) -> list[Message]:
    assert isinstance(command, SetParam)
    _, _, spec = resolve_param(state.look, command.name)
    value = param_value(state.look, command.name, state.settings)
    return [(address, [spec.to_normalized(value) if command.normalized else value])]


def _toggle_one(address: str, tail: str, args: Args) -> Command | None:
    if not NAME.fullmatch(tail):
        raise OscError("unknown address", f"{address}: bad transform name {tail!r}")
    return trigger(address, args, ToggleTransform(tail))


def _toggle_echo(address: str, command: Command, state: State) -> list[Message]:
    assert isinstance(command, ToggleTransform)
    enabled = _enabled(state, command.name)
    return [(address, [command.name, enabled] if address == f"{PREFIX}/toggle" else [enabled])]


def _model_build(address: str, _tail: str, args: Args) -> Command:
    count(address, args, 1, 2)
    weights = plain_file(address, args[1], "weights") if len(args) > 1 else None
    return SetModel(plain_file(address, args[0], "model"), weights)


def _bpm(state: State) -> list[Any]:
    return [round(state.tempo.bpm, 3)]


def _beat(state: State) -> list[Any]:
    t = state.tempo
    return [t.bar + 1, t.beat_in_bar, t.beats_per_bar, t.source, int(t.running)]


def _speed(state: State) -> list[Any]:
    reading = state.speed
    return [reading.iterations, reading.scale, reading.frame_ms]


def _mod_build(address: str, tail: str, args: Args) -> Command:
    index, _, key = tail.partition("/")
    if not index.isdigit() or len(index) > 3 or key not in MOD_KEYS:
        raise OscError("unknown address", f"{address}: expected /livedream/mod/<n>/<field> with "
                       f"field one of {', '.join(MOD_KEYS)}")
    count(address, args, 1, 1)
    value = args[0]
    if isinstance(value, str):
        value = name(address, value, key)
    elif not isinstance(value, bool):
        value = number(address, value)
    return SetModulator(int(index), key, value)


def _mod_echo(address: str, command: Command, state: State) -> list[Message]:
    assert isinstance(command, SetModulator)
    mod = state.look.modulators[command.index]
    return [(address, [modulator_fields(mod)[command.field]])]


def _mod_clear(address: str, _tail: str, args: Args) -> Command:
    count(address, args, 0, 1)
    if not args:
        return ClearModulator(None)
    index = number(address, args[0])
    if not float(index).is_integer():
        raise OscError("bad value", f"{address}: expected a modulator index, got {index!r}")
    return ClearModulator(int(index))


def _mod_count(state: State) -> list[Any]:
    return [len(state.look.modulators)]


_LAYER_ECHO = at(f"{PREFIX}/layer", _layer)
_TEMPO = at(f"{PREFIX}/tempo", _bpm)
_PRESET = at(f"{PREFIX}/preset", lambda s: [s.preset or ""])
_LEARN = at(f"{PREFIX}/midi/learn", lambda s: [s.midi_learn or ""])

ROUTES: tuple[Route, ...] = (
    Route("layer", "s", "dream this layer of the current model", "`/livedream/layer s`",
          one_name("layer", SetLayer), _LAYER_ECHO, _layer, "s"),
    Route("layers", "s...", "dream several layers at once", "same address, the layers",
          names("layer", 1, SetLayers), same_address(lambda s: list(s.look.layers)),
          lambda s: list(s.look.layers), "s"),
    trigger_route("layer/next", "next layer of the model", "`/livedream/layer s`", _LAYER_ECHO),
    trigger_route("layer/prev", "previous layer", "`/livedream/layer s`", _LAYER_ECHO),
    Route("transform", "s", "replace the chain with this one transform (default params)",
          "same address, chain names", one_name("transform", SetTransform),
          same_address(_chain)),
    Route("chain", "s...", "replace the chain with these transforms, in order",
          "same address, chain names", names("transform", 0, SetChain), same_address(_chain),
          _chain, "s"),
    Route("toggle", "s", "enable/disable a transform of the chain (appended if absent)",
          "`/livedream/toggle s i` (name, enabled)", one_name("transform", ToggleTransform),
          _toggle_echo),
    Route("toggle/<transform>", "[x]", "same, one button per transform (trigger)",
          "same address, `i` enabled", _toggle_one, _toggle_echo),
    Route("param/<name>", "f", "set a parameter from a normalised 0..1 value (clamped)",
          "same address, normalised value", _param, _param_echo),
    Route("param/<name>/raw", "f\\|i\\|s\\|T\\|F", "set a parameter in its own units",
          "same address, raw value", _param, _param_echo),
    Route("preset", "s", "load a preset by name", "`/livedream/preset s`",
          one_name("preset", LoadPreset), _PRESET, lambda s: [s.preset or ""], "s"),
    trigger_route("preset/next", "next preset", "`/livedream/preset s`", _PRESET),
    trigger_route("preset/prev", "previous preset", "`/livedream/preset s`", _PRESET),
    flag_route("pause", "pause (1) / run (0)"),
    flag_route("record", "record (1) / stop (0)"),
    flag_route("overlay", "on-screen overlay on/off"),
    flag_route("fullscreen", "fullscreen on/off"),
    flag_route("flow", FLOW_FLAGS["flow"] + ", on/off"),
    flag_route("gate", FLOW_FLAGS["gate"] + ", on/off"),
    Route("source/mix", "f", "weight of the live source blended in, 0..1", "same address, `f`",
          one_number(SetSourceMix), same_address(lambda s: [s.source_mix]),
          lambda s: [s.source_mix], "f"),
    Route("ease", "f", "seconds over which parameter changes glide, 0..30", "same address, `f`",
          one_number(SetEase), same_address(lambda s: [s.ease_seconds]),
          lambda s: [s.ease_seconds], "f"),
    Route("model", "s [s]", "switch model (built-in name), optional weights file name",
          "same address", _model_build, same_address(_model), _model, "s"),
    trigger_route("reset", "re-seed the feedback buffer", "same address, reset count",
                  same_address(lambda s: [s.reset_count]), lambda s: [s.reset_count]),
    Route("midi/learn", "s", "MIDI learn: the next knob moved controls this parameter; the map "
          "is saved to `--midi-map` (or `midi-map.toml`)",
          "same address, the armed parameter (empty when done)",
          one_name("parameter", LearnMidi), _LEARN, lambda s: [s.midi_learn or ""], "s"),
    Route("midi/learn/cancel", "[x]", "disarm MIDI learn (trigger)", "`/livedream/midi/learn s`",
          lambda address, _tail, args: trigger(address, args, LearnMidi(None)), _LEARN),
    Route("tempo", "f", "set the tempo in BPM, 20..999 (proposed to the session with "
          "`--tempo link`)", "same address, `f` BPM", one_number(SetTempo), _TEMPO, _bpm, "f"),
    trigger_route("tempo/tap", "tap tempo: the BPM of the recent taps, a beat on each tap",
                  "`/livedream/tempo f`", _TEMPO),
    trigger_route("tempo/resync", "the downbeat (beat 1 of a bar) is now",
                  "`/livedream/tempo/beat`", at(f"{PREFIX}/tempo/beat", _beat)),
    Route("tempo/beat", "", "reply with bar, beat in bar, beats per bar, tempo source, running",
          "same address, `i i i s i`", lambda address, _tail, args: trigger(
              address, args, QueryState()), same_address(_beat), _beat, "iiisi"),
    Route("speed", "", "reply with the frame governor's choice: iterations per dream frame, "
          "dream scale, smoothed frame time in ms (0 before any); its target is "
          "`param/speed/target_fps`", "same address, `i f f`", lambda address, _tail, args:
          trigger(address, args, QueryState()), same_address(_speed), _speed, "iff"),
    Route("quantize", "s", "look switches (preset, transform, chain, layer) wait for the next: "
          + " \\| ".join(QUANTIZE_MODES), "same address, `s`",
          one_name("quantize mode", SetQuantize), same_address(lambda s: [s.quantize]),
          lambda s: [s.quantize], "s"),
    Route("mod/<n>/<field>", "f\\|i\\|s\\|T\\|F", "set a field of modulator n ("
          + ", ".join(MOD_KEYS) + "); n = the count adds one", "same address, the field's value",
          _mod_build, _mod_echo),
    Route("mod/clear", "[n]", "remove modulator n (no argument: all)", "`/livedream/mod/count i`",
          _mod_clear, at(f"{PREFIX}/mod/count", _mod_count), types="i"),
    Route("mod/count", "", "reply with the number of modulators", "same address, `i`",
          lambda address, _tail, args: trigger(address, args, QueryState()),
          same_address(_mod_count), _mod_count, "i"),
    Route("state", "", "reply with the full state, one message per value", "see below",
          lambda address, _tail, args: trigger(address, args, QueryState()),
          lambda _address, _command, state: dump_messages(state)),
    Route("quit", "[x]", "stop the show (only when enabled with `allow_quit`)", "none",
          lambda address, _tail, args: trigger(address, args, Quit())),
)

_EXACT = {route.path: route for route in ROUTES if route.prefix is None}
#: (prefix, ends with /raw, route), longest pattern first
_PATTERNS = [(route.prefix or "", route.path.endswith("/raw"), route) for route in sorted(
    (route for route in ROUTES if route.prefix is not None), key=lambda route: -len(route.path))]

#: (address, arguments, meaning) of every route, for listings and fuzzers.
ADDRESSES: tuple[tuple[str, str, str], ...] = tuple(
    (route.address, route.args.replace("\\|", "|"), route.doc) for route in ROUTES)


@functools.lru_cache(maxsize=4096)  # a fader floods one address: match it once
def route_of(address: str) -> tuple[Route, str]:
    """The route an address belongs to and the matched tail; OscError for unknown addresses."""
    if not address.startswith(PREFIX + "/"):
        raise OscError("unknown address", f"{address[:80]!r} is not under {PREFIX}/")
    path = address[len(PREFIX) + 1:]
    if path in _EXACT:
        return _EXACT[path], ""
    for prefix, raw_suffix, route in _PATTERNS:
        if path.startswith(prefix):
            tail = path[len(prefix):]
            if raw_suffix != tail.endswith("/raw"):
                continue
            return route, tail
    raise OscError("unknown address", f"unknown address {address[:80]!r}; see docs/osc.md")


def decode(address: str, args: Args, allow_quit: bool = False) -> Command | None:
    """Decode one OSC message into a Command; None for a button release (nothing to do).

    Raises OscError (a LivedreamError) naming the address and what was wrong.
    """
    route, tail = route_of(address)
    if route.path == "quit" and not allow_quit:
        raise OscError("quit disabled", f"{address}: quitting over OSC is disabled")
    return route.build(address, tail, args)


def echo_messages(address: str, command: Command, state: State) -> list[Message]:
    """What to tell the sender after its command applied (the same address where it has one)."""
    route, _ = route_of(address)
    return route.echo(address, command, state) if route.echo is not None else []


def param_paths(state: State) -> list[tuple[str, str]]:
    """(parameter name, OSC path below param/) of every parameter of the state: dream, show and
    chain parameters; transforms that appear twice are addressed by chain index."""
    look = state.look
    out = [(key, key) for key in DREAM_PARAMS] + [(key, path_of_name(key)) for key in SHOW_PARAMS]
    heads = [link.name for link in look.chain]
    for i, link in enumerate(look.chain):
        head = link.name if heads.count(link.name) == 1 else str(i)
        out += [(f"{head}.{key}", f"{head}/{key}") for key in get_transform(link.name).params]
    return out


def dump_messages(state: State) -> list[Message]:
    """The full state, one message per value (the reply to `/livedream/state`)."""
    out: list[Message] = [(route.address, route.value(state)) for route in ROUTES
                          if route.value is not None]
    out += [(f"{PREFIX}/toggle/{link.name}", [int(link.enabled)]) for link in state.look.chain]
    for i, mod in enumerate(state.look.modulators):
        fields = modulator_fields(mod).items()
        out += [(f"{PREFIX}/mod/{i}/{key}", [value]) for key, value in fields]
    for param, path in param_paths(state):
        _, _, spec = resolve_param(state.look, param)
        value = param_value(state.look, param, state.settings)
        address = f"{PREFIX}/param/{path}"
        out += [(address, [spec.to_normalized(value)]), (address + "/raw", [value])]
    return out


def markdown_table() -> str:
    """The address table of docs/osc.md, generated from ROUTES."""
    lines = ["| Address | Arguments | What it does | Echo |", "|---|---|---|---|"]
    for route in ROUTES:
        args = f"`{route.args}`" if route.args else ""
        lines.append(f"| `{route.address}` | {args} | {route.doc} | {route.echo_doc} |")
    return "\n".join(lines)
