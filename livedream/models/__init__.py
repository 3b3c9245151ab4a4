"""CNNs to dream with: built-in offline models, the Caffe importer and the model registry."""

from livedream.models.base import DreamModel, Preprocess

__all__ = ["DreamModel", "Preprocess"]
