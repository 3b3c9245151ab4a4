"""The coalescing queue: latest value per target in arrival order of the latest; triggers ordered
and bounded; memory bounded by targets."""

from __future__ import annotations

import threading

from livedream.command_queue import CommandQueue
from livedream.commands import (
    LoadPreset,
    QueryState,
    Reset,
    SetChain,
    SetFlag,
    SetLayer,
    SetParam,
    StepPreset,
    ToggleTransform,
    coalesce_key,
)


def commands(queue: CommandQueue) -> list:
    return [e.command for e in queue.drain()]


def test_values_keep_the_latest_per_target_in_the_order_of_their_latest():
    queue = CommandQueue()
    queue.put(SetParam("step_size", 1.0))
    queue.put(LoadPreset("a"))
    queue.put(SetParam("jitter", 3))
    queue.put(SetParam("step_size", 2.0))
    queue.put(LoadPreset("b"))
    assert commands(queue) == [SetParam("jitter", 3), SetParam("step_size", 2.0), LoadPreset("b")]
    assert queue.coalesced == 2 and len(queue) == 0


def test_triggers_interleaved_with_values_keep_their_order_and_count():
    queue = CommandQueue()
    for command in (ToggleTransform("sobel"), SetParam("step_size", 1.0), StepPreset(1),
                    ToggleTransform("sobel"), SetFlag("paused"), Reset()):
        queue.put(command)
    assert commands(queue) == [ToggleTransform("sobel"), SetParam("step_size", 1.0),
                               StepPreset(1), ToggleTransform("sobel"), SetFlag("paused"),
                               Reset()]


def test_bounds_drop_and_count_never_block():
    queue = CommandQueue(max_triggers=3, max_targets=2)
    assert all(queue.put(Reset()) for _ in range(3))
    assert not queue.put(StepPreset(1)) and queue.dropped == 1
    assert queue.last_dropped == StepPreset(1)
    assert queue.put(SetParam("a.x", 1)) and queue.put(SetParam("b.x", 1))
    assert not queue.put(SetParam("c.x", 1)) and queue.dropped == 2  # a third target
    assert queue.put(SetParam("a.x", 2))  # an existing target still takes its new value
    assert len(commands(queue)) == 5
    assert queue.put(Reset())  # a drain frees the bounds


def test_drain_limit_keeps_the_rest_in_order():
    queue = CommandQueue()
    for name in ("a", "b", "c"):
        queue.put(SetLayer(name) if name == "a" else ToggleTransform(name))
    assert [e.command for e in queue.drain(limit=2)] == [SetLayer("a"), ToggleTransform("b")]
    assert commands(queue) == [ToggleTransform("c")]


def test_coalesce_keys_name_targets_and_triggers():
    assert coalesce_key(SetLayer("x")) == coalesce_key(SetLayer("y"))
    assert coalesce_key(SetChain(("zoom",))) == ("chain",)
    assert coalesce_key(SetFlag("paused", True)) == ("flag", "paused")
    assert coalesce_key(SetFlag("paused")) is None  # a toggle counts
    assert coalesce_key(QueryState(), "a") != coalesce_key(QueryState(), "b")
    for trigger in (Reset(), StepPreset(1), ToggleTransform("x")):
        assert coalesce_key(trigger) is None


def test_put_from_many_threads_loses_no_trigger_and_wakes_listeners():
    queue = CommandQueue(max_triggers=10_000)
    woken: list[int] = []
    queue.on_put(lambda: woken.append(1))

    def producer() -> None:
        for _ in range(500):
            queue.put(Reset())
            queue.put(SetParam("step_size", 1.0))

    threads = [threading.Thread(target=producer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drained = commands(queue)
    assert drained.count(Reset()) == 2000 and drained.count(SetParam("step_size", 1.0)) == 1
    assert len(woken) == 4000
