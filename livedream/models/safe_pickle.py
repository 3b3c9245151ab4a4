"""A pickle reader that can only rebuild numpy arrays, for weight files we did not write.

`pickle.load` runs whatever callable a file names, so a weight checkpoint from a package could
execute code. `load_numpy_pickle` resolves only the handful of globals that numpy's own array
pickling emits (array/dtype/scalar reconstruction and the latin-1 bytes helper of protocol 2);
dicts, lists, tuples, strings and numbers need no globals at all. Any other global is refused
before it is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from livedream.errors import ModelFormatError
from livedream.files import read_bytes

try:  # numpy >= 2 moved the implementation to numpy._core; old pickles still name numpy.core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


def _codecs_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Protocol-2 pickles store array bytes as `_codecs.encode(latin1_text, 'latin1')`."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ModelFormatError(f"pickle asked for _codecs.encode with encoding {encoding!r}")
    return text.encode(encoding, errors)


_ARRAY_GLOBALS: dict[str, Any] = {
    "_reconstruct": _multiarray._reconstruct,
    "scalar": _multiarray.scalar,
}

#: (module, name) -> the object it resolves to; everything else is refused.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(mod, name): obj for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
       for name, obj in _ARRAY_GLOBALS.items()},
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _codecs_encode,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose `find_class` resolves only numpy array reconstruction helpers."""

    def __init__(self, file: io.BufferedIOBase, source: str = "<pickle>") -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ModelFormatError(
                f"{self.source}: refusing to load {module}.{name} from a weight pickle "
                "(only numpy arrays are allowed)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise ModelFormatError(f"{self.source}: pickle uses persistent ids, which are not allowed")


def loads_numpy_pickle(data: bytes, source: str = "<bytes>") -> Any:
    """Unpickle `data` allowing only numpy arrays; errors are ModelFormatErrors naming `source`."""
    try:
        return NumpyOnlyUnpickler(io.BytesIO(data), source).load()
    except ModelFormatError as exc:  # e.g. from _codecs_encode, which does not know the file
        if str(exc).startswith(source):
            raise
        raise ModelFormatError(f"{source}: {exc}") from None
    except RecursionError:
        raise ModelFormatError(f"{source}: pickle is nested too deeply") from None
    except Exception as exc:  # UnpicklingError, EOFError, ValueError, TypeError, MemoryError...
        raise ModelFormatError(
            f"{source}: truncated or corrupt pickle ({type(exc).__name__}: {exc})"
        ) from exc


def load_numpy_pickle(path: str | Path) -> Any:
    """Read a pickle file of (nested dicts/lists of) numpy arrays without running its code."""
    return loads_numpy_pickle(read_bytes(path, "weights file", ModelFormatError), str(path))
