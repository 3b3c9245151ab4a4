"""The numpy-only unpickler: round-trips numpy pickles, refuses anything that would run code."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from livedream.errors import ModelFormatError
from livedream.models.safe_pickle import load_numpy_pickle, loads_numpy_pickle


def _sample() -> dict:
    rng = np.random.default_rng(0)
    return {
        "VGG16_0": {"Conv_0": {"kernel": rng.standard_normal((3, 3, 3, 4)).astype(np.float32),
                               "bias": np.arange(4, dtype=np.float32)}},
        "ints": [np.arange(6, dtype=np.int64).reshape(2, 3), np.asfortranarray(np.eye(3))],
        "scalar": np.float32(2.5),
        "zero_d": np.array(7, dtype=np.uint8),
        "text": "ok",
    }


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_round_trips_numpy_dicts_at_every_protocol(protocol: int) -> None:
    original = _sample()
    loaded = loads_numpy_pickle(pickle.dumps(original, protocol=protocol))
    kernel = original["VGG16_0"]["Conv_0"]["kernel"]
    np.testing.assert_array_equal(loaded["VGG16_0"]["Conv_0"]["kernel"], kernel)
    assert loaded["VGG16_0"]["Conv_0"]["kernel"].dtype == np.float32
    np.testing.assert_array_equal(loaded["VGG16_0"]["Conv_0"]["bias"], np.arange(4))
    np.testing.assert_array_equal(loaded["ints"][0], original["ints"][0])
    np.testing.assert_array_equal(loaded["ints"][1], np.eye(3))
    assert loaded["scalar"] == np.float32(2.5)
    assert loaded["zero_d"] == 7 and loaded["text"] == "ok"


class _RunsShell:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (os.system, (f"touch {self.marker}",))


class _Evals:
    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("protocol", [2, 4])
def test_refuses_os_system_without_running_it(tmp_path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"VGG16_0": _RunsShell(str(marker))}, protocol=protocol)
    assert not marker.exists()
    with pytest.raises(ModelFormatError, match=r"system") as info:
        loads_numpy_pickle(payload, "evil.ckpt")
    assert "evil.ckpt" in str(info.value)
    assert not marker.exists()
    # Sanity: the payload really is live, so the refusal above is meaningful.
    pickle.loads(payload)
    assert marker.exists()


def test_refuses_builtins_and_other_numpy_functions() -> None:
    with pytest.raises(ModelFormatError, match=r"builtins\.eval"):
        loads_numpy_pickle(pickle.dumps(_Evals()))
    # numpy.load is numpy, but not array reconstruction: refused too.
    payload = b"cnumpy\nload\n(S'x.npy'\ntR."
    with pytest.raises(ModelFormatError, match=r"numpy\.load"):
        loads_numpy_pickle(payload)


def test_truncated_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "weights.ckpt"
    data = pickle.dumps(_sample(), protocol=3)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError, match="truncated or corrupt") as info:
        load_numpy_pickle(path)
    assert str(path) in str(info.value)


def test_garbage_and_missing_files(tmp_path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ModelFormatError, match="garbage.ckpt"):
        load_numpy_pickle(garbage)
    with pytest.raises(ModelFormatError, match="cannot read"):
        load_numpy_pickle(tmp_path / "absent.ckpt")
