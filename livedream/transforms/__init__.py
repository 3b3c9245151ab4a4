"""Feedback transforms. Importing this package registers every built-in transform."""

from livedream.transforms.registry import (
    TransformSpec,
    apply_chain,
    apply_transform,
    get_transform,
    make_link,
    transform,
    transform_names,
)

__all__ = [
    "TransformSpec",
    "apply_chain",
    "apply_transform",
    "get_transform",
    "make_link",
    "transform",
    "transform_names",
]

# Built-in transforms register themselves on import. These come after the registry import above,
# so a direct `import livedream.transforms.geometry` (which first runs this package) and
# registry._ensure_loaded() both see a fully built registry module and no import cycle.
from livedream.transforms import colour, edges, geometry, glitch, roll  # noqa: E402, F401
