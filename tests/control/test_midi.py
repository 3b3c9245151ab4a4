"""MIDI adapter: map and its errors, CC scaling, note triggers, raw bytes, learn, echo, ports."""

from __future__ import annotations

import logging
from pathlib import Path

import mido
import pytest
from mido.ports import BaseOutput

from livedream.commands import (
    LearnMidi,
    Reset,
    SetFlag,
    SetParam,
    StepLayer,
    StepPreset,
    ToggleTransform,
)
from livedream.control.midi import (
    CcBinding,
    MidiControl,
    MidiMap,
    MidiMapError,
    NoteBinding,
    open_midi,
)
from livedream.errors import LivedreamError, UnknownNameError
from livedream.look import DREAM_PARAMS
from livedream.transforms import get_transform
from tests.control import PutLog, initial_state, run_frame

EXAMPLE = Path(__file__).resolve().parents[2] / "controllers" / "midi-map.toml"


class Recorder(BaseOutput):
    """A mido output port that keeps what was sent (stands in for a controller's LED rings)."""

    def __init__(self) -> None:
        super().__init__("recorder")
        self.sent: list[mido.Message] = []

    def _send(self, msg: mido.Message) -> None:
        self.sent.append(msg)


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def note(number: int, velocity: int = 100, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", channel=channel, note=number, velocity=velocity)


def commands(queue: PutLog) -> list:
    """Every command the adapter put, in order (the queue itself coalesces values)."""
    return queue.take()


def control_for(text: str, output=None) -> tuple[MidiControl, PutLog]:
    queue = PutLog()
    return MidiControl(queue, MidiMap.loads(text, "test.toml"), output=output), queue


# --- the map --------------------------------------------------------------------------------
def test_example_map_loads():
    midi_map = MidiMap.load(EXAMPLE)
    assert len(midi_map.cc) == 9 and len(midi_map.notes) == 9
    assert midi_map.cc[0] == CcBinding(16, "step_size", 1, 0.2, 8.0, "log")
    assert midi_map.cc[1] == CcBinding(17, "iterations", 1, 1, 4)
    assert NoteBinding(40, "toggle", None, "sobel") in midi_map.notes


BAD_MAPS = [
    ("[[knob]]\ncontrol = 1\n", "unknown key 'knob'"),
    ("cc = 3\n", "cc must be an array of tables"),
    ("[[cc]]\ncontrol = 1\n", "cc[0]: missing key 'param'"),
    ("[[cc]]\ncontrol = 1\nparam = 'jitter'\nknob = 2\n", "cc[0]: unknown key 'knob'"),
    ("[[cc]]\ncontrol = 128\nparam = 'jitter'\n", "cc[0].control: expected an integer in 0..127"),
    ("[[cc]]\ncontrol = 1.5\nparam = 'jitter'\n", "cc[0].control"),
    ("[[cc]]\nchannel = 0\ncontrol = 1\nparam = 'jitter'\n", "cc[0].channel: expected an integer "
                                                             "in 1..16"),
    ("[[cc]]\nchannel = 17\ncontrol = 1\nparam = 'jitter'\n", "cc[0].channel"),
    ("[[cc]]\ncontrol = 1\nparam = 'warp'\n", "cc[0].param: unknown parameter 'warp'"),
    ("[[cc]]\ncontrol = 1\nparam = 'nope.scale'\n", "cc[0].param: unknown transform 'nope'"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.sigma'\n", "cc[0].param: unknown parameter of transform"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.scale'\nmin = -2.0\nmax = 0.1\n",
     "cc[0].min: -2.0 outside allowed range"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.scale'\nmin = 0.0\n", "cc[0]: give both min and max"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.scale'\nmin = 0.0\nmax = 'big'\n", "cc[0].max"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.scale'\nmin = nan\nmax = 0.1\n", "cc[0].min: expected "
                                                                          "a finite number"),
    ("[[cc]]\ncontrol = 1\nparam = 'zoom.scale'\nmin = -0.1\nmax = 0.1\ncurve = 'log'\n",
     "cc[0].curve: 'log' needs min and max > 0"),
    ("[[cc]]\ncontrol = 1\nparam = 'jitter'\ncurve = 'cubic'\n", "cc[0].curve: expected one of"),
    ("[[cc]]\ncontrol = 1\nparam = 'sobel.mode'\nmin = 0\nmax = 1\n", "only apply to numeric"),
    ("[[cc]]\ncontrol = 1\nparam = 'iterations'\nmin = 1.5\nmax = 4\n", "expected an integer"),
    ("[[note]]\nnote = 36\n", "note[0]: missing key 'command'"),
    ("[[note]]\nnote = 36\ncommand = 'explode'\n", "note[0].command: expected one of"),
    ("[[note]]\nnote = 36\ncommand = 'toggle'\n", "note[0].transform: command 'toggle' needs"),
    ("[[note]]\nnote = 36\ncommand = 'toggle'\ntransform = 'warp'\n",
     "note[0].transform: unknown transform 'warp'"),
    ("[[note]]\nnote = 36\ncommand = 'pause'\ntransform = 'zoom'\n", "note[0].transform: not used"),
    ("[[note]]\nnote = -1\ncommand = 'pause'\n", "note[0].note"),
    ("[[cc]\ncontrol = 1\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "words"), BAD_MAPS)
def test_bad_map_names_file_and_key(tmp_path, text, words):
    path = tmp_path / "bad-map.toml"
    path.write_text(text)
    with pytest.raises(MidiMapError) as info:
        MidiMap.load(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_unreadable_map_is_a_clear_error(tmp_path):
    with pytest.raises(MidiMapError, match="cannot read MIDI map"):
        MidiMap.load(tmp_path / "missing.toml")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(MidiMapError, match="binary.toml"):
        MidiMap.load(tmp_path / "binary.toml")


# --- CC scaling -----------------------------------------------------------------------------
def test_cc_scales_min_to_max():
    control, queue = control_for(
        "[[cc]]\nchannel = 1\ncontrol = 7\nparam = 'zoom.scale'\nmin = -0.1\nmax = 0.3\n")
    for value in (0, 127, 64):
        control.handle(cc(7, value))
    got = [c.value for c in commands(queue)]
    assert got == pytest.approx([-0.1, 0.3, -0.1 + 0.4 * 64 / 127])
    state, applied, errors = run_frame_values(control, 127)
    assert errors == [] and state.look.chain[0].params["scale"] == pytest.approx(0.3)


def run_frame_values(control: MidiControl, value: int, number: int = 7):
    control.handle(cc(number, value))
    return run_frame(control.queue, initial_state())


def test_cc_without_range_uses_whole_param_range():
    control, queue = control_for("[[cc]]\ncontrol = 7\nparam = 'step_size'\n")
    spec = DREAM_PARAMS["step_size"]
    state, _, errors = run_frame_values(control, 0)
    assert state.look.dream.step_size == spec.lo
    state, _, errors = run_frame_values(control, 127)
    assert state.look.dream.step_size == spec.hi


def test_cc_int_param_rounds_and_log_curve():
    control, queue = control_for(
        "[[cc]]\ncontrol = 1\nparam = 'iterations'\nmin = 1\nmax = 4\n"
        "[[cc]]\ncontrol = 2\nparam = 'blur.sigma'\nmin = 0.5\nmax = 8.0\ncurve = 'log'\n"
        "[[cc]]\ncontrol = 3\nparam = 'jitter'\ncurve = 'square'\n")
    for value in (0, 40, 127):
        control.handle(cc(1, value))
        control.handle(cc(2, value))
        control.handle(cc(3, value))
    got = commands(queue)
    assert [c.value for c in got[0::3]] == [1, round(1 + 3 * 40 / 127), 4]
    assert all(isinstance(c.value, int) for c in got[0::3])
    assert [c.value for c in got[1::3]] == pytest.approx(
        [0.5 * 16 ** (v / 127) for v in (0, 40, 127)])
    assert [c.value for c in got[2::3]] == pytest.approx([(v / 127) ** 2 for v in (0, 40, 127)])
    assert all(c.normalized for c in got[2::3])


def test_cc_channel_filter_and_unmapped(caplog):
    control, queue = control_for("[[cc]]\nchannel = 2\ncontrol = 7\nparam = 'jitter'\n")
    with caplog.at_level(logging.DEBUG, "livedream.midi"):
        control.handle(cc(7, 10, channel=0))  # channel 1: not bound
        control.handle(cc(8, 10, channel=1))  # other control
        control.handle(cc(7, 127, channel=1))  # channel 2 (mido counts from 0)
    assert commands(queue) == [SetParam("jitter", 1.0, normalized=True)]
    assert control.log.total["unmapped control"] == 2


# --- notes ----------------------------------------------------------------------------------
NOTES = """
[[note]]
note = 36
command = "preset/next"
[[note]]
note = 37
command = "layer/prev"
[[note]]
note = 38
command = "toggle"
transform = "sobel"
[[note]]
note = 39
channel = 10
command = "pause"
[[note]]
note = 40
command = "reset"
"""


def test_notes_trigger_commands():
    control, queue = control_for(NOTES)
    control.handle(note(36))
    control.handle(note(36, velocity=0))  # note-on with velocity 0 is a note-off
    control.handle(mido.Message("note_off", note=37))
    control.handle(note(37))
    control.handle(note(38))
    control.handle(note(39, channel=0))  # wrong channel
    control.handle(note(39, channel=9))
    control.handle(note(40))
    control.handle(note(41))
    assert commands(queue) == [StepPreset(1), StepLayer(-1), ToggleTransform("sobel"),
                               SetFlag("paused"), Reset()]


def test_note_echo_lights_pads():
    port = Recorder()
    control, queue = control_for(NOTES, output=port)
    control.handle(note(38))
    control.handle(note(39, channel=9))
    control.handle(note(36))
    state, applied, errors = run_frame(queue, initial_state())
    assert errors == [] and state.paused
    assert port.sent == [mido.Message("note_on", note=38, velocity=0),  # sobel now disabled
                         mido.Message("note_on", channel=9, note=39, velocity=127)]


# --- raw bytes ------------------------------------------------------------------------------
def test_feed_running_status_sysex_and_realtime():
    control, queue = control_for("[[cc]]\ncontrol = 7\nparam = 'zoom.scale'\nmin = -0.1\n"
                                 "max = 0.3\n[[note]]\nnote = 36\ncommand = 'reset'\n")
    data = bytes([0xB0, 7, 0,      # CC 7 = 0
                  7, 127,          # running status: CC 7 = 127
                  0xF8,            # clock inside the stream
                  7, 64,           # still running status
                  0xF0, 1, 2, 3, 0xF7,  # sysex cancels running status
                  7, 10,           # stray data bytes: ignored
                  0x90, 36])       # note-on split across two feeds
    control.feed(data)
    control.feed(bytes([100, 36, 0]))  # completes the note, then running status: velocity 0
    got = commands(queue)
    assert [c.value for c in got[:3]] == pytest.approx([-0.1, 0.3, -0.1 + 0.4 * 64 / 127])
    assert got[3:] == [Reset()]


def test_feed_garbage_never_raises():
    control, queue = control_for(NOTES)
    control.feed(bytes(range(256)) * 4)
    control.feed(b"")
    control.feed(bytearray([0xF0] * 100 + [0x99]))
    _, _, errors = run_frame(queue, initial_state())
    assert all(isinstance(e, LivedreamError) for e in errors)


# --- echo -----------------------------------------------------------------------------------
def test_cc_echo_reports_resulting_value():
    port = Recorder()
    control, queue = control_for(
        "[[cc]]\nchannel = 3\ncontrol = 7\nparam = 'zoom.scale'\nmin = -0.1\nmax = 0.3\n"
        "[[cc]]\ncontrol = 8\nparam = 'step_size'\n", output=port)
    control.handle(cc(7, 100, channel=2))
    control.handle(cc(8, 33))
    state, applied, errors = run_frame(queue, initial_state())
    assert errors == [] and port.sent == [cc(7, 100, channel=2), cc(8, 33)]
    # A rejected command (unknown parameter in this chain) is not echoed.
    control.map.cc.append(CcBinding(9, "rotate.degrees"))
    control.handle(cc(9, 64))
    _, _, errors = run_frame(queue, initial_state())
    assert len(errors) == 1 and len(port.sent) == 2


def test_sync_and_broken_output(caplog):
    class Broken(BaseOutput):
        def _send(self, msg):
            raise OSError("device unplugged")

    port = Recorder()
    control, queue = control_for("[[cc]]\ncontrol = 8\nparam = 'step_size'\n" + NOTES,
                                 output=port)
    control.sync(initial_state())
    spec = DREAM_PARAMS["step_size"]
    assert port.sent[0] == cc(8, round(spec.to_normalized(spec.default) * 127))
    assert mido.Message("note_on", note=38, velocity=127) in port.sent  # sobel enabled
    control.output = Broken()
    control.handle(cc(8, 5))
    with caplog.at_level(logging.WARNING, "livedream.midi"):
        state, applied, errors = run_frame(queue, initial_state())
    assert applied and control.log.total["echo failed"] == 1 and "unplugged" in caplog.text


# --- learn ----------------------------------------------------------------------------------
def test_learn_save_reload_round_trip(tmp_path):
    control, queue = control_for(NOTES + "[[cc]]\nchannel = 3\ncontrol = 74\nparam = 'jitter'\n")
    control.arm("rotate.degrees", min=-20.0, max=20.0)
    assert control.armed == "rotate.degrees"
    control.handle(cc(74, 127, channel=2))  # replaces the old binding of that knob
    assert control.armed is None
    control.arm("step_size")
    control.feed(bytes([0xB4, 10, 0]))  # channel 5, CC 10 = 0
    # each learned knob also disarms the show's learn state (LearnMidi(None)), then applies
    assert commands(queue) == [LearnMidi(None), SetParam("rotate.degrees", 20.0),
                               LearnMidi(None), SetParam("step_size", 0.0, normalized=True)]
    path = tmp_path / "learned.toml"
    control.save(path)
    reloaded = MidiMap.load(path)
    assert reloaded == control.map
    assert reloaded.cc == [CcBinding(74, "rotate.degrees", 3, -20.0, 20.0),
                           CcBinding(10, "step_size", 5)]
    again = MidiControl(PutLog(), reloaded)
    for message in (cc(74, 64, channel=2), cc(10, 127, channel=4), note(38)):
        control.handle(message)
        again.handle(message)
    assert commands(again.queue) == commands(queue)


def test_arm_unknown_param_is_refused():
    control, _ = control_for("")
    with pytest.raises(MidiMapError, match="unknown parameter 'warp'"):
        control.arm("warp")
    assert control.armed is None


def test_save_round_trips_odd_names(tmp_path):
    midi_map = MidiMap([], [NoteBinding(1, "preset", 16, None, 'my "best"\\preset\tä')])
    midi_map.save(tmp_path / "m.toml")
    assert MidiMap.load(tmp_path / "m.toml") == midi_map


# --- ports ----------------------------------------------------------------------------------
def test_open_midi_errors_list_ports(monkeypatch):
    opened = []
    monkeypatch.setattr(mido, "get_input_names", lambda: [])
    with pytest.raises(LivedreamError, match="no MIDI input ports found"):
        open_midi("nanoKONTROL2")
    names = ["Launch Control XL:Launch Control XL MIDI 1 20:0", "Midi Through:Midi Through 14:0"]
    monkeypatch.setattr(mido, "get_input_names", lambda: names)
    monkeypatch.setattr(mido, "open_input", lambda name, callback=None: opened.append(name) or name)
    with pytest.raises(UnknownNameError) as info:
        open_midi("nanoKONTROL2")
    assert "nanoKONTROL2" in str(info.value) and all(n in str(info.value) for n in names)
    with pytest.raises(UnknownNameError, match="0: Launch"):
        open_midi(5)
    assert open_midi("Launch") == names[0]
    assert open_midi(1) == names[1] and open_midi("1") == names[1]
    assert open_midi(names[1]) == names[1]
    with pytest.raises(UnknownNameError):
        open_midi(":")  # in both names: ambiguous

    def no_backend():
        raise OSError("ALSA lib: cannot open /dev/snd/seq")

    monkeypatch.setattr(mido, "get_output_names", no_backend)
    with pytest.raises(LivedreamError, match="MIDI is unavailable.*dev/snd/seq"):
        open_midi("x", output=True)


def test_transform_names_in_example_exist():
    for binding in MidiMap.load(EXAMPLE).notes:
        if binding.transform:
            get_transform(binding.transform)
