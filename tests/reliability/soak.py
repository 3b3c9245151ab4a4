"""Soak driver: `python -m tests.reliability.soak --seconds 1800 --size 320x180 --out DIR`.

Runs the headless show (recording to DIR/soak.mp4) as a subprocess, plays random *valid* control
traffic at it over OSC (parameters, layers, transforms, chains, toggles, presets, source mix,
resets), and checks what a long set needs:

- frames keep coming (the frame counter, read through reset probes, advances every check);
- resident memory does not creep: RSS after the warm-up tour vs. at the end, growth < 5%;
- the recording drops (almost) nothing and the file holds every frame the recorder accepted;
- the show stops cleanly on SIGINT (exit code 0) with its final stats line.

The warm-up first tours every layer, transform and preset the traffic will use, so the allocator
has seen the largest activations before the baseline RSS is taken. Prints a JSON report and exits
0 only if every check holds.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from tests.reliability.show import Show, free_udp_port

LAYERS = ["conv3_3", "relu3_3", "conv4_1", "relu4_2", "conv4_3", "relu4_3", "conv5_1"]
TRANSFORMS = ["zoom", "rotate", "stretch", "blur", "roll_sine", "roll_linear", "roll_random",
              "sobel", "hue_shift", "saturation", "pixel_sort", "posterize", "channel_roll",
              "invert", "tile_affine", "affine", "prewitt"]
PARAMS = ["step_size", "jitter", "zoom/scale", "rotate/degrees", "blur/sigma",
          "roll_sine/amplitude", "hue_shift/degrees", "saturation/amount", "pixel_sort/lo",
          "pixel_sort/hi", "0/scale"]


def osc(address: str, *args: Any) -> bytes:
    """Encode an OSC message (str -> s, float -> f, int -> i)."""
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (4 - len(b) % 4)

    tags, body = ",", b""
    for arg in args:
        if isinstance(arg, str):
            tags, body = tags + "s", body + pad(arg.encode())
        elif isinstance(arg, float):
            tags, body = tags + "f", body + struct.pack(">f", arg)
        else:
            tags, body = tags + "i", body + struct.pack(">i", arg)
    return pad(address.encode()) + pad(tags.encode()) + body


def tour(presets: list[str]) -> list[bytes]:
    """Warm-up: every layer, every transform, every preset once."""
    out = [osc("/livedream/layer", layer) for layer in LAYERS]
    out += [osc("/livedream/transform", name) for name in TRANSFORMS]
    out += [osc("/livedream/preset", name) for name in presets]
    out += [osc("/livedream/chain", "zoom", "blur", "hue_shift"), osc("/livedream/reset")]
    return out


def preset_models() -> dict[Any, Any]:
    """Tour message of each preset -> its model (the show starts on vgg16: already seen)."""
    from livedream.presets import list_presets, load_preset

    out: dict[Any, Any] = {"seen": {"vgg16"}}
    for name, path in list_presets().items():
        out[osc("/livedream/preset", name)] = load_preset(path).look.model
    return out


def random_message(rng: random.Random, presets: list[str]) -> bytes:
    """One valid control message (a VJ turning knobs and pressing pads)."""
    kind = rng.randrange(10)
    if kind <= 3:
        return osc(f"/livedream/param/{rng.choice(PARAMS)}", rng.random())
    if kind == 4:
        return osc("/livedream/layer", rng.choice(LAYERS))
    if kind == 5:
        return osc("/livedream/chain", *rng.sample(TRANSFORMS, rng.randint(1, 3)))
    if kind == 6:
        return osc("/livedream/toggle", rng.choice(TRANSFORMS))
    if kind == 7:
        return osc("/livedream/preset", rng.choice(presets)) if presets else osc(
            "/livedream/preset/next")
    if kind == 8:
        return osc("/livedream/param/iterations/raw", rng.choice([1, 2]))
    return rng.choice([osc("/livedream/layer/next"), osc("/livedream/reset"),
                       osc("/livedream/source/mix", rng.random() * 0.2)])


def soak(seconds: float, size: str, out: Path, rate: float = 5.0, seed: int = 0,
         max_growth: float = 0.05, max_dropped_fraction: float = 0.01) -> dict[str, Any]:
    """Run the soak; returns the report (report['ok'] says whether every check held)."""
    from livedream.presets import list_presets
    from livedream.record import probe_video

    out.mkdir(parents=True, exist_ok=True)
    presets = list(list_presets())
    rng = random.Random(seed)
    port = free_udp_port()
    video = out / "soak.mp4"
    report: dict[str, Any] = {"seconds": seconds, "size": size, "failures": []}
    fail = report["failures"].append
    show = Show("--size", size, "--osc-port", str(port), "--record", str(video),
                "--record-source", "dream", log_path=out / "show.log")
    with show, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        show.wait_for(r"show running", timeout=180)
        target = ("127.0.0.1", port)
        started = time.monotonic()
        models = preset_models()
        for data in tour(presets):
            sock.sendto(data, target)
            time.sleep(0.3)
            model = models.get(data)
            if model is not None and model not in models["seen"]:
                # A preset of another model: the tour waits until the show dreams with it, so
                # that model's weights and activations are in the baseline too.
                show.wait_for(rf"now dreaming with model {model}", timeout=120)
                models["seen"].add(model)
        # Half the run (at most 2 minutes) to warm up: the frame-budget governor tries up to 16
        # dream scales, each with its own activation sizes, before the allocator settles.
        warmup = max(15.0, min(0.5 * seconds, 120.0))
        checkpoints: list[tuple[float, int, int]] = []  # (elapsed, frame, rss kB)
        sent = 0
        next_check = started + warmup
        while time.monotonic() - started < seconds:
            sock.sendto(random_message(rng, presets), target)
            sent += 1
            time.sleep(rng.expovariate(rate))
            if time.monotonic() >= next_check:
                frame = show.probe_frame(port, timeout=60)
                checkpoints.append((time.monotonic() - started, frame, show.rss_kib()))
                next_check = time.monotonic() + max(5.0, (seconds - warmup) / 20)
        frame = show.probe_frame(port, timeout=60)
        checkpoints.append((time.monotonic() - started, frame, show.rss_kib()))
        code = show.stop()
    stats = show.final_stats()
    info = probe_video(video)
    frames = [c[1] for c in checkpoints]
    rss_start, rss_end = checkpoints[0][2], checkpoints[-1][2]
    growth = (rss_end - rss_start) / rss_start
    report.update(
        messages_sent=sent, frames_rendered=stats.frames, dream_fps=stats.dream_fps,
        recorded=stats.recorded, dropped=stats.dropped, file_frames=info.frames,
        rss_start_kib=rss_start, rss_end_kib=rss_end, rss_max_kib=max(c[2] for c in checkpoints),
        rss_growth=growth, exit_code=code, rejected=stats.rejected, reseeds=stats.reseeds,
        checkpoints=checkpoints,
    )
    if code != 0:
        fail(f"show exited with {code}")
    if len(frames) < 2 or any(b <= a for a, b in zip(frames, frames[1:], strict=False)):
        fail(f"frame counter did not advance at every check: {frames}")
    if growth >= max_growth:
        fail(f"RSS grew {100 * growth:.1f}% after warm-up ({rss_start} -> {rss_end} kB)")
    if stats.dropped > max_dropped_fraction * max(1, stats.recorded):
        fail(f"{stats.dropped} of {stats.recorded} recording frames dropped")
    if info.frames != stats.recorded - stats.dropped:
        fail(f"file holds {info.frames} frames, recorder accepted "
             f"{stats.recorded - stats.dropped}")
    if "Traceback" in show.text():
        fail("a traceback was logged")
    report["ok"] = not report["failures"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1800.0)
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--out", type=Path, default=Path("out/soak"))
    parser.add_argument("--rate", type=float, default=5.0, help="control messages per second")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = soak(args.seconds, args.size, args.out, args.rate, args.seed)
    brief = {k: v for k, v in report.items() if k != "checkpoints"}
    print(json.dumps(brief, indent=1))
    (args.out / "soak.json").write_text(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
