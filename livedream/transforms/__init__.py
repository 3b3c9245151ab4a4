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
