"""`livedream run`: the live show, in a window (pyglet) or headless, played over OSC/MIDI/keys.

The window runs on the main thread at the monitor rate; the render loop dreams on a worker thread.
Headless, the loop runs on the main thread until --frames/--seconds, a Quit, or SIGINT/SIGTERM.
Either way the recording is finalised before exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from livedream.control.setup import open_midi_control, oscquery_port, serve_oscquery
from livedream.device import AUTOCAST_ALIASES, add_precision_argument
from livedream.errors import LivedreamError, ParamError
from livedream.flow.options import add_flow_arguments, flow_settings_from_args
from livedream.live.record_setup import check_record_targets, recorder_factory
from livedream.outputs.setup import feed, output_stream
from livedream.outputs.stream import OUTPUT_PRIORITIES
from livedream.params import parse_size
from livedream.tempo.setup import add_arguments as tempo_arguments

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--preset", help="preset name (see `livedream presets`) or a .toml file "
        "(default: vertical-stretch)")
    add("--model", help="built-in model name or a Caffe deploy.prototxt")
    add("--weights", help="weights file for --model")
    add("--layer", help="layer to dream on (default: the preset's or the model's default)")
    add("--size", default=None,
        help="dream frame size WIDTHxHEIGHT (default 1280x720 on a GPU, 320x180 on a CPU)")
    add_precision_argument(parser)
    add("--autocast", default=None, choices=tuple(AUTOCAST_ALIASES),
        help=argparse.SUPPRESS)  # deprecated: --precision (off = fp32)
    add("--target-fps", type=float, default=None, metavar="N",
        help="frame budget: adapt iterations per frame and then the dream scale to hold N dream "
        "fps (default 12 on a CPU, 30 on a GPU; 0 = off, the preset's iterations every frame)")
    add("--dream-scale", type=float, default=None, metavar="F",
        help="the net dreams on a frame F times the output size (0.25..1, default 1); the "
        "detail is upsampled back, so output and recording keep --size")
    add("--compile", action="store_true",
        help="opt-in: run the net's forward through torch.compile (GPU; the first frames wait "
        "for the compile, cached across runs); outputs equal the eager step")
    add("--source", help="live source blended into the buffer: webcam:N, video file or image")
    add("--source-mix", type=float, default=None, help="source weight 0..1 (default 0.1 with "
        "--source)")
    add_flow_arguments(parser)
    add("--fullscreen", action="store_true", help="start fullscreen (F toggles)")
    add("--screen", type=int, default=None, help="screen index for the window / fullscreen")
    add("--display-motion", default="motion", choices=("motion", "crossfade", "none"),
        help="what the output (window, NDI, recording) does between dream frames (default: "
        "continue the chain's motion)")
    add("--output-fps", type=float, default=None,
        help="rate of the output stream (window, NDI, virtual camera, recording; default 60 "
        "with a window, whose redraws it sets (vsync caps them), 30 headless)")
    add("--output-priority", default="auto", choices=OUTPUT_PRIORITIES,
        help="CPU priority of the output threads: idle (only CPU time the dream leaves: the "
        "dream keeps its rate, outputs drop frames), low (niceness +10), normal; auto "
        "(default): idle when the dream runs on the CPU, normal on a GPU")
    add("--ndi-out", metavar="NAME", help="publish the output as the NDI source NAME "
        "(receivers list it as 'HOST (NAME)'; needs pip install 'livedream[ndi]')")
    add("--ndi-format", default="RGBA", choices=("RGBA", "UYVY"),
        help="NDI pixel format (UYVY: half the bandwidth, 4:2:2 chroma)")
    add("--virtual-cam", action="store_true", help="send the output to a virtual camera "
        "(pip install 'livedream[virtualcam]'; v4l2loopback on Linux, OBS's camera elsewhere)")
    add("--record-source", default="output", choices=("output", "dream"),
        help="output (default): record the output stream at --output-fps, as the audience saw "
        "it; dream: record the dream frames (see --record-timing)")
    add("--record", metavar="FILE", help="record what is shown (.mp4 crash-safe, or .gif)")
    add("--record-frames", metavar="DIR", help="record numbered PNG frames into DIR")
    add("--record-fps", type=float, default=None,
        help="time grid of the mp4 (default: the output fps; 30 with --record-source dream); "
        "with --record-timing frames, its playback rate")
    add("--record-timing", default="realtime", choices=("realtime", "frames"),
        help="realtime (default): each dream frame lands in the mp4 at the moment it was shown, "
        "so the recording plays at the show's speed; frames: one video frame per dream frame "
        "at --record-fps (a time-lapse)")
    add("--headless", action="store_true", help="no window (recording-only / OSC-controlled)")
    add("--frames", type=int, default=None, help="stop after this many dream frames")
    add("--seconds", type=float, default=None, help="stop after this many seconds")
    add("--osc-host", default="127.0.0.1", help="OSC bind address (0.0.0.0 opens it to the LAN)")
    add("--osc-port", type=int, default=9000, help="OSC UDP port (0 = no OSC)")
    add("--osc-allow", nargs="+", metavar="IP", help="only accept OSC from these addresses")
    add("--oscquery-port", type=int, default=None, metavar="N",
        help="OSCQuery (HTTP) port on the OSC host, so VDMX, Chataigne and other OSCQuery "
        "clients find every address with its range and value (default: OSC port + 1; 0 = off)")
    add("--oscquery-zeroconf", action="store_true",
        help="announce the show over zeroconf/Bonjour (_oscjson._tcp, _osc._udp) so OSCQuery "
        "clients list it; multicasts on the OSC host's networks (needs livedream[zeroconf])")
    add("--osc-reply-port", type=int, default=None, metavar="N",
        help="send echoes to this port of the sender (TouchOSC listens on another port than the "
        "one it sends from; default: the sender's own port)")
    add("--midi-in", metavar="NAME", help="MIDI input port (name, prefix or index)")
    add("--midi-out", metavar="NAME", help="MIDI output port for LED/fader echo")
    add("--midi-map", metavar="FILE", help="MIDI mapping TOML")
    add("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when present)")
    add("--seed", type=int, default=None, help="seed for the start image and jitter")
    tempo_arguments(parser)


def _presets() -> dict[str, Any]:
    """Every shipped preset as a Look (a broken preset file is logged and skipped)."""
    from livedream.presets import list_presets, load_preset

    looks = {}
    for name, path in list_presets().items():
        try:
            looks[name] = load_preset(path).look
        except LivedreamError as exc:
            log.warning("skipping preset %s: %s", name, exc)
    return looks


def _start_preset(args: argparse.Namespace) -> Any:
    """The preset the show starts from: --preset, else the default preset (a tuned look, not
    bare defaults)."""
    from livedream.presets import DEFAULT_PRESET, open_preset

    return open_preset(args.preset or DEFAULT_PRESET, allow_paths=True)


def _initial_state(args: argparse.Namespace) -> tuple[Any, int]:
    from livedream.state import SOURCE_MIX, State, with_show

    preset = _start_preset(args)
    look, seed, name = preset.look, preset.seed, preset.name
    if args.model:
        from livedream.models.registry import default_layer, is_prototxt

        layers = look.layers if is_prototxt(args.model) else (default_layer(args.model),)
        look = replace(look, model=args.model, weights=args.weights, layers=layers)
    elif args.weights:
        look = replace(look, weights=args.weights)
    if args.layer:
        look = replace(look, layers=(args.layer,))
    mix = args.source_mix if args.source_mix is not None else (0.1 if args.source else 0.0)
    flow_args = flow_settings_from_args(args)
    state = State(look=look, preset=name, source=args.source,
                  source_mix=float(SOURCE_MIX.validate(mix, "--source-mix")),
                  recording=bool(args.record or args.record_frames), fullscreen=args.fullscreen,
                  flow=args.flow, gate=args.gate, settings=flow_args, quantize=args.quantize)
    given = {"flow": args.flow, "gate": args.gate, "source_mix": args.source_mix is not None,
             **{key: True for key in flow_args}}  # the command line wins over the preset
    state = with_show(state, [(key, value) for key, value in look.show if not given.get(key)])
    return state, seed if args.seed is None else args.seed


def _speed(args: argparse.Namespace, device: Any, state: Any) -> tuple[Any, Any, Any]:
    """(autocast dtype, frame-budget governor look filter, dream function) for the show; the
    start preset's `precision` applies when the command line does not choose one."""
    from livedream.device import (
        default_target_fps,
        pick_precision,
        precision_name,
        requested_precision,
    )
    from livedream.dream_scale import ScaledDream
    from livedream.live.governor import FrameGovernor, Governor
    from livedream.speed_params import DREAM_SCALE

    cli = args.precision or (AUTOCAST_ALIASES[args.autocast] if args.autocast else None)
    if args.autocast:
        log.warning("--autocast is deprecated; use --precision %s", AUTOCAST_ALIASES[args.autocast])
    requested = requested_precision(cli, None if cli else _start_preset(args).precision)
    autocast = pick_precision(device, requested)
    target = default_target_fps(device) if args.target_fps is None else args.target_fps
    if not 0 <= target <= 1000:
        raise ParamError(f"--target-fps must be 0 (off) or up to 1000, got {target}")
    scale = float(DREAM_SCALE.validate(1.0 if args.dream_scale is None else args.dream_scale,
                                       "--dream-scale"))
    governor = FrameGovernor(Governor(target, state.look.dream.iterations, scale))
    log.info("precision %s (%s), target %s, dream scale %g", precision_name(autocast), requested,
             f"{target:g} dream fps" if target else "off", scale)
    return autocast, governor, ScaledDream(governor.scale)


def run(args: argparse.Namespace) -> int:
    """Start the show; returns 0 after a clean stop (recording finalised)."""
    from livedream.command_queue import CommandQueue
    from livedream.commands import Quit
    from livedream.device import default_frame_size, pick_device
    from livedream.live.clock import SystemClock
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from livedream.models.registry import load_model
    from livedream.outputs.show import default_output_fps
    from livedream.state import setting
    from livedream.tempo.setup import check as check_tempo
    from livedream.tempo.setup import open_tempo

    device = pick_device(args.device)
    size = parse_size(args.size) if args.size else default_frame_size(device)
    for flag in ("frames", "seconds"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise ParamError(f"--{flag} must be > 0, got {value}")
    if args.osc_reply_port is not None and not 1 <= args.osc_reply_port <= 65535:
        raise ParamError(f"--osc-reply-port must be 1..65535, got {args.osc_reply_port}")
    for flag in ("record_fps", "output_fps"):
        value = getattr(args, flag)
        if value is not None and not 0 < value <= 1000:
            raise ParamError(f"--{flag.replace('_', '-')} must be in (0, 1000], got {value}")
    if args.output_fps is None:
        args.output_fps = default_output_fps(args.headless)
    check_record_targets(args)
    check_tempo(args)
    query_port = oscquery_port(args)
    state, seed = _initial_state(args)
    autocast, governor, dream_fn = _speed(args, device, state)
    state = replace(state, settings={**state.settings, **governor.settings()})
    queue = CommandQueue()
    stop = threading.Event()

    with ExitStack() as stack:
        log.info("loading model %s on %s", state.look.model, device)
        model = load_model(state.look.model, state.look.weights, device)
        if args.compile:
            from livedream.compile import compile_model

            compile_model(model, mode="reduce-overhead" if device.type == "cuda" else None)
        source = None
        if args.source:
            from livedream.threaded_source import open_threaded

            source = open_threaded(args.source, size, device, realtime=args.source_realtime,
                                   flow=state.flow or state.gate,
                                   flow_scale=float(setting(state, "flow.scale")))
            stack.callback(source.close)
        if args.osc_port:
            from livedream.control.osc import OscControl

            allow = set(args.osc_allow) if args.osc_allow else None
            osc = OscControl(queue, args.osc_host, args.osc_port, allow,
                             reply_port=args.osc_reply_port)
            stack.callback(osc.close)
        tempo = open_tempo(args, SystemClock(), stack)
        observers = []
        if args.midi_in or args.midi_out:
            observers.append(open_midi_control(args, queue, stack, tempo).on_state)
        stream = output_stream(args, size, stack, device)
        outputs: list[Any] = []
        if args.headless:
            display: Any = HeadlessDisplay(queue)
            if stream is not None:
                outputs.append(feed(stream))
        else:  # the window's shader composes; its picture, read back, is the output frame
            from livedream.live.display import WindowDisplay

            window = WindowDisplay(queue, size, fullscreen=state.fullscreen, screen=args.screen,
                                   motion=args.display_motion, refresh_hz=args.output_fps,
                                   output=stream)
            display = window
        recording_stream = stream if args.record_source == "output" else None
        loop = RenderLoop(state, queue, display, model=model, clock=SystemClock(),
                          recorder_factory=recorder_factory(args, recording_stream),
                          source=source, size=size, device=device, presets=_presets(),
                          seed=seed, observers=observers, autocast=autocast, outputs=outputs,
                          look_filters=[tempo, governor], dream_fn=dream_fn)
        tempo.attach(loop.dispatcher)  # tempo commands, the beat in the state, quantisation
        governor.attach(loop.dispatcher)  # speed.* params live; its choice in State.speed
        stack.callback(loop.close)  # finalise the recording whatever happens
        if not args.headless:
            window.current_state = lambda: loop.dispatcher.state  # the overlay follows knobs
        if stream is not None:  # ...and so does the output's in-between motion
            stream.current_chain = lambda: loop.dispatcher.state.look.chain
        loop.dispatcher.start()  # echoes and the window follow a controller at once
        stack.callback(loop.dispatcher.close)
        if query_port is not None:
            serve_oscquery(args, query_port, osc.address[1], loop, stack)

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("%s: stopping and finalising the recording", signal.Signals(signum).name)
            queue.put(Quit(), origin="signal")
            stop.set()

        old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        stack.callback(lambda: [signal.signal(s, h) for s, h in old_handlers.items()])
        log.info("show running: %s %s, %dx%d, %s", state.look.model, ", ".join(state.look.layers),
                 size[0], size[1], "headless" if args.headless else "window")

        def worker(stop_event: threading.Event) -> None:
            loop.run(max_frames=args.frames, max_seconds=args.seconds, stop=stop_event)

        if stream is not None and args.headless:  # with a window, the window is its clock
            stream.start()
        if args.headless:
            worker(stop)
        else:
            window.run(worker, stop)
        loop.close()
        stats = loop.stats()
    if stream is not None:
        sinks = ", ".join(f"{name} {s['delivered']} sent / {s['dropped']} dropped"
                          for name, s in stream.stats()["sinks"].items())
        print(f"livedream run: output stream {stream.frames} frames at {stream.fps:g} fps, "
              f"{stream.readbacks} readbacks, {stream.late} late ticks"
              + (f"; {sinks}" if sinks else ""), file=sys.stderr)
    print(f"livedream run: {stats.frames} frames, {stats.dream_fps:.2f} dream fps, "
          f"{stats.recorded} recorded, {stats.dropped} dropped, {stats.rejected} commands "
          f"rejected, {stats.reseeds} re-seeds, {(stats.extra or {}).get('governor', '')}",
          file=sys.stderr)
    return 0
