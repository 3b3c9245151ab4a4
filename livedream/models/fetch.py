"""Download model weights that cannot ship in a wheel, into a user cache dir, checksum-verified.

Only BVLC GoogLeNet needs this (the classic DeepDream network). The download streams to a temp
file in the cache dir while hashing it, and the file is renamed into place only when its SHA-1
matches the published one, so a half-finished or tampered download never looks installed.
Without a network the error says where to put a manually downloaded copy and how to check it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from livedream.errors import ModelFormatError, ModelUnavailableError, UnknownNameError

CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """A downloadable weights file: canonical URL, file name in the cache, published SHA-1."""

    url: str
    filename: str
    sha1: str


#: name -> where its weights come from; tests monkeypatch entries here
REMOTE_FILES: dict[str, RemoteFile] = {
    "bvlc_googlenet": RemoteFile(
        url="http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
        filename="bvlc_googlenet.caffemodel",
        sha1="405fc5acd08a3bb12de8ee5e23a96bec22f08204",
    ),
}

Opener = Callable[..., IO[bytes]]
Progress = Callable[[int, int | None], None]


def default_cache_dir() -> Path:
    """`$LIVEDREAM_CACHE`, else `$XDG_CACHE_HOME/livedream`, else `~/.cache/livedream`."""
    if os.environ.get("LIVEDREAM_CACHE"):
        return Path(os.environ["LIVEDREAM_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "livedream"
    return Path.home() / ".cache" / "livedream"


def remote_file(name: str) -> RemoteFile:
    """The download entry for `name`; UnknownNameError listing fetchable names otherwise."""
    try:
        return REMOTE_FILES[name]
    except KeyError:
        raise UnknownNameError("fetchable model", name, sorted(REMOTE_FILES)) from None


def cached_path(name: str, directory: str | Path | None = None) -> Path:
    """Where `name`'s weights live (or would live) in the cache dir."""
    return Path(directory or default_cache_dir()) / remote_file(name).filename


def sha1_of(path: str | Path) -> str:
    """Hex SHA-1 of a file, read in chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | Path, expected_sha1: str | None = None) -> bool:
    """True when `path` exists and its SHA-1 matches `expected_sha1`.

    Without `expected_sha1` the file name must be one of the known downloads (e.g.
    bvlc_googlenet.caffemodel) and its published checksum is used.
    """
    path = Path(path)
    if expected_sha1 is None:
        by_filename = {rf.filename: rf for rf in REMOTE_FILES.values()}
        if path.name not in by_filename:
            raise UnknownNameError("known weights file", path.name, sorted(by_filename))
        expected_sha1 = by_filename[path.name].sha1
    return path.is_file() and sha1_of(path) == expected_sha1.lower()


def _manual_instructions(rf: RemoteFile, target: Path) -> str:
    return (
        f"download {rf.url} by hand (e.g. on another machine) and place it at {target}; "
        f"check it with `sha1sum {target}`, which must print {rf.sha1}"
    )


def fetch_model(
    name: str,
    cache_dir: str | Path | None = None,
    url: str | None = None,
    opener: Opener | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Make sure `name`'s weights are in the cache dir (downloading if needed); return the path.

    `url` overrides the canonical URL and `opener` (default `urllib.request.urlopen`, called as
    `opener(url, timeout=...)`) the transport, for mirrors and tests. A checksum mismatch deletes
    the download and raises ModelFormatError; no network raises ModelUnavailableError with
    instructions for placing the file by hand.
    """
    rf = remote_file(name)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = directory / rf.filename
    if verify_file(target, rf.sha1):
        return target
    source = url or rf.url
    open_url: Opener = opener or urllib.request.urlopen
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUnavailableError(f"cannot create cache dir {directory}: {exc}") from exc

    fd, tmp_name = tempfile.mkstemp(prefix=f".{rf.filename}.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    digest = hashlib.sha1()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with open_url(source, timeout=timeout) as response:
                    length = _content_length(response)
                    done = 0
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, length)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise ModelUnavailableError(
                    f"could not download {name} from {source} ({reason}); "
                    + _manual_instructions(rf, target)
                ) from exc
        got = digest.hexdigest()
        if got != rf.sha1.lower():
            raise ModelFormatError(
                f"download of {name} from {source} has SHA-1 {got}, expected {rf.sha1}; "
                "the file was discarded (corrupt or wrong file)"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _content_length(response: object) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
