"""Frame sources: images, the generated start image, looping video files, bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from livedream.errors import LivedreamError
from livedream.sources import generated_image, load_image, open_source

SIZE = (64, 48)  # (w, h)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def quadrant_image(h: int, w: int) -> np.ndarray:
    """Red / green / blue / white quadrants."""
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[: h // 2, : w // 2] = (255, 0, 0)
    rgb[: h // 2, w // 2 :] = (0, 255, 0)
    rgb[h // 2 :, : w // 2] = (0, 0, 255)
    rgb[h // 2 :, w // 2 :] = (255, 255, 255)
    return rgb


def test_load_image_native_and_resized(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3))
    path = write_png(tmp_path / "noise.png", rgb)
    frame = load_image(path)
    assert frame.shape == (1, 3, 30, 40) and frame.dtype == torch.float32
    np.testing.assert_allclose(frame[0].permute(1, 2, 0).numpy(), rgb / 255.0, atol=1e-6)
    quad = write_png(tmp_path / "quad.png", quadrant_image(100, 200))
    small = load_image(quad, size=SIZE)  # 2:1 picture into 4:3: cropped at the sides
    assert small.shape == (1, 3, 48, 64)
    np.testing.assert_allclose(small[0, :, 5, 5].numpy(), [1, 0, 0], atol=0.02)
    np.testing.assert_allclose(small[0, :, 5, 58].numpy(), [0, 1, 0], atol=0.02)
    np.testing.assert_allclose(small[0, :, 42, 5].numpy(), [0, 0, 1], atol=0.02)
    np.testing.assert_allclose(small[0, :, 42, 58].numpy(), [1, 1, 1], atol=0.02)


def test_missing_and_corrupt_images_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(LivedreamError, match="nothere.png"):
        load_image(tmp_path / "nothere.png")
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(LivedreamError, match="broken.png"):
        load_image(corrupt, SIZE)
    with pytest.raises(LivedreamError, match="broken.png"):
        open_source(str(corrupt), SIZE)
    with pytest.raises(LivedreamError, match="size"):
        load_image(write_png(tmp_path / "ok.png", quadrant_image(4, 4)), size=(0, 10))


def test_generated_image_has_structure_and_is_deterministic() -> None:
    a = generated_image((320, 180), seed=0)
    assert a.shape == (1, 3, 180, 320) and a.dtype == torch.float32
    assert torch.isfinite(a).all() and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, generated_image((320, 180), seed=0))
    assert not torch.equal(a, generated_image((320, 180), seed=1))
    assert a.std() > 0.08  # colour and shapes, not a flat field
    assert a.std(dim=1).mean() > 0.05  # coloured, not grey
    # Mostly smooth: neighbouring pixels differ far less than the picture varies overall.
    assert (a[..., 1:] - a[..., :-1]).abs().mean() < 0.5 * a.std()


def test_generated_and_image_sources(tmp_path: Path) -> None:
    with open_source("generated", SIZE) as src:
        first = src.read()
        assert first.shape == (1, 3, 48, 64)
        first.zero_()  # a caller scribbling on a frame does not change the source
        assert torch.equal(src.read(), generated_image(SIZE, 0))
    assert torch.equal(open_source("generated:3", SIZE).read(), generated_image(SIZE, 3))
    path = write_png(tmp_path / "quad.png", quadrant_image(48, 64))
    src = open_source(str(path), SIZE)
    torch.testing.assert_close(src.read(), load_image(path, SIZE))
    src.close()


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def write_video(path: Path, size=(64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    for r, g, b in COLOURS:
        frame = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        frame[:] = (b, g, r)  # OpenCV writes BGR
        writer.write(frame)
    writer.release()
    return path


def test_video_source_plays_in_order_and_loops(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi")
    with open_source(str(path), (32, 24)) as src:
        frames = [src.read() for _ in range(len(COLOURS) * 2 + 1)]
    assert all(f.shape == (1, 3, 24, 32) for f in frames)
    for i, frame in enumerate(frames):
        expected = torch.tensor(COLOURS[i % len(COLOURS)], dtype=torch.float32) / 255
        torch.testing.assert_close(frame[0].mean(dim=(1, 2)), expected, atol=0.05, rtol=0)


def test_bad_specs_and_corrupt_video(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.avi"
    corrupt.write_bytes(b"RIFF" + bytes(500))
    with pytest.raises(LivedreamError, match="broken.avi"):
        open_source(str(corrupt), SIZE)
    with pytest.raises(LivedreamError, match="missing.mp4"):
        open_source(str(tmp_path / "missing.mp4"), SIZE)
    with pytest.raises(LivedreamError, match="webcam"):
        open_source("webcam:x", SIZE)
    with pytest.raises(LivedreamError, match="seed"):
        open_source("generated:abc", SIZE)
    with pytest.raises(LivedreamError, match="webcam 97"):
        open_source("webcam:97", SIZE)


def test_cover_resize_on_the_device_matches_fit_cover() -> None:
    from livedream.sources import fit_cover, rgb_to_device

    rgb = quadrant_image(100, 200)
    on_device = rgb_to_device(rgb, SIZE)
    reference = torch.from_numpy(fit_cover(rgb, SIZE)).permute(2, 0, 1).float() / 255
    assert on_device.shape == (1, 3, 48, 64)
    assert (on_device[0] - reference).abs().mean() < 0.02
    torch.testing.assert_close(rgb_to_device(rgb, None)[0], torch.from_numpy(rgb).permute(
        2, 0, 1).float() / 255)
