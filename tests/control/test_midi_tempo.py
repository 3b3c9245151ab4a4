"""MIDI notes mapped to tap tempo / resync, fed as bytes: every press is a fresh, stamped tap."""

from livedream.commands import ResyncTempo, TapTempo
from livedream.control.midi import MidiControl, MidiMap
from tests.control import PutLog

MAP = """
[[note]]
note = 36
command = "tempo/tap"

[[note]]
note = 37
command = "tempo/resync"
"""


def test_tap_and_resync_notes() -> None:
    log = PutLog()
    control = MidiControl(log, MidiMap.loads(MAP))
    control.feed(bytes([0x90, 36, 100, 0x80, 36, 0, 0x90, 36, 90, 0x90, 37, 127]))
    commands = log.take()
    taps = [c for c in commands if isinstance(c, TapTempo)]
    assert len(taps) == 2 and taps[1].at >= taps[0].at
    assert commands[-1] == ResyncTempo()
