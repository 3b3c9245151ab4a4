"""Device and precision choice: the MPS pick and `pick_precision` by (faked) CPU flags."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livedream import device as device_mod
from livedream.device import (
    AUTOCAST_ALIASES,
    PRECISION_CHOICES,
    cpu_flags,
    cpu_vendor,
    default_target_fps,
    pick_device,
    pick_precision,
    precision_name,
)
from livedream.errors import LivedreamError

CPU = torch.device("cpu")


def test_pick_device_chooses_mps_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")
    assert pick_device("auto") == torch.device("mps")
    assert pick_device("cpu") == CPU  # an explicit choice wins


def test_pick_device_prefers_cuda_then_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == CPU


INTEL, AMD = "GenuineIntel", "AuthenticAMD"


@pytest.mark.parametrize(("flags", "vendor", "expected"), [
    ({"sse2", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}, INTEL,
     torch.bfloat16),  # Sapphire Rapids: AMX
    ({"sse2", "avx2", "avx512f", "avx512_bf16"}, AMD, torch.bfloat16),  # Zen 4 EPYC
    ({"sse2", "avx2", "avx512f", "avx512_bf16"}, INTEL, None),  # Cooper Lake-style: slower
    ({"sse2", "avx2", "avx512f"}, AMD, None),  # no bf16 arithmetic: emulated, slower
    (set(), "", None),  # unknown CPU (macOS, Windows)
])
def test_auto_precision_on_cpu_follows_the_flags(flags: set[str], vendor: str,
                                                 expected: torch.dtype | None) -> None:
    assert pick_precision(CPU, "auto", flags=flags, vendor=vendor) is expected


def test_auto_precision_reads_cpu_flags_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_mod, "cpu_vendor", lambda: AMD)
    monkeypatch.setattr(device_mod, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert pick_precision("cpu") is torch.bfloat16
    monkeypatch.setattr(device_mod, "cpu_flags", lambda: frozenset({"avx2"}))
    assert pick_precision("cpu") is None
    monkeypatch.setattr(device_mod, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    monkeypatch.setattr(device_mod, "cpu_vendor", lambda: INTEL)
    assert pick_precision("cpu") is torch.bfloat16


def test_cpu_flags_parses_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: X\n"
                    "flags\t\t: fpu sse2 avx512_bf16 amx_tile\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert {"fpu", "sse2", "avx512_bf16", "amx_tile"} <= cpu_flags(info)
    assert cpu_vendor(info) == "AuthenticAMD" and cpu_vendor(tmp_path / "missing") == ""
    assert "fpu" not in cpu_flags(tmp_path / "missing")  # unreadable: no flags, no error


def test_auto_precision_on_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert pick_precision("cuda") is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert pick_precision("cuda:1") is torch.float16
    assert pick_precision("mps") is None


@pytest.mark.parametrize("name", ["fp32", "bf16", "fp16"])
def test_explicit_precision_is_honoured_everywhere(name: str) -> None:
    for where in ("cpu", "cuda", "mps"):
        dtype = pick_precision(where, name, flags=set())
        assert precision_name(dtype) == name


def test_bad_precision_is_a_clear_error() -> None:
    with pytest.raises(LivedreamError, match="auto, fp32, bf16, fp16"):
        pick_precision(CPU, "int8")


def test_autocast_aliases_map_onto_precisions() -> None:
    assert set(AUTOCAST_ALIASES.values()) <= set(PRECISION_CHOICES)
    assert AUTOCAST_ALIASES["off"] == "fp32"


def test_default_target_fps_by_device() -> None:
    assert default_target_fps(CPU) == 12
    assert default_target_fps(torch.device("cuda")) == 30
