"""BVLC GoogLeNet's deploy prototxt, generated from the architecture table of Szegedy et al. 2014
("Going deeper with convolutions", Table 1) with the layer and blob names BVLC Caffe uses, so the
published `bvlc_googlenet.caffemodel` loads into it.
"""

from __future__ import annotations

#: inception module -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), from Table 1
INCEPTION: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
#: the max-pooling layer that precedes each stage's first module
STAGE_POOL = {"3a": ("pool2/3x3_s2", "conv2/norm2"), "4a": ("pool3/3x3_s2", "inception_3b/output"),
              "5a": ("pool4/3x3_s2", "inception_4e/output")}
SHA1 = "405fc5acd08a3bb12de8ee5e23a96bec22f08204"  # of the published bvlc_googlenet.caffemodel


def _conv(name: str, bottom: str, outputs: int, kernel: int, stride: int = 1, pad: int = 0,
          relu: str | None = None) -> list[str]:
    lines = [
        "layer {", f'  name: "{name}"', '  type: "Convolution"', f'  bottom: "{bottom}"',
        f'  top: "{name}"', "  convolution_param {", f"    num_output: {outputs}",
    ]
    if pad:
        lines.append(f"    pad: {pad}")
    lines.append(f"    kernel_size: {kernel}")
    if stride != 1:
        lines.append(f"    stride: {stride}")
    lines += ["  }", "}"]
    if relu:
        lines += _simple(relu, "ReLU", name, name)
    return lines


def _simple(name: str, kind: str, bottom: str | list[str], top: str, body: str = "") -> list[str]:
    bottoms = [bottom] if isinstance(bottom, str) else bottom
    lines = ["layer {", f'  name: "{name}"', f'  type: "{kind}"']
    lines += [f'  bottom: "{b}"' for b in bottoms]
    lines.append(f'  top: "{top}"')
    if body:
        lines.append(f"  {body}")
    lines.append("}")
    return lines


def _pool(name: str, bottom: str, method: str, kernel: int, stride: int, pad: int = 0) -> list[str]:
    padding = f" pad: {pad}" if pad else ""
    return _simple(name, "Pooling", bottom, name,
                   f"pooling_param {{ pool: {method} kernel_size: {kernel} stride: {stride}"
                   f"{padding} }}")


def _lrn(name: str, bottom: str) -> list[str]:
    return _simple(name, "LRN", bottom, name,
                   "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }")


def _inception(module: str, bottom: str) -> list[str]:
    n1, r3, n3, r5, n5, proj = INCEPTION[module]
    p = f"inception_{module}"
    lines = _conv(f"{p}/1x1", bottom, n1, 1, relu=f"{p}/relu_1x1")
    lines += _conv(f"{p}/3x3_reduce", bottom, r3, 1, relu=f"{p}/relu_3x3_reduce")
    lines += _conv(f"{p}/3x3", f"{p}/3x3_reduce", n3, 3, pad=1, relu=f"{p}/relu_3x3")
    lines += _conv(f"{p}/5x5_reduce", bottom, r5, 1, relu=f"{p}/relu_5x5_reduce")
    lines += _conv(f"{p}/5x5", f"{p}/5x5_reduce", n5, 5, pad=2, relu=f"{p}/relu_5x5")
    lines += _pool(f"{p}/pool", bottom, "MAX", 3, 1, pad=1)
    lines += _conv(f"{p}/pool_proj", f"{p}/pool", proj, 1, relu=f"{p}/relu_pool_proj")
    lines += _simple(f"{p}/output", "Concat", [f"{p}/1x1", f"{p}/3x3", f"{p}/5x5",
                                              f"{p}/pool_proj"], f"{p}/output")
    return lines


def googlenet_prototxt(height: int = 224, width: int = 224) -> str:
    """BVLC GoogLeNet deploy prototxt for a 1x3xHxW input (224x224 is what it was trained on).

    The size only fixes the shapes inferred at load time: blobs up to `inception_5b/output` work
    on any input size later. `pool5/7x7_s1` needs inputs of about 200x200 or more, and the
    classifier (`loss3/classifier`, `prob`) only accepts what pools to 1x1 (224x224).
    """
    if height < 1 or width < 1:
        raise ValueError(f"input size must be positive, got {height}x{width}")
    lines = ['name: "GoogleNet"', "layer {", '  name: "data"', '  type: "Input"', '  top: "data"',
             f"  input_param {{ shape {{ dim: 1 dim: 3 dim: {height} dim: {width} }} }}", "}"]
    lines += _conv("conv1/7x7_s2", "data", 64, 7, stride=2, pad=3, relu="conv1/relu_7x7")
    lines += _pool("pool1/3x3_s2", "conv1/7x7_s2", "MAX", 3, 2)
    lines += _lrn("pool1/norm1", "pool1/3x3_s2")
    lines += _conv("conv2/3x3_reduce", "pool1/norm1", 64, 1, relu="conv2/relu_3x3_reduce")
    lines += _conv("conv2/3x3", "conv2/3x3_reduce", 192, 3, pad=1, relu="conv2/relu_3x3")
    lines += _lrn("conv2/norm2", "conv2/3x3")
    bottom = ""
    for module in INCEPTION:
        if module in STAGE_POOL:
            pool_name, pool_bottom = STAGE_POOL[module]
            lines += _pool(pool_name, pool_bottom, "MAX", 3, 2)
            bottom = pool_name
        lines += _inception(module, bottom)
        bottom = f"inception_{module}/output"
    lines += _pool("pool5/7x7_s1", bottom, "AVE", 7, 1)
    lines += _simple("pool5/drop_7x7_s1", "Dropout", "pool5/7x7_s1", "pool5/7x7_s1",
                     "dropout_param { dropout_ratio: 0.4 }")
    lines += _simple("loss3/classifier", "InnerProduct", "pool5/7x7_s1", "loss3/classifier",
                     "inner_product_param { num_output: 1000 }")
    lines += _simple("prob", "Softmax", "loss3/classifier", "prob")
    return "\n".join(lines) + "\n"
