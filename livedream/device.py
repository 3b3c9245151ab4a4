"""Device and precision choice: CUDA, then MPS, else CPU; the net's autocast dtype per device.

Nothing here touches CUDA at import time. `pick_precision` is the ONE place that decides which
reduced precision (if any) the network runs in; every command (`run`, `render`, `demo`, the
bench) asks it.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

from livedream.errors import ParamError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(preference: str | None = None) -> torch.device:
    """The device to run on: `preference` ('cpu', 'cuda', 'cuda:1', 'mps') or the best one
    (CUDA, then Apple's MPS, then the CPU)."""
    if preference and preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


#: dream frame size per device type: a GPU dreams 720p live; a CPU stays lively at 320x180
DEFAULT_FRAME_SIZE = {"cuda": (1280, 720), "mps": (640, 360)}
CPU_FRAME_SIZE = (320, 180)

#: `--precision` choices -> autocast dtype (None = the net runs in float32). 'auto' is resolved
#: by `pick_precision`.
PRECISIONS: dict[str, torch.dtype | None] = {
    "fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
PRECISION_CHOICES: tuple[str, ...] = ("auto", *PRECISIONS)

#: The deprecated `--autocast` spellings, mapped onto `--precision`.
AUTOCAST_ALIASES: dict[str, str] = {"off": "fp32", "bf16": "bf16", "fp16": "fp16"}
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {
    alias: PRECISIONS[name] for alias, name in AUTOCAST_ALIASES.items()}

#: /proc/cpuinfo flags that make bf16 autocast faster than fp32 on any vendor (Intel AMX: 4.6x
#: on VGG16, issue 9).
BF16_CPU_FLAGS = frozenset({"amx_bf16"})
#: ... and per vendor: AVX512-BF16 alone pays on AMD (1.8x on an EPYC, issue 9) but not on
#: Intel (0.56-0.89x on an avx512_bf16 Xeon without AMX, bench/RESULTS.md row 10).
VENDOR_BF16_FLAGS = {"AuthenticAMD": frozenset({"avx512_bf16"})}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo), plus 'amx_bf16' when torch reports AMX;
    empty where neither can be read (macOS, Windows)."""
    flags: set[str] = set()
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    try:
        if "AMX" in torch.backends.cpu.get_cpu_capability().upper():
            flags.add("amx_bf16")
    except (AttributeError, RuntimeError):
        pass
    return frozenset(flags)


def cpu_vendor(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """'GenuineIntel', 'AuthenticAMD', ... from /proc/cpuinfo ('' where it cannot be read)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def pick_precision(
    device: torch.device | str,
    requested: str = "auto",
    *,
    flags: Collection[str] | None = None,
    vendor: str | None = None,
) -> torch.dtype | None:
    """The autocast dtype for the net on `device` (None = float32).

    An explicit 'fp32' / 'bf16' / 'fp16' is honoured as asked. 'auto': bf16 on a CPU whose flags
    (`flags`, default `cpu_flags()`) say AMX, or AVX512-BF16 on an AMD CPU (`vendor`, default
    `cpu_vendor()`): faster there, the picture changes slightly; on CUDA bf16 when the GPU
    supports it, else fp16; float32 elsewhere (bf16 measured slower than fp32 on an Intel
    AVX512-BF16 CPU without AMX, and emulated on older CPUs; MPS autocast is not relied on).
    """
    if requested not in PRECISION_CHOICES:
        raise ParamError(f"precision {requested!r}: valid: {', '.join(PRECISION_CHOICES)}")
    if requested != "auto":
        return PRECISIONS[requested]
    kind = torch.device(device).type
    if kind == "cpu":
        have = cpu_flags() if flags is None else frozenset(flags)
        fast = BF16_CPU_FLAGS | VENDOR_BF16_FLAGS.get(
            cpu_vendor() if vendor is None else vendor, frozenset())
        return torch.bfloat16 if have & fast else None
    if kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def requested_precision(cli: str | None, preset: str | None = None) -> str:
    """What to ask `pick_precision` for: the command line's choice, else the preset's, else auto
    (an explicit `--precision auto` overrides a preset's precision)."""
    return cli or preset or "auto"


def add_precision_argument(parser: Any) -> None:
    """`--precision` for run / render / demo (one help text, one set of choices)."""
    parser.add_argument(
        "--precision", choices=PRECISION_CHOICES, default=None,
        help="the net's precision: auto (default, or the preset's): bf16 on CPUs with AMX (or "
        "AVX512-BF16 on AMD), bf16/fp16 on CUDA, fp32 elsewhere; the frame and its gradient "
        "stay fp32")


def precision_name(dtype: torch.dtype | None) -> str:
    """'fp32' / 'bf16' / 'fp16' for a `pick_precision` result (for logs and the overlay)."""
    return next(name for name, value in PRECISIONS.items() if value == dtype)


def default_frame_size(device: torch.device) -> tuple[int, int]:
    """The live frame size used when none is given, by device type."""
    return DEFAULT_FRAME_SIZE.get(device.type, CPU_FRAME_SIZE)


#: the governor's default frame budget, dream frames per second, by device type (CPU: 12)
DEFAULT_TARGET_FPS = {"cuda": 30.0, "mps": 30.0}
CPU_TARGET_FPS = 12.0


def default_target_fps(device: torch.device) -> float:
    """`--target-fps` when none is given: 30 on a GPU, 12 on a CPU."""
    return DEFAULT_TARGET_FPS.get(device.type, CPU_TARGET_FPS)
