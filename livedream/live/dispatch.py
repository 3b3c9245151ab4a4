"""The dispatcher: owns the show's `State`, folds queued commands into it, echoes, and holds
quantised commands until they are due.

Two callers drain: the render loop at the start of every tick, and - in a live show - the
dispatcher's own thread, woken by every put. So a controller's echo (and the window's next
redraw) sees a validated change within a millisecond or two instead of after the dream frame in
flight. A drain is rate-limited (`min_interval`): under a flood each drain takes a batch that the
queue has already coalesced to one command per target, hence one echo per target per drain.

Quantisation: `schedule(command, now)` (see `livedream.live.dispatch.Schedule`) may return a later
time; such commands wait here and apply, in order, at the first drain at or after that time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from livedream.command_queue import CommandQueue, Envelope
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.live.clock import Clock, SystemClock
from livedream.state import Env, State, fold

log = logging.getLogger(__name__)

StateObserver = Callable[[State, State], None]
#: (command envelope, now) -> when it should apply (None or <= now: at once)
Schedule = Callable[[Envelope, float], float | None]


@dataclass
class DispatchStats:
    applied: int = 0
    rejected: int = 0
    drains: int = 0


class Dispatcher:
    """The one owner of the live `State` (see the module docstring)."""

    def __init__(
        self,
        state: State,
        queue: CommandQueue,
        env: Env | None = None,
        *,
        observers: Sequence[StateObserver] = (),
        clock: Clock | None = None,
        schedule: Schedule | None = None,
        min_interval: float = 0.004,
    ) -> None:
        self.queue = queue
        self.env = env or Env()
        self.observers = list(observers)
        self.clock: Clock = clock or SystemClock()
        self.schedule = schedule
        self.min_interval = min_interval
        self.stats = DispatchStats()
        #: the first frame a change applied now will reach (set by the render loop), for logs
        self.frame_reached: Callable[[], int] | None = None
        self._state = state
        self._held: list[tuple[float, int, Envelope]] = []  # (due, arrival, envelope)
        self._arrivals = 0
        self._lock = threading.RLock()
        self._limiter = RateLimitedLog(logging.getLogger("livedream.live.loop"), 5.0,
                                       clock=self.clock.now)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> State:
        """The current state (an immutable value: safe to read from any thread)."""
        return self._state

    def replace_state(self, state: State) -> None:
        """Set the state outright (no echo, no observers): start-up and tests."""
        with self._lock:
            self._state = state

    def amend(self, change: Callable[[State], State]) -> State:
        """Apply an internal correction (a failed recording start, a model that did not load) and
        tell the observers; returns the new state."""
        with self._lock:
            old = self._state
            self._state = change(old)
            self._notify(old, self._state)
            return self._state

    def set_env(self, env: Env) -> None:
        with self._lock:
            self.env = env

    @property
    def held(self) -> int:
        """Commands waiting for their quantised time."""
        return len(self._held)

    # --- draining ---------------------------------------------------------------------------
    def drain(self) -> State:
        """Fold everything queued (and every held command now due) into the state."""
        with self._lock:
            now = self.clock.now()
            ready: list[Envelope] = []
            for envelope in self.queue.drain():
                due = self.schedule(envelope, now) if self.schedule is not None else None
                if due is not None and due > now:
                    self._arrivals += 1
                    self._held.append((due, self._arrivals, envelope))
                else:
                    ready.append(envelope)
            if self._held:
                self._held.sort(key=lambda item: (item[0], item[1]))
                due_now = [item for item in self._held if item[0] <= now]
                self._held = [item for item in self._held if item[0] > now]
                ready = [item[2] for item in due_now] + ready
            if ready:
                self.stats.drains += 1
                self._state = fold(self._state, ready, self.env, self._applied, self._rejected)
            return self._state

    def next_due(self) -> float | None:
        """When the earliest held command is due (None when none is held)."""
        with self._lock:
            return min((item[0] for item in self._held), default=None)

    def _applied(self, envelope: Envelope, old: State, new: State) -> None:
        self.stats.applied += 1
        if log.isEnabledFor(logging.DEBUG):
            frame = self.frame_reached() if self.frame_reached is not None else -1
            log.debug("frame %d: applied %r from %s", frame, envelope.command,
                      envelope.origin or "?")
        self._state = new  # observers and replies may read dispatcher.state
        self._notify(old, new)
        if envelope.reply is not None:
            try:
                envelope.reply(new)
            except Exception as exc:  # a broken controller must not stop the show
                self._limiter.log("reply", f"reply to {envelope.origin}: {exc!r}",
                                  logging.WARNING)

    def _rejected(self, envelope: Envelope, exc: LivedreamError) -> None:
        self.stats.rejected += 1
        self._limiter.log(f"reject:{type(envelope.command).__name__}",
                          f"ignored {envelope.command!r} from {envelope.origin or '?'}: {exc}",
                          logging.WARNING)

    def _notify(self, old: State, new: State) -> None:
        for observer in self.observers:
            try:
                observer(old, new)
            except Exception as exc:  # an adapter's bug must not stop the show
                self._limiter.log("observer", f"state observer: {exc!r}", logging.WARNING)

    # --- the thread -------------------------------------------------------------------------
    def wake(self) -> None:
        """Ask the dispatcher thread for a drain (called by the queue on every put)."""
        self._wake.set()

    def start(self) -> None:
        """Drain on a thread of its own whenever a command arrives (or a held one is due)."""
        if self._thread is not None:
            return
        self.queue.on_put(self.wake)
        self._thread = threading.Thread(target=self._run, name="livedream-dispatch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self.next_due()
            timeout = 0.5 if due is None else max(0.0, min(0.5, due - self.clock.now()))
            self._wake.wait(timeout)
            if self._stop.is_set():
                break
            self._wake.clear()
            try:
                self.drain()
            except Exception as exc:  # never let the control path die
                self._limiter.log("dispatch", f"dispatcher: {exc!r}", logging.ERROR)
            self._stop.wait(self.min_interval)  # batch a flood: one echo per target per drain

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._limiter.flush()
