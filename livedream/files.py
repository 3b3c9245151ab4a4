"""Reading a user's file (model, weights, preset): the one place that turns an unreadable,
oversized or undecodable file into a LivedreamError naming the file and the reason."""

from __future__ import annotations

import os

from livedream.errors import LivedreamError


def read_bytes(
    path: str | os.PathLike[str],
    what: str,
    error: type[LivedreamError] = LivedreamError,
    limit: int | None = None,
) -> bytes:
    """The bytes of `path`; `error` '<path>: cannot read <what>: <reason>' when it cannot be read,
    or when it is larger than `limit` bytes (read no further than that: a hostile file is
    bounded)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read() if limit is None else fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{os.fspath(path)}: cannot read {what}: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise error(f"{os.fspath(path)}: cannot read {what}: larger than {limit} bytes")
    return data


def read_text(
    path: str | os.PathLike[str],
    what: str,
    error: type[LivedreamError] = LivedreamError,
    limit: int | None = None,
) -> str:
    """`read_bytes` decoded as UTF-8; a file that is not UTF-8 text is the same kind of error."""
    data = read_bytes(path, what, error, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{os.fspath(path)}: cannot read {what}: not UTF-8 text ({exc.reason})"
        ) from None
