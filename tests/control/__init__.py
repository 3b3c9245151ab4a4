"""Shared fixtures for the control-adapter tests: a small show state and a render-loop stand-in."""

from __future__ import annotations

from livedream.command_queue import CommandQueue, Envelope
from livedream.commands import FLAG_FIELDS, Command
from livedream.look import ChainLink, Look
from livedream.paramnames import param_names, param_value, resolve_param
from livedream.state import Env, State, fold

LAYERS = ("conv1", "conv2", "conv3")
LOOK = Look(layers=("conv1",), chain=(ChainLink("zoom"), ChainLink("sobel"),
                                      ChainLink("pixel_sort")))
PRESETS = {
    "calm": Look(name="calm", layers=("conv2",), chain=(ChainLink("blur", {"sigma": 2.0}),)),
    "wild": Look(name="wild", layers=("conv3",),
                 chain=(ChainLink("rotate", {"degrees": 5.0}), ChainLink("sobel"))),
}
ENV = Env(layer_names=LAYERS, presets=PRESETS)


class PutLog(CommandQueue):
    """A CommandQueue that also records every accepted put in order (before coalescing), so an
    adapter test sees each command the adapter produced."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Envelope] = []

    def put(self, command, reply=None, origin: str = "") -> bool:  # noqa: ANN001
        accepted = super().put(command, reply, origin)
        if accepted:
            self.log.append(Envelope(command, reply, origin))
        return accepted

    def take(self) -> list[Command]:
        """Every command put since the last take, in order (and empty the queue)."""
        self.drain()
        out, self.log = [e.command for e in self.log], []
        return out


def initial_state() -> State:
    return State(look=LOOK)


def run_frame(queue: CommandQueue, state: State, env: Env = ENV) -> tuple[State, list[Command],
                                                                          list[Exception]]:
    """What the show does once per drain (`livedream.state.fold`): apply, reply on success.

    Returns the new state, the commands that applied, and the LivedreamErrors raised.
    """
    applied: list[Command] = []
    errors: list[Exception] = []

    def on_applied(envelope: Envelope, _old: State, new: State) -> None:
        applied.append(envelope.command)
        if envelope.reply is not None:
            envelope.reply(new)

    state = fold(state, queue.drain(), env, on_applied, lambda _e, exc: errors.append(exc))
    return state, applied, errors


def assert_state_valid(state: State, env: Env = ENV) -> None:
    """Every value of the state is one its spec allows (the reducer never lets junk in)."""
    look = state.look
    for name in param_names(look):
        _, _, spec = resolve_param(look, name)
        value = param_value(look, name)
        assert spec.validate(value, name) == value and type(value) is spec.kind, (name, value)
    assert all(layer in env.layer_names for layer in look.layers) and look.layers
    assert 0.0 <= state.source_mix <= 1.0 and 0.0 <= state.ease_seconds <= 30.0
    assert all(isinstance(getattr(state, flag), bool) for flag in FLAG_FIELDS)
