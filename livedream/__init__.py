"""livedream: a live VJ DeepDream visualizer on a feedback buffer."""

__version__ = "0.1.0"
