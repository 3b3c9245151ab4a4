"""Error types: each names what was wrong and what would be accepted, so a VJ can fix it live."""


class LivedreamError(Exception):
    """Base class for every error livedream reports to the user (printed, never a traceback)."""


class ModelFormatError(LivedreamError):
    """A model file (prototxt, caffemodel, checkpoint) is malformed, truncated or unsupported."""


class ModelUnavailableError(LivedreamError):
    """A model is known but its weights are not installed or cannot be fetched."""


class UnknownNameError(LivedreamError, KeyError):
    """A name (layer, transform, preset, parameter, model) is not one of the valid choices."""

    def __init__(self, kind: str, name: str, valid: list[str] | tuple[str, ...]) -> None:
        self.kind, self.name, self.valid = kind, name, list(valid)
        shown = ", ".join(self.valid[:60]) + (" ..." if len(self.valid) > 60 else "")
        super().__init__(f"unknown {kind} {name!r}; valid: {shown}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class ParamError(LivedreamError, ValueError):
    """A parameter value has the wrong type or lies outside its allowed range."""

    #: the mapping key that failed, set by `params.validate_params` so a caller (a preset file)
    #: can name it in its own words; None when no single key is to blame
    key: str | None = None


class PresetError(LivedreamError):
    """A preset file is unreadable or holds unknown keys / bad values (names file and key)."""
