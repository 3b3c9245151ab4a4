"""`--virtual-cam`: the output stream as a webcam for Zoom, OBS, Teams... via pyvirtualcam.

pyvirtualcam needs a camera driver: v4l2loopback on Linux (`modprobe v4l2loopback`), OBS's
virtual camera on Windows and macOS. It is an optional extra (`pip install
'livedream[virtualcam]'`); a missing package or driver is a clear LivedreamError, and
`open_virtual_cam` lets the caller log it and carry on without the sink.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from livedream.errors import LivedreamError
from livedream.outputs.stream import OutputFrame

log = logging.getLogger(__name__)

EXTRA_HINT = ("install the extra: pip install 'livedream[virtualcam]' (pyvirtualcam), and a "
              "camera driver: v4l2loopback on Linux, OBS's virtual camera on Windows / macOS")

CameraFactory = Callable[..., Any]  # pyvirtualcam.Camera(width, height, fps, **options)


class VirtualCamUnavailableError(LivedreamError):
    """No virtual camera: pyvirtualcam is missing or its driver is not there."""


def _pyvirtualcam_camera() -> CameraFactory:
    try:
        module = import_module("pyvirtualcam")
    except ImportError as exc:
        raise VirtualCamUnavailableError(f"virtual camera not available ({exc}); "
                                         f"{EXTRA_HINT}") from None
    return module.Camera


class VirtualCamSink:
    """Output-stream sink sending each frame (HxWx3 RGB uint8) to a virtual camera.

    The camera opens on the first frame (its size is the output size); `camera_factory` is
    `pyvirtualcam.Camera` unless a test passes a fake.
    """

    def __init__(self, fps: float, device: str | None = None,
                 camera_factory: CameraFactory | None = None) -> None:
        self.fps = float(fps)
        self.device = device
        self._factory = camera_factory or _pyvirtualcam_camera()
        self._camera: Any = None
        self.sent = 0

    def _open(self, width: int, height: int) -> None:
        self.close()
        try:
            self._camera = self._factory(width, height, self.fps, device=self.device)
        except (RuntimeError, OSError, ValueError) as exc:  # pyvirtualcam: no driver / device
            raise VirtualCamUnavailableError(f"cannot open the virtual camera: {exc}; "
                                             f"{EXTRA_HINT}") from None
        log.info("virtual camera %s: %dx%d at %g fps", getattr(self._camera, "device", "?"),
                 width, height, self.fps)

    def open(self, width: int, height: int) -> None:
        """Open the camera now (so a missing driver is reported at startup, not mid-show)."""
        self._open(width, height)

    def send(self, frame: OutputFrame) -> None:
        h, w = frame.pixels.shape[:2]
        camera = self._camera
        if camera is None or (camera.width, camera.height) != (w, h):
            self._open(w, h)
            camera = self._camera
        camera.send(frame.pixels)  # the stream paces frames: no sleep_until_next_frame
        self.sent += 1

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()


def open_virtual_cam(fps: float, size: tuple[int, int], device: str | None = None,
                     camera_factory: CameraFactory | None = None) -> VirtualCamSink | None:
    """The sink, opened at `size` = (w, h); None (with the reason logged) when there is no
    virtual camera: the show goes on without it."""
    try:
        sink = VirtualCamSink(fps, device, camera_factory)
        sink.open(*size)
    except VirtualCamUnavailableError as exc:
        log.error("--virtual-cam: %s; the show goes on without it", exc)
        return None
    return sink
