"""Caffe model importer written here: deploy prototxt (text format) + .caffemodel (binary protobuf)
into a frozen torch `CaffeNet` whose every top blob can be dreamed on.

Public API: `load_caffe`, `CaffeNet`, `parse_prototxt`, `read_caffemodel`, `googlenet_prototxt`.
"""

from livedream.models.caffe.caffemodel import read_caffemodel
from livedream.models.caffe.googlenet import googlenet_prototxt
from livedream.models.caffe.net import CaffeNet, build_net, load_caffe
from livedream.models.caffe.prototxt import parse_prototxt

__all__ = [
    "CaffeNet",
    "build_net",
    "googlenet_prototxt",
    "load_caffe",
    "parse_prototxt",
    "read_caffemodel",
]
