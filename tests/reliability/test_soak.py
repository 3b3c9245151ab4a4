"""Soak: the headless show (320x180; 160x90 for the short run) under random valid OSC traffic
while recording. The short run (LIVEDREAM_SOAK_SECONDS, default 180) is part of `make test`;
`make soak` runs the 30-minute one (LIVEDREAM_SOAK_LONG_SECONDS, default 1800). The checks are
in tests/reliability/soak.py."""

from __future__ import annotations

import json
import os

import pytest

from tests.reliability.soak import soak


def run_and_check(seconds: float, size: str, tmp_path) -> None:
    report = soak(seconds, os.environ.get("LIVEDREAM_SOAK_SIZE", size), tmp_path)
    print(json.dumps(report, indent=1))
    assert report["ok"], report["failures"]
    assert report["frames_rendered"] > 0 and report["messages_sent"] > 0


def test_short_soak(tmp_path):
    # 160x90: at 320x180 VGG16 makes ~2 frames/s on 2 shared cores, too few in 2 minutes for the
    # allocator to settle after warm-up; the long soak runs at 320x180.
    run_and_check(float(os.environ.get("LIVEDREAM_SOAK_SECONDS", "180")), "160x90", tmp_path)


@pytest.mark.slow
def test_long_soak(tmp_path):
    run_and_check(float(os.environ.get("LIVEDREAM_SOAK_LONG_SECONDS", "1800")), "320x180",
                  tmp_path)
