"""`livedream layers MODEL [--weights W] [--size WxH]`: dreamable layers and their output shapes.

The model can also be given as `--model MODEL`, as for `livedream run` and `livedream render`.
"""

from __future__ import annotations

import argparse

from livedream.errors import ParamError
from livedream.models import registry
from livedream.params import parse_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", default=None,
                        help="built-in name (see `livedream models`) or deploy.prototxt")
    parser.add_argument("--model", dest="model_option", default=None, metavar="MODEL",
                        help="the same as the positional MODEL (as in `run` and `render`)")
    parser.add_argument("--weights", default=None, help="weights file (.caffemodel for a prototxt)")
    parser.add_argument("--size", default="224x224", help="input WIDTHxHEIGHT (default 224x224)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto ... (default cpu)")


def model_argument(args: argparse.Namespace) -> str:
    """The model named by the positional MODEL or by --model (one of them, or both alike)."""
    given = {m for m in (args.model, args.model_option) if m is not None}
    if not given:
        raise ParamError("give the model: `livedream layers MODEL` or `--model MODEL` "
                         "(a built-in name, see `livedream models`, or a deploy.prototxt)")
    if len(given) > 1:
        raise ParamError(f"two models given: {args.model!r} and --model {args.model_option!r}; "
                         "give one")
    return given.pop()


def run(args: argparse.Namespace) -> int:
    """Print each layer name with its [B, C, H, W] output shape; mark the default layer."""
    name = model_argument(args)
    width, height = parse_size(args.size)
    if registry.is_prototxt(name) and args.weights is None:
        # Shapes need no trained weights: list a user's Caffe net straight from its prototxt.
        # (Imported here: the Caffe importer is optional in a build, see registry._import_caffe.)
        from livedream.models.caffe import load_caffe

        model = load_caffe(name, None).to(args.device)
    else:
        model = registry.load_model(name, args.weights, args.device)
    default = registry.default_layer(name) if name in registry.BUILTINS else None
    shapes = model.layer_shapes(height, width)  # the layers that can run at this size
    if not shapes or (default is not None and default not in shapes):
        needed = f"its default layer {default!r}" if shapes else "its first layer"
        raise ParamError(f"--size {width}x{height}: too small for model {model.name!r} "
                         f"({needed} cannot run at this size)")
    print(f"{model.name} at {width}x{height} (width x height):")
    name_width = max((len(n) for n in shapes), default=0)
    for name, shape in shapes.items():
        mark = "  (default)" if name == default else ""
        print(f"  {name.ljust(name_width)}  {list(shape)}{mark}")
    skipped = [n for n in model.layer_names() if n not in shapes]
    if skipped:
        print(f"  ({len(skipped)} later layers, {skipped[0]} ... {skipped[-1]}, "
              "cannot run at this size)")
    return 0
