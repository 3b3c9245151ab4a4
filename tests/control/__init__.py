"""Shared fixtures for the control-adapter tests: a small show state and a render-loop stand-in."""

from __future__ import annotations

from livedream.errors import LivedreamError
from livedream.look import ChainLink, Look
from livedream.state import (
    FLAGS,
    Command,
    CommandQueue,
    Env,
    State,
    apply,
    param_names,
    param_value,
    resolve_param,
)

LAYERS = ("conv1", "conv2", "conv3")
LOOK = Look(layers=("conv1",), chain=(ChainLink("zoom"), ChainLink("sobel"),
                                      ChainLink("pixel_sort")))
PRESETS = {
    "calm": Look(name="calm", layers=("conv2",), chain=(ChainLink("blur", {"sigma": 2.0}),)),
    "wild": Look(name="wild", layers=("conv3",),
                 chain=(ChainLink("rotate", {"degrees": 5.0}), ChainLink("sobel"))),
}
ENV = Env(layer_names=LAYERS, presets=PRESETS)


def initial_state() -> State:
    return State(look=LOOK)


def run_frame(queue: CommandQueue, state: State, env: Env = ENV) -> tuple[State, list[Command],
                                                                          list[Exception]]:
    """What the render loop does once per frame: drain, apply, reply on success.

    Returns the new state, the commands that applied, and the LivedreamErrors raised.
    """
    applied: list[Command] = []
    errors: list[Exception] = []
    for envelope in queue.drain():
        try:
            state = apply(state, envelope.command, env)
        except LivedreamError as exc:
            errors.append(exc)
            continue
        applied.append(envelope.command)
        if envelope.reply is not None:
            envelope.reply(state)
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
    assert all(isinstance(getattr(state, flag), bool) for flag in FLAGS)
