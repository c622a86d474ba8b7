"""The data-only encoding of the review cache: typed MessagePack, validated on decode.

A `TypedCodec` is built once for a type (`dict[str, ProjectReads]`) from its annotations; an
`EntriesCodec` for the values of a path-keyed file (`CacheEntry`, `ModuleFacts`) that a save
after an edit mostly writes back as it was read. The values are records (`backbone.records`):
frozen structs that MessagePack carries as arrays tagged with the class name, so that unions of
records (`RouteDeclaration`, `ModelDeclaration`) decode into the right class, and that decoding
builds them directly, converting nothing. Decoding builds only strings, numbers, booleans, enum
members, tuples, frozensets, dicts and those records, and checks every value against its
annotation: a file of the wrong shape is rejected as a whole, and nothing in a file can name a
class or a function to call. Building a codec for a type it cannot represent (a class, `Any`,
a recursive record, a struct that is not a record) is a programming error and raises.
"""

from __future__ import annotations

import enum
import re
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from backbone.records import Record

T = TypeVar("T")

_SCALARS: frozenset[object] = frozenset({str, int, float, bool, bytes, type(None)})
_COLLECTIONS: frozenset[object] = frozenset({tuple, frozenset, list})

# What decoding bytes that are not a valid encoding of the type raises (a record's own
# __post_init__ refusing a value it was given is a ValidationError too).
_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, MemoryError)


class TypedCodec(Generic[T]):
    """Encodes values of one type to bytes and decodes bytes back, or to None when invalid."""

    def __init__(self, annotation: object, names: Mapping[str, object] | None = None) -> None:
        _check(annotation, dict(names or {}))
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(annotation)

    def encode(self, value: T) -> bytes:
        return self._encoder.encode(value)

    def decode(self, data: bytes) -> T | None:
        try:
            return typing.cast(T, self._decoder.decode(data))
        except _UNDECODABLE:
            return None


class EntriesCodec(Generic[T]):
    """A `dict[str, T]` that keeps each entry's wire form, its encoded bytes as read: a save
    encodes only the entries that changed since the load (or the last save) and writes the
    others' bytes as they were (the file is the same map of the same entries either way)."""

    def __init__(self, annotation: object, names: Mapping[str, object] | None = None) -> None:
        _check(annotation, dict(names or {}))
        self._encoder = msgspec.msgpack.Encoder()
        self._entries: msgspec.msgpack.Decoder[dict[str, msgspec.Raw]] = msgspec.msgpack.Decoder(dict[str, msgspec.Raw])
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(annotation)

    def decode(self, data: bytes) -> dict[str, T] | None:
        """The entries, or None when `data` is invalid (as a whole)."""
        decoded = self.decode_keeping_wire(data)
        return decoded[0] if decoded is not None else None

    def encode(self, entries: Mapping[str, T]) -> bytes:
        return self.encode_reusing_wire(entries, {})[0]

    def decode_keeping_wire(self, data: bytes) -> tuple[dict[str, T], dict[str, Any]] | None:
        """The entries and their wire forms, or None when `data` is invalid (as a whole)."""
        decode = self._decoder.decode
        try:
            wire = self._entries.decode(data)
            return {name: typing.cast(T, decode(element)) for name, element in wire.items()}, dict(wire)
        except _UNDECODABLE:
            return None

    def encode_reusing_wire(
        self, entries: Mapping[str, T], known: Mapping[str, Any]
    ) -> tuple[bytes, dict[str, Any]]:
        """The bytes of `entries`, taking the wire form of each name in `known` as it is, and the
        wire forms written."""
        encode = self._encoder.encode
        wire = {name: known[name] if name in known else msgspec.Raw(encode(value)) for name, value in entries.items()}
        return encode(wire), wire


def _check(annotation: object, names: dict[str, object]) -> None:
    """Raise TypeError unless the cache can carry `annotation` as plain data. `names` are names
    the records' annotations use that their modules import for type checking only: they are
    bound in those modules, where msgspec reads the annotations."""
    _Checker(names).check(annotation)


class _Checker:
    def __init__(self, names: dict[str, object]) -> None:
        self.names = names
        self.done: set[type] = set()
        self.tags: dict[str, type] = {}
        self.in_progress: set[type] = set()

    def check(self, annotation: object) -> None:
        if annotation in _SCALARS or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
            return
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            self._record(annotation)
            return
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            for member in arguments:
                self.check(member)
        elif origin is tuple and not (len(arguments) == 2 and arguments[1] is Ellipsis):
            for argument in arguments:
                self.check(argument)
        elif origin in _COLLECTIONS and (len(arguments) == 1 or origin is tuple and arguments[1] is Ellipsis):
            self.check(arguments[0])
        elif origin is dict and len(arguments) == 2:
            if arguments[0] is not str:
                raise TypeError(f"the cache holds dictionaries keyed by strings only, not by {arguments[0]!r}")
            self.check(arguments[1])
        else:
            raise TypeError(f"the cache cannot hold values of type {annotation!r}")

    def _record(self, cls: type) -> None:
        if cls in self.done:
            return
        if cls in self.in_progress:
            raise TypeError(f"the cache cannot hold the recursive record {cls.__qualname__}")
        if not issubclass(cls, Record):
            raise TypeError(f"the cache holds records (backbone.records.Record) only, not {cls.__qualname__}")
        if self.tags.setdefault(cls.__name__, cls) is not cls:
            raise TypeError(f"two cached records are both named {cls.__name__}")
        self.in_progress.add(cls)
        # msgspec reads the annotations in the class's module: bind there the names they use that
        # the module imports for type checking only.
        module = vars(sys.modules[cls.__module__])
        written = set(re.findall(r"\w+", " ".join(map(str, vars(cls).get("__annotations__", {}).values()))))
        for name, value in self.names.items():
            if name not in module and name in written:
                module[name] = value
        hints = typing.get_type_hints(cls)
        for name in cls.__struct_fields__:
            self.check(hints[name])
        self.in_progress.discard(cls)
        self.done.add(cls)
