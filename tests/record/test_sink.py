"""Every writer livedream records to is a `FrameSink`: the protocol render and the live loop use,
with `frames_written` and `dropped` on every sink (no getattr defaults needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livedream.record import FrameSink, ThreadedRecorder, open_recorder
from tests.record.helpers import smooth_frame


@pytest.mark.parametrize("name", ["a.mp4", "a.gif", "pngs"])
def test_every_writer_is_a_frame_sink_that_counts(tmp_path: Path, name: str) -> None:
    with open_recorder(tmp_path / name, 10) as sink:
        assert isinstance(sink, FrameSink)
        assert (sink.frames_written, sink.dropped) == (0, 0)
        sink.write(smooth_frame(16, 16))
        sink.write(smooth_frame(16, 16), at=1.0)
        assert (sink.frames_written, sink.dropped) == (2, 0)


def test_threaded_recorder_is_a_frame_sink_and_counts_drops(tmp_path: Path) -> None:
    recorder = ThreadedRecorder(open_recorder(tmp_path / "pngs"), max_queue=1)
    assert isinstance(recorder, FrameSink)
    recorder.write(smooth_frame(16, 16))
    recorder.close()
    recorder.write(smooth_frame(16, 16))  # after close: dropped and counted, never raised
    assert (recorder.frames_written, recorder.dropped) == (1, 1)


def test_an_object_without_the_counters_is_not_a_sink() -> None:
    class WriteOnly:
        def write(self, frame: object, at: float | None = None) -> None: ...

        def close(self) -> None: ...

    assert not isinstance(WriteOnly(), FrameSink)
