"""`livedream run`'s output setup: the output stream (when anything consumes it) with its NDI and
virtual-camera sinks. Headless, the loop feeds it through `StreamFeed` (torch compositor on its
own thread); with a window, the window composes and publishes into it (see `run`)."""

from __future__ import annotations

import argparse
import logging
from contextlib import ExitStack
from typing import Any

from livedream.errors import ParamError
from livedream.outputs.compositor import Compositor
from livedream.outputs.show import StreamFeed
from livedream.outputs.stream import OutputStream, resolve_priority

log = logging.getLogger(__name__)


def output_stream(args: argparse.Namespace, size: tuple[int, int], stack: ExitStack,
                  device: Any = "cpu") -> Any:
    """The output stream when anything consumes it (window, NDI, virtual camera, recording of
    the output), with its NDI / virtual camera sinks; closed last (after the recording). Its
    threads' priority follows --output-priority (auto: by the dream's `device`)."""
    recording = bool(args.record or args.record_frames) and args.record_source == "output"
    if args.headless and not (args.ndi_out or args.virtual_cam or recording):
        return None
    priority = resolve_priority(getattr(args, "output_priority", "auto"), device)
    stream = OutputStream(Compositor(args.display_motion), args.output_fps, priority=priority)
    stack.callback(stream.close)  # registered first: runs after the loop finalised recording
    if args.ndi_out:
        from livedream.outputs.ndi import NdiSender

        if args.ndi_format == "UYVY" and size[0] % 2:
            raise ParamError(f"--ndi-format UYVY needs an even width, got --size "
                             f"{size[0]}x{size[1]}; use RGBA or an even width")

        stream.subscribe(NdiSender(args.ndi_out, args.output_fps, args.ndi_format), "ndi")
        log.info("NDI: publishing %r (%s, %g fps)", args.ndi_out, args.ndi_format,
                 args.output_fps)
    if args.virtual_cam:
        from livedream.outputs.virtualcam import open_virtual_cam

        camera = open_virtual_cam(args.output_fps, size)
        if camera is not None:
            stream.subscribe(camera, "virtual-cam")
    return stream


def feed(stream: Any) -> Any:
    """The headless loop's extra output: dream frames into the stream's compositor."""
    return StreamFeed(stream)
