"""Ableton Link as a tempo source (aalink, on its own thread with its own asyncio loop).

Joining must not change the session's tempo (Link test plan TEMPO-2). Enabling a Link object
right after creating it sometimes pushes its initial tempo onto the session (aalink issue #7,
Ableton/link issue #146), so the peer is enabled only after `JOIN_DELAY` seconds. Until then,
and while alone, livedream keeps its own tempo. The thread polls the session's tempo and beat
(with the quantum set to the bar, so livedream's bars line up with Live's) into the
`TempoClock`; tempo changes made in livedream (tap, OSC) are proposed to the session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from livedream.errors import LivedreamError
from livedream.tempo.clock import TempoClock

log = logging.getLogger(__name__)

#: seconds between creating the peer and enabling it (0.2 s was seen to fail, 0.5 s works)
JOIN_DELAY = 0.6
#: seconds between reads of the session (50 Hz: well under a frame of drift at any tempo)
POLL = 0.02


class LinkSource:
    """Joins the Link session on the local network and keeps `tempo` following it."""

    def __init__(self, tempo: TempoClock, join_delay: float = JOIN_DELAY, poll: float = POLL):
        try:
            import aalink  # noqa: F401 - fail here, clearly, not on the thread
        except ImportError as exc:
            raise LivedreamError(
                "--tempo link needs aalink: pip install 'livedream[tempo]' (aalink)"
            ) from exc
        self.tempo = tempo
        self.join_delay = float(join_delay)
        self.poll = float(poll)
        self.peers = 0
        self.enabled = threading.Event()  # set once the peer has joined the session
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: Any = None
        self._thread = threading.Thread(target=self._run, name="livedream-link", daemon=True)
        tempo.listeners.append(self.propose)

    def start(self) -> LinkSource:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._session())
        except Exception as exc:  # noqa: BLE001 - the show goes on with the last tempo
            log.error("Ableton Link stopped: %s", exc)

    async def _session(self) -> None:
        import aalink

        self._loop = asyncio.get_running_loop()
        link = aalink.Link(self.tempo.bpm)
        link.quantum = float(self.tempo.beats_per_bar)
        self._link = link
        await asyncio.sleep(self.join_delay)
        link.enabled = True
        self.enabled.set()
        log.info("Ableton Link enabled (quantum %d)", self.tempo.beats_per_bar)
        try:
            while not self._stop.is_set():
                self.peers = int(link.num_peers)
                self.tempo.follow(float(link.beat), float(link.tempo))
                await asyncio.sleep(self.poll)
        finally:
            link.enabled = False
            # Let the Link object die here, on its loop: destroyed later, at interpreter exit,
            # its threads can abort the process ("terminate called without an active exception").
            self._link = None
            del link

    def propose(self, bpm: float) -> None:
        """Ask the session to change tempo (called by TempoClock.set_bpm from any thread)."""
        loop, link = self._loop, self._link
        if loop is None or link is None or not self.enabled.is_set():
            return
        try:
            loop.call_soon_threadsafe(setattr, link, "tempo", float(bpm))
        except RuntimeError:  # the loop has closed: nothing to propose to
            pass

    def close(self) -> None:
        self._stop.set()
        if self.propose in self.tempo.listeners:
            self.tempo.listeners.remove(self.propose)
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
