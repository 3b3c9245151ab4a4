"""Parse protobuf text format (Caffe's `deploy.prototxt`) into plain dicts, without a schema.

Messages become dicts; a field that Caffe declares `repeated` (layer, bottom, top, dim, ...) is
always a list, any other field is a scalar unless it occurs more than once. Scalars are str
(strings and enum identifiers), int, float or bool. Errors name the source, line and column.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from livedream.errors import ModelFormatError

#: Caffe fields declared `repeated` (so a single occurrence is still a list)
REPEATED_FIELDS = frozenset({
    "layer", "layers", "bottom", "top", "input", "input_dim", "input_shape", "shape", "dim",
    "param", "blobs", "include", "exclude", "pad", "kernel_size", "stride", "dilation", "coeff",
    "loss_weight", "propagate_down", "blobs_lr", "weight_decay", "stage", "not_stage",
    "slice_point",
})
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n\f\v]+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?)
  | (?P<ident>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}<>:\[\],;])
    """,
    re.VERBOSE,
)
_INT = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|\d+)")
_SPECIAL_FLOATS = {"inf": float("inf"), "infinity": float("inf"), "nan": float("nan")}


class _Tokens:
    """A cursor over (kind, text, offset) tokens of one text."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise self.error(f"unexpected character {text[pos]!r}", pos)
            kind = match.lastgroup or ""
            if kind != "space":
                self.tokens.append((kind, match.group(), pos))
            pos = match.end()
        self.index = 0

    def error(self, message: str, offset: int | None = None) -> ModelFormatError:
        if offset is None:
            offset = self.tokens[self.index][2] if self.index < len(self.tokens) else len(self.text)
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return ModelFormatError(f"{self.source}:{line}:{column}: {message}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of text")
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "punct" and token[1] == text:
            self.index += 1
            return True
        return False


def parse_prototxt(text: str, source: str = "<prototxt>") -> dict[str, Any]:
    """Parse protobuf text format into nested dicts (see the module docstring for the mapping)."""
    tokens = _Tokens(text, source)
    return _parse_message(tokens, closing=None, depth=0)


def _parse_message(tokens: _Tokens, closing: str | None, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise tokens.error(f"messages nested deeper than {MAX_DEPTH} levels")
    message: dict[str, Any] = {}
    listed: set[str] = set()
    while True:
        token = tokens.peek()
        if token is None:
            if closing is not None:
                raise tokens.error(f"missing {closing!r} before end of text")
            return message
        if closing is not None and tokens.accept(closing):
            return message
        kind, name, offset = tokens.take()
        if kind != "ident" or name.startswith("-"):
            raise tokens.error(f"expected a field name, found {name!r}", offset)
        has_colon = tokens.accept(":")
        if tokens.accept("{"):
            values: list[Any] = [_parse_message(tokens, "}", depth + 1)]
        elif tokens.accept("<"):
            values = [_parse_message(tokens, ">", depth + 1)]
        elif not has_colon:
            raise tokens.error(f"expected ':' or '{{' after field {name!r}")
        elif tokens.accept("["):
            values = _parse_list(tokens, depth)
        else:
            values = [_parse_scalar(tokens)]
        _store(message, listed, name, values)
        tokens.accept(",") or tokens.accept(";")


def _parse_list(tokens: _Tokens, depth: int) -> list[Any]:
    """The `[a, b, c]` short form of a repeated field (scalars or messages)."""
    values: list[Any] = []
    if tokens.accept("]"):
        return values
    while True:
        if tokens.accept("{"):
            values.append(_parse_message(tokens, "}", depth + 1))
        elif tokens.accept("<"):
            values.append(_parse_message(tokens, ">", depth + 1))
        else:
            values.append(_parse_scalar(tokens))
        if tokens.accept("]"):
            return values
        if not tokens.accept(","):
            raise tokens.error("expected ',' or ']' in list")


def _parse_scalar(tokens: _Tokens) -> str | int | float | bool:
    kind, text, offset = tokens.take()
    if kind == "string":
        value = _unquote(tokens, text, offset)
        while (nxt := tokens.peek()) is not None and nxt[0] == "string":  # "a" "b" concatenates
            tokens.take()
            value += _unquote(tokens, nxt[1], nxt[2])
        return value
    if kind == "number":
        body = text.rstrip("fF") if not text.lower().startswith(("0x", "-0x")) else text
        if _INT.fullmatch(body) and body == text:
            return int(body, 0) if "x" in body.lower() else int(body)
        try:
            return float(body)
        except ValueError:
            raise tokens.error(f"bad number {text!r}", offset) from None
    if kind == "ident":
        bare = text.lstrip("-").lower()
        if bare in _SPECIAL_FLOATS:
            value = _SPECIAL_FLOATS[bare]
            return -value if text.startswith("-") else value
        if text.startswith("-"):
            raise tokens.error(f"bad value {text!r}", offset)
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        return text  # an enum value such as MAX or ACROSS_CHANNELS
    raise tokens.error(f"expected a value, found {text!r}", offset)


def _unquote(tokens: _Tokens, text: str, offset: int) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. an unknown escape such as "\\q"
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise tokens.error(f"bad string literal {text}", offset) from None
    if not isinstance(value, str):
        raise tokens.error(f"bad string literal {text}", offset)
    return value


def _store(message: dict[str, Any], listed: set[str], name: str, values: list[Any]) -> None:
    """Add `values` of field `name`; `listed` holds the names already stored as lists."""
    if name in message:
        if name not in listed:
            message[name] = [message[name]]
            listed.add(name)
        message[name].extend(values)
    elif name in REPEATED_FIELDS or len(values) != 1:
        message[name] = list(values)
        listed.add(name)
    else:
        message[name] = values[0]
