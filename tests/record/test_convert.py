"""Frame conversion: float tensors in [0, 1] to uint8 HWC, numpy passthrough, clear errors."""

import numpy as np
import pytest
import torch

from livedream.errors import LivedreamError
from livedream.record import to_uint8_hwc


def test_tensor_matches_numpy_oracle_for_both_shapes() -> None:
    generator = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, 5, 7, generator=generator) * 1.4 - 0.2  # spills outside [0, 1]
    expected = np.round(np.clip(frame[0].numpy(), 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    for candidate in (frame, frame[0]):
        out = to_uint8_hwc(candidate)
        assert out.dtype == np.uint8 and out.shape == (5, 7, 3) and out.flags.c_contiguous
        np.testing.assert_array_equal(out, expected)


def test_rounding_and_nan_handling() -> None:
    frame = torch.tensor([0.0, 1.0 / 255 * 0.49, 1.0 / 255 * 0.51, 1.0, float("nan"), 7.0])
    frame = frame.view(1, 1, 6).expand(3, 1, 6)
    np.testing.assert_array_equal(to_uint8_hwc(frame)[0, :, 0], [0, 0, 1, 255, 0, 255])


def test_numpy_uint8_passes_through_unchanged() -> None:
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    np.testing.assert_array_equal(to_uint8_hwc(pixels), pixels)


@pytest.mark.parametrize(
    "bad",
    [
        torch.zeros(2, 3, 4, 4),
        torch.zeros(1, 4, 4, 4),
        torch.zeros(4, 4),
        torch.zeros(1, 3, 4, 4, dtype=torch.uint8),
        np.zeros((4, 4, 3), dtype=np.float32),
        np.zeros((4, 4), dtype=np.uint8),
        np.zeros((0, 4, 3), dtype=np.uint8),
        [[0, 0, 0]],
    ],
)
def test_bad_frames_raise_clear_errors(bad: object) -> None:
    with pytest.raises(LivedreamError, match="valid|empty"):
        to_uint8_hwc(bad)


# --- the CUDA pinned readback, its pool logic exercised on the CPU with a fake CUDA event -------
class _FakeEvent:
    def __init__(self) -> None:
        self.recorded = self.synchronized = False

    def record(self, stream: object = None) -> None:
        self.recorded = True

    def synchronize(self) -> None:
        assert self.recorded, "waited on an event that was never recorded"
        self.synchronized = True


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    real_empty = torch.empty
    monkeypatch.setattr(torch, "empty", lambda *a, pin_memory=False, **k: real_empty(*a, **k))
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: None)


def test_pinned_readback_pool_never_blocks_and_reuses_buffers(fake_cuda: None) -> None:
    from livedream.record import PinnedReadback

    gen = torch.Generator().manual_seed(1)
    frames = [torch.rand(1, 3, 4, 6, generator=gen) for _ in range(3)]
    pool = PinnedReadback(2)
    first, second = pool.acquire(frames[0]), pool.acquire(frames[1])
    assert first is not None and second is not None
    assert pool.acquire(frames[2]) is None  # pool exhausted: drop, do not wait
    np.testing.assert_array_equal(PinnedReadback.wait(first), to_uint8_hwc(frames[0]))
    assert first[1].synchronized
    pool.release(first)
    third = pool.acquire(frames[2])
    assert third is not None and third[0].data_ptr() == first[0].data_ptr()  # reused
    np.testing.assert_array_equal(PinnedReadback.wait(third), to_uint8_hwc(frames[2]))
    # a new frame size: old-size buffers are not handed out again once released
    pool.release(second)
    pool.release(third)
    bigger = pool.acquire(torch.rand(1, 3, 8, 6, generator=gen))
    assert bigger is not None and tuple(bigger[0].shape) == (8, 6, 3)
    assert bigger[0].data_ptr() not in (first[0].data_ptr(), second[0].data_ptr())
