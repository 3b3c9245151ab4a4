"""GifWriter: frame order (forward / reverse / pingpong), delay, ImageMagick loop semantics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livedream.errors import LivedreamError, ParamError
from livedream.record import GifWriter, gif_frame_duration_ms, play_order, probe_video
from tests.record.helpers import as_tensor, psnr, smooth_frame


def level_frame(level: int) -> np.ndarray:
    """A flat 24x32 frame whose grey level identifies it (palette-exact in a GIF)."""
    return np.full((24, 32, 3), level, dtype=np.uint8)


def read_gif(path: Path) -> tuple[list[int], list[int], dict]:
    """Grey level and duration of each frame as Pillow decodes them, plus the file's info."""
    levels, durations = [], []
    with Image.open(path) as image:
        info = dict(image.info)
        for index in range(image.n_frames):
            image.seek(index)
            pixels = np.asarray(image.convert("RGB"))
            assert (pixels == pixels[0, 0]).all()
            levels.append(int(pixels[0, 0, 0]))
            durations.append(image.info["duration"])
    return levels, durations, info


def netscape_loop_field(path: Path) -> int | None:
    """The 16-bit loop value of the NETSCAPE2.0 block, read from the raw bytes (None: no block)."""
    data = path.read_bytes()
    at = data.find(b"NETSCAPE2.0")
    if at < 0:
        return None
    assert data[at + 11 : at + 13] == b"\x03\x01"  # sub-block length 3, id 1
    return int.from_bytes(data[at + 13 : at + 15], "little")


def write_gif(path: Path, count: int, **options: object) -> list[int]:
    levels = [20 * (index + 1) for index in range(count)]
    with GifWriter(path, **options) as writer:  # type: ignore[arg-type]
        for level in levels:
            writer.write(level_frame(level))
    assert writer.frames_written == count
    return levels


@pytest.mark.parametrize(
    ("mode", "order"),
    [
        ("forward", [0, 1, 2, 3, 4]),
        ("reverse", [4, 3, 2, 1, 0]),
        ("pingpong", [0, 1, 2, 3, 4, 3, 2, 1]),
    ],
)
def test_frame_order_and_count(tmp_path: Path, mode: str, order: list[int]) -> None:
    path = tmp_path / f"{mode}.gif"
    levels = write_gif(path, 5, fps=25, mode=mode)
    read_levels, durations, _ = read_gif(path)
    assert read_levels == [levels[index] for index in order]
    assert durations == [40] * len(order)
    info = probe_video(path)  # FFmpeg's GIF decoder agrees
    assert (info.codec, info.frames, info.width, info.height) == ("gif", len(order), 32, 24)


def test_pingpong_has_2n_minus_2_frames_and_short_clips_work() -> None:
    for count in range(1, 8):
        order = play_order(count, "pingpong")
        assert len(order) == max(1, 2 * count - 2)
        assert order[:count] == list(range(count))
    assert play_order(2, "pingpong") == [0, 1]
    assert play_order(3, "reverse") == [2, 1, 0]


@pytest.mark.parametrize(
    ("fps", "ms"), [(30, 30), (25, 40), (10, 100), (12, 80), (1, 1000), (200, 10)]
)
def test_duration_rounds_to_centiseconds(fps: float, ms: int) -> None:
    assert gif_frame_duration_ms(fps) == ms


def test_written_duration_matches(tmp_path: Path) -> None:
    path = tmp_path / "d.gif"
    write_gif(path, 3, fps=12)
    assert read_gif(path)[1] == [80, 80, 80]


@pytest.mark.parametrize(("loop", "field"), [(0, 0), (1, None), (2, 1), (5, 4)])
def test_loop_matches_imagemagick(tmp_path: Path, loop: int, field: int | None) -> None:
    """ImageMagick 7 `-loop N`: 0 forever, 1 no block (play once), N >= 2 writes N - 1."""
    path = tmp_path / f"loop{loop}.gif"
    write_gif(path, 3, loop=loop)
    assert netscape_loop_field(path) == field
    info = read_gif(path)[2]
    assert info.get("loop") == field  # Pillow reports the raw field, absent without a block


def test_tensor_input_and_caller_buffer_reuse(tmp_path: Path) -> None:
    path = tmp_path / "t.gif"
    buffer = level_frame(50)
    with GifWriter(path, fps=10) as writer:
        writer.write(as_tensor(level_frame(200)))
        writer.write(buffer)
        buffer[:] = 90  # the writer kept its own copy of the frame
        writer.write(buffer)
    assert read_gif(path)[0] == [200, 50, 90]


def test_guards_and_errors(tmp_path: Path) -> None:
    with pytest.raises(ParamError, match="forward, reverse, pingpong"):
        GifWriter(tmp_path / "x.gif", mode="bounce")  # type: ignore[arg-type]
    with pytest.raises(ParamError, match="loop"):
        GifWriter(tmp_path / "x.gif", loop=-1)
    with pytest.raises(LivedreamError, match="does not exist"):
        GifWriter(tmp_path / "nowhere" / "x.gif")
    writer = GifWriter(tmp_path / "x.gif", max_frames=2)
    writer.write(level_frame(1))
    with pytest.raises(LivedreamError, match="size changed from 32x24 to 24x24"):
        writer.write(np.zeros((24, 24, 3), np.uint8))
    writer.write(level_frame(2))
    with pytest.raises(LivedreamError, match="max_frames=2"):
        writer.write(level_frame(3))
    writer.close()
    assert read_gif(tmp_path / "x.gif")[0] == [1, 2]


def test_close_without_frames_writes_nothing(tmp_path: Path) -> None:
    GifWriter(tmp_path / "empty.gif").close()
    assert not (tmp_path / "empty.gif").exists()


def index_frame(index: int) -> np.ndarray:
    """A flat 24x32 frame whose colour encodes `index` (red = low byte, green = high byte)."""
    frame = np.zeros((24, 32, 3), dtype=np.uint8)
    frame[..., 0], frame[..., 1] = index % 256, index // 256
    return frame


@pytest.mark.parametrize("mode", ["forward", "pingpong"])
def test_long_gif_holds_no_frames_in_memory(tmp_path: Path, mode: str) -> None:
    """1,001 frames (over the old 1,000 cap): Python-held memory after the last frame is what it
    was after 100 (frames are encoded and streamed, or spooled to an unlinked file)."""
    import tracemalloc

    count = 1001
    path = tmp_path / "long.gif"
    tracemalloc.start()
    try:
        with GifWriter(path, fps=25, mode=mode) as writer:  # type: ignore[arg-type]
            for index in range(count):
                writer.write(index_frame(index))
                if index == 99:
                    held_at_100 = tracemalloc.get_traced_memory()[0]
            held_at_end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # The old writer kept a 2.3 KB copy per frame: 2 MB more here. The spool keeps 8 bytes.
    assert held_at_end - held_at_100 < 64 * 1024, held_at_end - held_at_100
    assert [p.name for p in tmp_path.iterdir()] == ["long.gif"]  # the spool leaves nothing
    assert read_gif_indices(path) == play_order(count, mode)


def test_forward_gif_is_written_while_recording(tmp_path: Path) -> None:
    """A forward GIF streams to its file: frames are on disk before close (a crash keeps them)."""
    path = tmp_path / "live.gif"
    writer = GifWriter(path, fps=10)
    assert not path.exists()  # nothing until the first frame
    sizes = []
    for index in range(6):
        writer.write(index_frame(index))
        sizes.append(path.stat().st_size)
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
    with Image.open(path) as image:  # no trailer yet; the frames written so far decode
        assert image.n_frames >= 5
    writer.close()
    assert read_gif_indices(path) == list(range(6))


def read_gif_indices(path: Path) -> list[int]:
    with Image.open(path) as image:
        indices = []
        for index in range(image.n_frames):
            image.seek(index)
            red, green, _ = image.convert("RGB").getpixel((0, 0))
            indices.append(red + 256 * green)
    return indices


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_identical_neighbours_merge_into_a_longer_frame(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"{mode}.gif"
    with GifWriter(path, fps=10, mode=mode) as writer:  # type: ignore[arg-type]
        for level in (10, 10, 10, 20, 30, 30):
            writer.write(level_frame(level))
    assert writer.frames_written == 6
    levels, durations, _ = read_gif(path)
    if mode == "forward":
        assert (levels, durations) == ([10, 20, 30], [300, 100, 200])
    else:
        assert (levels, durations) == ([30, 20, 10], [200, 100, 300])


def test_detailed_frames_keep_their_colours(tmp_path: Path) -> None:
    """A many-colour frame: the sampled palette is within 1 dB of Pillow's full-frame median
    cut (what `Image.save(format="GIF")` does), and far better than a 6x6x6 web palette."""
    rng = np.random.default_rng(3)
    frame = smooth_frame(90, 160)
    frame = np.clip(frame + rng.normal(0, 6, frame.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "detail.gif"
    with GifWriter(path) as writer:
        writer.write(frame)
    with Image.open(path) as image:
        decoded = np.asarray(image.convert("RGB"))
    source = Image.fromarray(frame)
    pillow = np.asarray(source.convert("P", palette=Image.Palette.ADAPTIVE).convert("RGB"))
    web = np.asarray(source.convert("P", palette=Image.Palette.WEB).convert("RGB"))
    assert psnr(frame, decoded) > psnr(frame, pillow) - 1.0
    assert psnr(frame, decoded) > psnr(frame, web) + 3.0


def test_live_gif_recording_streams_through_the_threaded_recorder(tmp_path: Path) -> None:
    """`livedream run --record x.gif`'s path (open_recorder + ThreadedRecorder): the frames reach
    the file while the set goes on, so a long set is never held in RAM."""
    import time

    from livedream.record import ThreadedRecorder, open_recorder

    path = tmp_path / "set.gif"
    recorder = ThreadedRecorder(open_recorder(path, 30.0), max_queue=32)
    for index in range(20):
        recorder.write(index_frame(index))
        time.sleep(0.002)
    deadline = time.monotonic() + 20
    while recorder.frames_written + recorder.dropped < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    written = recorder.frames_written
    assert written >= 2
    # On disk before close: every frame but the last (held back in case the next repeats it).
    on_disk = read_gif_indices(path)
    assert len(on_disk) == written - 1 and on_disk == sorted(set(on_disk))
    recorder.close()
    assert recorder.error is None
    assert len(read_gif_indices(path)) == written
