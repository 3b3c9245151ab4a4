"""Weights download: cache dir, offline failure, SHA-1 match and mismatch (no real network)."""

from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import pytest

from livedream.errors import ModelFormatError, ModelUnavailableError, UnknownNameError
from livedream.models import fetch

PAYLOAD = b"pretend caffemodel " * 1000
PUBLISHED_SHA1 = "405fc5acd08a3bb12de8ee5e23a96bec22f08204"


@pytest.fixture
def expect_payload(monkeypatch) -> fetch.RemoteFile:
    """Make bvlc_googlenet's expected checksum that of PAYLOAD."""
    real = fetch.REMOTE_FILES["bvlc_googlenet"]
    entry = fetch.RemoteFile(real.url, real.filename, hashlib.sha1(PAYLOAD).hexdigest())
    monkeypatch.setitem(fetch.REMOTE_FILES, "bvlc_googlenet", entry)
    return entry


def _no_leftovers(directory: Path) -> bool:
    return not directory.exists() or not any(p.name.endswith(".part") for p in directory.iterdir())


def test_published_checksum_and_url() -> None:
    rf = fetch.REMOTE_FILES["bvlc_googlenet"]
    assert rf.sha1 == PUBLISHED_SHA1
    assert rf.url == "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel"


def test_cache_dir_precedence(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LIVEDREAM_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert fetch.default_cache_dir() == tmp_path / "home" / ".cache" / "livedream"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch.default_cache_dir() == tmp_path / "xdg" / "livedream"
    monkeypatch.setenv("LIVEDREAM_CACHE", str(tmp_path / "ld"))
    assert fetch.default_cache_dir() == tmp_path / "ld"
    assert fetch.cached_path("bvlc_googlenet") == tmp_path / "ld" / "bvlc_googlenet.caffemodel"


def test_offline_failure_says_how_to_place_the_file(tmp_path) -> None:
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(ModelUnavailableError) as info:
        fetch.fetch_model("bvlc_googlenet", cache_dir=tmp_path, opener=offline)
    text = str(info.value)
    target = tmp_path / "bvlc_googlenet.caffemodel"
    assert str(target) in text and f"sha1sum {target}" in text and PUBLISHED_SHA1 in text
    assert "dl.caffe.berkeleyvision.org" in text and "name resolution" in text
    assert not target.exists() and _no_leftovers(tmp_path)


def test_matching_download_is_installed(tmp_path, expect_payload) -> None:
    source = tmp_path / "mirror" / "g.caffemodel"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    seen: list[tuple[int, int | None]] = []
    cache = tmp_path / "cache"
    path = fetch.fetch_model("bvlc_googlenet", cache_dir=cache, url=source.as_uri(),
                             progress=lambda done, total: seen.append((done, total)))
    assert path == cache / "bvlc_googlenet.caffemodel"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1][0] == len(PAYLOAD)
    assert _no_leftovers(cache)
    assert fetch.verify_file(path, expect_payload.sha1)
    assert fetch.verify_file(path)  # by file name -> the (patched) published checksum

    def must_not_download(url, timeout=None):
        raise AssertionError("already installed, no download expected")

    assert fetch.fetch_model("bvlc_googlenet", cache_dir=cache, opener=must_not_download) == path


def test_mismatch_deletes_the_download(tmp_path) -> None:
    source = tmp_path / "wrong.caffemodel"
    source.write_bytes(PAYLOAD)  # expected checksum stays the real published one
    cache = tmp_path / "cache"
    with pytest.raises(ModelFormatError, match=hashlib.sha1(PAYLOAD).hexdigest()) as info:
        fetch.fetch_model("bvlc_googlenet", cache_dir=cache, url=source.as_uri())
    assert PUBLISHED_SHA1 in str(info.value)
    assert not (cache / "bvlc_googlenet.caffemodel").exists()
    assert _no_leftovers(cache)


def test_corrupt_cached_file_is_replaced(tmp_path, expect_payload) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bvlc_googlenet.caffemodel").write_bytes(b"half a file")
    source = tmp_path / "good.caffemodel"
    source.write_bytes(PAYLOAD)
    path = fetch.fetch_model("bvlc_googlenet", cache_dir=cache, url=source.as_uri())
    assert path.read_bytes() == PAYLOAD


def test_missing_file_url_is_unavailable(tmp_path) -> None:
    url = (tmp_path / "absent.caffemodel").as_uri()
    with pytest.raises(ModelUnavailableError, match="by hand"):
        fetch.fetch_model("bvlc_googlenet", cache_dir=tmp_path / "c", url=url)


def test_verify_file_with_sha1_test_vector(tmp_path) -> None:
    path = tmp_path / "abc.bin"
    path.write_bytes(b"abc")  # FIPS 180 test vector: SHA-1("abc")
    assert fetch.verify_file(path, "a9993e364706816aba3e25717850c26c9cd0d89d")
    assert fetch.verify_file(path, "A9993E364706816ABA3E25717850C26C9CD0D89D")
    assert not fetch.verify_file(path, PUBLISHED_SHA1)
    assert not fetch.verify_file(tmp_path / "missing.bin", PUBLISHED_SHA1)
    with pytest.raises(UnknownNameError, match="bvlc_googlenet.caffemodel"):
        fetch.verify_file(path)
    wrong = tmp_path / "bvlc_googlenet.caffemodel"
    wrong.write_bytes(b"abc")
    assert fetch.verify_file(wrong) is False


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownNameError, match="bvlc_googlenet"):
        fetch.fetch_model("vgg19")
