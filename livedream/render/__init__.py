"""Offline rendering of a look to mp4 / GIF / numbered PNGs (`livedream render`).

The names are imported lazily so that `livedream --help` does not pay for torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RenderResult", "output_kind", "render"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from livedream.render import offline

        return getattr(offline, name)
    raise AttributeError(f"module 'livedream.render' has no attribute {name!r}")
