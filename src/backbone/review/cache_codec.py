"""The data-only encoding of the review cache: typed MessagePack, validated on decode.

A `TypedCodec` is built once for a type (`dict[str, ProjectReads]`) from its annotations; an
`EntriesCodec` for the values of a path-keyed file (`CacheEntry`, `ModuleFacts`) that a save
after an edit mostly writes back as it was read. Each frozen dataclass in it gets a mirror `msgspec.Struct`, encoded as
an array tagged with the class name, so that unions of dataclasses (`RouteDeclaration`,
`ModelDeclaration`) decode into the right class. Decoding builds only strings, numbers,
booleans, enum members, tuples, frozensets, dicts and those dataclasses, and checks every
value against its annotation: a file of the wrong shape is rejected as a whole, and nothing
in a file can name a class or a function to call. Building a codec for a type it cannot
represent (a class, `Any`, a recursive dataclass) is a programming error and raises.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")

Convert = Callable[[Any], Any]
_SCALARS: frozenset[object] = frozenset({str, int, float, bool, bytes, type(None)})
_COLLECTIONS: Mapping[object, Callable[[Any], Any]] = {tuple: tuple, frozenset: frozenset, list: list}


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one annotated type travels: its wire type, and the conversions (None: as is)."""

    wire: Any
    to_wire: Convert | None = None
    from_wire: Convert | None = None


# What decoding bytes that are not a valid encoding of the type raises.
_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, MemoryError)


class TypedCodec(Generic[T]):
    """Encodes values of one type to bytes and decodes bytes back, or to None when invalid."""

    def __init__(self, annotation: object, names: Mapping[str, object] | None = None) -> None:
        plan = _Planner(dict(names or {})).plan(annotation)
        self._plan = plan
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(plan.wire)

    def encode(self, value: T) -> bytes:
        to_wire = self._plan.to_wire
        return self._encoder.encode(to_wire(value) if to_wire is not None else value)

    def decode(self, data: bytes) -> T | None:
        try:
            decoded = self._decoder.decode(data)
        except _UNDECODABLE:
            return None
        from_wire = self._plan.from_wire
        try:
            return typing.cast(T, from_wire(decoded) if from_wire is not None else decoded)
        except (TypeError, ValueError):
            # A dataclass's own __post_init__ refusing a value it was given.
            return None


class EntriesCodec(Generic[T]):
    """A `dict[str, T]` that keeps each entry's wire form, its encoded bytes as read: a save
    encodes only the entries that changed since the load (or the last save) and writes the
    others' bytes as they were (the file is the same map of the same entries either way)."""

    def __init__(self, annotation: object, names: Mapping[str, object] | None = None) -> None:
        self._element = _Planner(dict(names or {})).plan(annotation)
        self._encoder = msgspec.msgpack.Encoder()
        self._entries: msgspec.msgpack.Decoder[dict[str, msgspec.Raw]] = msgspec.msgpack.Decoder(dict[str, msgspec.Raw])
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(self._element.wire)

    def decode(self, data: bytes) -> dict[str, T] | None:
        """The entries, or None when `data` is invalid (as a whole)."""
        decoded = self.decode_keeping_wire(data)
        return decoded[0] if decoded is not None else None

    def encode(self, entries: Mapping[str, T]) -> bytes:
        return self.encode_reusing_wire(entries, {})[0]

    def decode_keeping_wire(self, data: bytes) -> tuple[dict[str, T], dict[str, Any]] | None:
        """The entries and their wire forms, or None when `data` is invalid (as a whole)."""
        decode = self._decoder.decode
        from_wire = self._element.from_wire
        try:
            wire = self._entries.decode(data)
            if from_wire is None:
                return {name: typing.cast(T, decode(element)) for name, element in wire.items()}, dict(wire)
            return {name: typing.cast(T, from_wire(decode(element))) for name, element in wire.items()}, dict(wire)
        except _UNDECODABLE:
            return None
        except (TypeError, ValueError):
            # A dataclass's own __post_init__ refusing a value it was given.
            return None

    def encode_reusing_wire(
        self, entries: Mapping[str, T], known: Mapping[str, Any]
    ) -> tuple[bytes, dict[str, Any]]:
        """The bytes of `entries`, taking the wire form of each name in `known` as it is, and the
        wire forms written."""
        to_wire = self._element.to_wire
        encode = self._encoder.encode
        wire = {
            name: known[name] if name in known else msgspec.Raw(encode(to_wire(value) if to_wire is not None else value))
            for name, value in entries.items()
        }
        return encode(wire), wire


class _Planner:
    def __init__(self, names: dict[str, object]) -> None:
        # Names the annotations use but whose modules import only for type checking.
        self.names = names
        self.dataclasses: dict[type, _Plan] = {}
        self.tags: dict[str, type] = {}
        self.in_progress: set[type] = set()

    def plan(self, annotation: object) -> _Plan:
        if annotation in _SCALARS or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
            return _Plan(annotation)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            return self._dataclass(annotation)
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            return self._union(arguments)
        if origin is tuple:
            return self._tuple(arguments)
        if origin in _COLLECTIONS and len(arguments) == 1:
            return self._collection(origin, arguments[0])
        if origin is dict and len(arguments) == 2:
            return self._dict(arguments[0], arguments[1])
        raise TypeError(f"the cache cannot hold values of type {annotation!r}")

    def _union(self, members: tuple[object, ...]) -> _Plan:
        plans = [self.plan(member) for member in members]
        wire = _generic(typing.Union, tuple(plan.wire for plan in plans))
        if all(plan.to_wire is None for plan in plans):
            return _Plan(wire)
        # Only dataclasses convert, and each has its own mirror: dispatch on the class.
        if any(plan.to_wire is not None and not isinstance(plan.wire, type) for plan in plans):
            raise TypeError(f"the cache cannot hold a union of containers of dataclasses: {members!r}")
        to_wire = {member: plan.to_wire for member, plan in zip(members, plans) if plan.to_wire is not None}
        from_wire = {plan.wire: plan.from_wire for plan in plans if plan.from_wire is not None}

        def encode(value: Any) -> Any:
            convert = to_wire.get(type(value))
            return convert(value) if convert is not None else value

        def decode(value: Any) -> Any:
            convert = from_wire.get(type(value))
            return convert(value) if convert is not None else value

        return _Plan(wire, encode, decode)

    def _tuple(self, arguments: tuple[object, ...]) -> _Plan:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return self._collection(tuple, arguments[0])
        plans = [self.plan(argument) for argument in arguments]
        wire = _generic(tuple, tuple(plan.wire for plan in plans))
        if all(plan.to_wire is None for plan in plans):
            return _Plan(wire)
        encoders = [plan.to_wire or _same for plan in plans]
        decoders = [plan.from_wire or _same for plan in plans]
        return _Plan(
            wire,
            lambda value: tuple(convert(item) for convert, item in zip(encoders, value)),
            lambda value: tuple(convert(item) for convert, item in zip(decoders, value)),
        )

    def _collection(self, origin: object, item: object) -> _Plan:
        plan = self.plan(item)
        wire = _generic(origin, (plan.wire, ...) if origin is tuple else plan.wire)
        if plan.to_wire is None or plan.from_wire is None:
            return _Plan(wire)
        build = _COLLECTIONS[origin]
        encode, decode = plan.to_wire, plan.from_wire
        return _Plan(
            wire,
            lambda value: [encode(element) for element in value],
            # A list first: building a tuple or a frozenset from a list is faster than from a generator.
            lambda value: build([decode(element) for element in value]),
        )

    def _dict(self, key: object, value: object) -> _Plan:
        if key is not str:
            raise TypeError(f"the cache holds dictionaries keyed by strings only, not by {key!r}")
        plan = self.plan(value)
        wire = _generic(dict, (str, plan.wire))
        if plan.to_wire is None or plan.from_wire is None:
            return _Plan(wire)
        encode, decode = plan.to_wire, plan.from_wire
        return _Plan(
            wire,
            lambda mapping: {name: encode(element) for name, element in mapping.items()},
            lambda mapping: {name: decode(element) for name, element in mapping.items()},
        )

    def _dataclass(self, cls: type) -> _Plan:
        known = self.dataclasses.get(cls)
        if known is not None:
            return known
        if cls in self.in_progress:
            raise TypeError(f"the cache cannot hold the recursive dataclass {cls.__qualname__}")
        if self.tags.setdefault(cls.__name__, cls) is not cls:
            raise TypeError(f"two cached dataclasses are both named {cls.__name__}")
        self.in_progress.add(cls)
        hints = typing.get_type_hints(cls, localns=self.names)
        fields = dataclasses.fields(cls)
        if any(not field.init for field in fields):
            raise TypeError(f"the cache cannot rebuild {cls.__qualname__}: a field is not set by __init__")
        names = [field.name for field in fields]
        plans = [self.plan(hints[name]) for name in names]
        mirror = msgspec.defstruct(
            cls.__name__,
            [(name, plan.wire) for name, plan in zip(names, plans)],
            tag=cls.__name__,
            array_like=True,
            frozen=True,
            gc=False,
        )
        encoders = [(name, plan.to_wire) for name, plan in zip(names, plans)]
        decoders = [(name, plan.from_wire) for name, plan in zip(names, plans)]

        def encode(value: Any) -> Any:
            return mirror(*[
                getattr(value, name) if convert is None else convert(getattr(value, name))
                for name, convert in encoders
            ])

        plan = _Plan(mirror, encode, _decoder_of(cls, decoders))
        self.in_progress.discard(cls)
        self.dataclasses[cls] = plan
        return plan


def _decoder_of(cls: type, decoders: list[tuple[str, Convert | None]]) -> Convert:
    """`cls` built from its mirror in one generated function, each field read and converted
    in line: the facts file holds some hundred thousand dataclasses, and a loop over the
    fields of each took longer than decoding the bytes.

    A frozen dataclass with slots and no `__post_init__` (the cached facts) gets its fields
    set through their slots, as its `__init__` would set them, at half the cost of calling it.
    """
    namespace: dict[str, Any] = {"cls": cls, "new": object.__new__}
    values = []
    for number, (name, convert) in enumerate(decoders):
        if convert is None:
            values.append(f"value.{name}")
        else:
            namespace[f"convert_{number}"] = convert
            values.append(f"convert_{number}(value.{name})")
    slots = [vars(cls).get(name) for name, _ in decoders]
    if hasattr(cls, "__post_init__") or not all(isinstance(slot, types.MemberDescriptorType) for slot in slots):
        body = f"    return cls({', '.join(values)})\n"
    else:
        lines = ["    built = new(cls)"]
        for number, value in enumerate(values):
            namespace[f"set_{number}"] = typing.cast(types.MemberDescriptorType, slots[number]).__set__
            lines.append(f"    set_{number}(built, {value})")
        body = "\n".join([*lines, "    return built\n"])
    # Field names are identifiers (dataclasses checks them): the source is well formed.
    exec(f"def decode(value):\n{body}", namespace)  # noqa: S102
    return typing.cast(Convert, namespace["decode"])


def _generic(origin: object, arguments: object) -> Any:
    """`origin[arguments]` for types known only at run time."""
    return typing.cast(Any, origin)[arguments]


def _same(value: Any) -> Any:
    return value
