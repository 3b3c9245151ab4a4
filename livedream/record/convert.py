"""Frame conversion for recording: the single device->host readback point of the pipeline."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from livedream.errors import LivedreamError


def quantise_hwc(frame: torch.Tensor) -> torch.Tensor:
    """The pipeline's one quantisation: a float RGB [1,3,H,W] or [3,H,W] frame in [0, 1] as uint8
    HWC (NaN -> 0, clamped, rounded), still on its own device (displays, recorders, the output
    stream all read frames back through it)."""
    if frame.dim() == 4:
        if frame.shape[0] != 1:
            raise LivedreamError(
                f"recorder takes one frame at a time; got a batch of {frame.shape[0]} "
                f"(shape {tuple(frame.shape)}); valid shapes: [1,3,H,W] or [3,H,W]"
            )
        frame = frame[0]
    if frame.dim() != 3 or frame.shape[0] != 3:
        raise LivedreamError(
            f"recorder frame has shape {tuple(frame.shape)}; valid shapes: [1,3,H,W] or [3,H,W] RGB"
        )
    if not frame.is_floating_point():
        raise LivedreamError(
            f"recorder tensor frame has dtype {frame.dtype}; valid: a float dtype, RGB in [0, 1]"
        )
    # nan_to_num first: clamp keeps NaN, and a NaN cast to uint8 is undefined.
    # One new float buffer, worked in place, then one copy that casts and reorders to HWC.
    scaled = torch.nan_to_num(frame.detach().float(), nan=0.0)
    scaled.clamp_(0.0, 1.0).mul_(255.0).round_()
    out = torch.empty((frame.shape[1], frame.shape[2], 3), dtype=torch.uint8, device=frame.device)
    return out.copy_(scaled.permute(1, 2, 0))


def to_uint8_hwc(frame: Any) -> np.ndarray:
    """Return `frame` as a C-contiguous uint8 HxWx3 RGB numpy array.

    Accepts a float tensor [1,3,H,W] / [3,H,W] in [0, 1] on any device (clamped, scaled by 255,
    rounded, then copied to the host once: the single readback point) or a uint8 HxWx3 array
    (returned as is, not copied: sinks that keep frames copy them themselves).
    """
    if isinstance(frame, torch.Tensor):
        return quantise_hwc(frame).cpu().numpy()
    if isinstance(frame, np.ndarray):
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise LivedreamError(
                f"recorder numpy frame has dtype {frame.dtype} and shape {frame.shape}; "
                "valid: uint8 HxWx3 RGB (or a float torch tensor [1,3,H,W] in [0, 1])"
            )
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise LivedreamError(f"recorder frame is empty (shape {frame.shape})")
        return np.ascontiguousarray(frame)
    raise LivedreamError(
        f"recorder frame of type {type(frame).__name__}; valid: torch.Tensor [1,3,H,W] / [3,H,W] "
        "float RGB in [0, 1], or numpy uint8 HxWx3"
    )


class PinnedReadback:
    """Reads CUDA frames back through a small pool of pinned host buffers with async copies.

    `acquire(frame)` quantises on the GPU, starts a non-blocking copy into a free pinned buffer and
    returns a handle; `wait(handle)` (typically in another thread) blocks until the copy landed and
    gives the numpy view; `release(handle)` returns the buffer to the pool. When every buffer is in
    use `acquire` returns None instead of blocking, so the render loop never waits on the recorder.
    """

    def __init__(self, buffers: int) -> None:
        self._capacity = max(1, buffers)
        self._free: list[torch.Tensor] = []
        self._shape: tuple[int, ...] | None = None
        self._outstanding = 0
        self._lock = threading.Lock()  # acquire runs in the render thread, release in the writer

    def acquire(self, frame: torch.Tensor) -> tuple[torch.Tensor, Any] | None:
        """Start the async readback of a CUDA `frame`; None when all pinned buffers are busy."""
        device_u8 = quantise_hwc(frame)
        shape = tuple(device_u8.shape)
        with self._lock:
            if shape != self._shape:  # new size: drop old-size buffers (in-flight ones age out)
                self._free, self._shape = [], shape
            if self._free:
                host = self._free.pop()
            elif self._outstanding < self._capacity:
                host = None
            else:
                return None
            self._outstanding += 1
        if host is None:
            host = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        host.copy_(device_u8, non_blocking=True)
        event = torch.cuda.Event()
        event.record(torch.cuda.current_stream(device_u8.device))
        return host, event

    @staticmethod
    def wait(handle: tuple[torch.Tensor, Any]) -> np.ndarray:
        """Block until the copy for `handle` is complete and return the host pixels (no copy)."""
        host, event = handle
        event.synchronize()
        return host.numpy()

    def release(self, handle: tuple[torch.Tensor, Any]) -> None:
        """Give the buffer of `handle` back to the pool (call after the sink consumed it)."""
        host, _ = handle
        with self._lock:
            self._outstanding -= 1
            if tuple(host.shape) == self._shape:
                self._free.append(host)
