"""A small, bounded reader for the protobuf binary wire format (what a .caffemodel is made of).

Every read is checked against the end of the enclosing message, so a truncated or corrupted file
raises `ModelFormatError` naming the byte offset instead of hanging or allocating wildly. Offsets
are absolute positions in the file, because messages are read as (start, end) spans of one buffer.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from livedream.errors import ModelFormatError

VARINT, FIXED64, LENGTH_DELIMITED, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5
_MAX_VARINT_BYTES = 10
_MAX_FIELD_NUMBER = (1 << 29) - 1


@dataclass(frozen=True)
class Field:
    """One decoded field: number, wire type, and either an int (varint) or a byte span."""

    number: int
    wire_type: int
    value: int  # the varint value, or the start of the payload for the other wire types
    end: int  # end of the payload (== start of the next field)
    offset: int  # where the field's tag starts, for error messages

    @property
    def start(self) -> int:
        return self.value


class WireReader:
    """Reads protobuf fields from `data[start:end]` spans; `source` names the file in errors."""

    def __init__(self, data: bytes | bytearray | memoryview, source: str) -> None:
        self.data = memoryview(data).cast("B")
        self.source = source

    def error(self, message: str, offset: int) -> ModelFormatError:
        return ModelFormatError(f"{self.source}: {message} at byte {offset}")

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        """Decode a varint at `pos` (must finish before `end`); returns (value, next position)."""
        result = shift = 0
        start = pos
        while True:
            if pos >= end:
                raise self.error("truncated varint", start)
            if pos - start >= _MAX_VARINT_BYTES:
                raise self.error("varint longer than 10 bytes", start)
            byte = self.data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result & 0xFFFFFFFFFFFFFFFF, pos

    def next_field(self, pos: int, end: int) -> Field:
        """Decode the field whose tag starts at `pos`, validating its length against `end`."""
        offset = pos
        tag, pos = self.varint(pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0 or number > _MAX_FIELD_NUMBER:
            raise self.error(f"invalid field number {number}", offset)
        if wire_type == VARINT:
            value, pos = self.varint(pos, end)
            return Field(number, wire_type, value, pos, offset)
        if wire_type == FIXED64:
            size = 8
        elif wire_type == FIXED32:
            size = 4
        elif wire_type == LENGTH_DELIMITED:
            size, pos = self.varint(pos, end)
        else:
            raise self.error(f"unsupported wire type {wire_type} (field {number})", offset)
        if size > end - pos:
            raise self.error(f"field {number} needs {size} bytes but only {end - pos} remain",
                             offset)
        return Field(number, wire_type, pos, pos + size, offset)

    def fields(self, start: int, end: int) -> Iterator[Field]:
        """Yield the fields of the message occupying `data[start:end]`."""
        if end > len(self.data) or start > end:
            raise self.error("message extends past the end of the file", start)
        pos = start
        while pos < end:
            field = self.next_field(pos, end)
            yield field
            pos = field.end

    # --- scalar decoding helpers ----------------------------------------------------------------
    def expect(self, field: Field, wire_type: int, what: str) -> None:
        """Raise unless `field` has the wire type its schema says (`what` names it for the user)."""
        if field.wire_type != wire_type:
            raise self.error(f"{what} has wire type {field.wire_type}, expected {wire_type}",
                             field.offset)

    def string(self, field: Field, what: str) -> str:
        self.expect(field, LENGTH_DELIMITED, what)
        try:
            return bytes(self.data[field.start:field.end]).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"{what} is not valid UTF-8", field.offset) from None

    def float32(self, field: Field) -> float:
        return struct.unpack_from("<f", self.data, field.start)[0]

    def float64(self, field: Field) -> float:
        return struct.unpack_from("<d", self.data, field.start)[0]

    def packed_varints(self, field: Field, limit: int, what: str) -> list[int]:
        """Decode a packed repeated varint field (at most `limit` values, else an error)."""
        values: list[int] = []
        pos = field.start
        while pos < field.end:
            if len(values) >= limit:
                raise self.error(f"{what} has more than {limit} values", field.offset)
            value, pos = self.varint(pos, field.end)
            values.append(value)
        return values

    def packed_array(self, field: Field, dtype: str, what: str) -> np.ndarray:
        """A packed repeated fixed-width field as a (copied, native-endian) numpy array."""
        itemsize = np.dtype(dtype).itemsize
        size = field.end - field.start
        if size % itemsize:
            raise self.error(f"{what}: packed length {size} is not a multiple of {itemsize}",
                             field.offset)
        raw = np.frombuffer(self.data, dtype=dtype, count=size // itemsize, offset=field.start)
        return raw.astype(raw.dtype.newbyteorder("="), copy=True)

    def unpacked_run(self, field: Field, dtype: str, end: int) -> tuple[np.ndarray, int]:
        """Values of an unpacked repeated fixed-width field starting at `field`, read in bulk.

        Writers that do not pack emit `tag value tag value ...`; we read the longest run of
        consecutive records that repeat this field's one-byte tag (checking in growing chunks so
        the work stays proportional to the run). Returns (values, position after the run).
        """
        tag_size = field.start - field.offset
        tag = self.data[field.offset]
        if tag_size != 1:  # multi-byte tag: no bulk path, the run is just this one value
            value = np.frombuffer(self.data, dtype=dtype, count=1, offset=field.start)
            return value.astype(value.dtype.newbyteorder("=")), field.end
        record = np.dtype([("tag", "u1"), ("value", dtype)])
        available = (end - field.offset) // record.itemsize
        records = np.frombuffer(self.data, dtype=record, count=available, offset=field.offset)
        run, chunk = 0, 1024
        while run < available:
            tags = records["tag"][run:run + chunk]
            mismatch = np.flatnonzero(tags != tag)
            if mismatch.size:
                run += int(mismatch[0])
                break
            run += tags.size
            chunk *= 2
        values = records["value"][:run]
        return values.astype(values.dtype.newbyteorder("=")), field.offset + run * record.itemsize
