"""Which project facts a PROJECT check read, so that an edit re-checks only what it can change.

While `tracking()` is on, the project index records each fact it hands out, as a key:

- `M\\0module`: whether the module is in the project, and its path;
- `A\\0module\\0field`: a field of the module's facts (its `models`, its `imports`), whole;
- `I\\0module\\0name`: what `name` is imported as in the module (name resolution);
- `S\\0module\\0name`: whether the module defines `name` (name resolution);
- `F\\0qualname`, `C\\0qualname`: a project function or class, present or not;
- `M\\0*`, `F\\0*`, `C\\0*`: every module, function or class (a walk over all of them);
- `P`: the packages the project imports.

A check is deterministic in what it reads: when no fact it read changed, it decides the same
(`incremental.changed_facts` says which facts an edit changed). The views and memos shared
between the files of a worker are built from recorded reads too, so the reads of a whole
project check cover every file's findings, in whichever order the files were checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts

V = TypeVar("V")

ALL = "*"
PACKAGES = "P"

_reads: set[str] | None = None


@contextmanager
def tracking() -> Iterator[set[str]]:
    """Record the facts read until the block ends, into the set it yields."""
    global _reads
    outer = _reads
    found: set[str] = set()
    _reads = found
    try:
        yield found
    finally:
        _reads = outer
        if outer is not None:
            outer.update(found)


def record(key: str) -> None:
    if _reads is not None:
        _reads.add(key)


def is_tracking() -> bool:
    return _reads is not None


class TrackedMapping(Mapping[str, V]):
    """A read-only view of a dict that records each key looked up, and a walk over all of them."""

    __slots__ = ("_data", "_prefix", "_all")

    def __init__(self, data: dict[str, V], prefix: str) -> None:
        self._data = data
        self._prefix = prefix
        self._all = f"{prefix}\0{ALL}"

    def __getitem__(self, key: str) -> V:
        if _reads is not None:
            _reads.add(f"{self._prefix}\0{key}")
        return self._data[key]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        if _reads is not None:
            _reads.add(f"{self._prefix}\0{key}")
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        if _reads is not None:
            _reads.add(f"{self._prefix}\0{key}")
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        if _reads is not None:
            _reads.add(self._all)
        return iter(self._data)

    def __len__(self) -> int:
        if _reads is not None:
            _reads.add(self._all)
        return len(self._data)

    def raw(self) -> dict[str, V]:
        """The dict itself, for code that records its own reads (`ProjectIndex.resolve`)."""
        return self._data


class TrackedModule:
    """A module's facts that record which field is read (`A\\0module\\0field`); its path
    and name are the module's presence (`M\\0module`)."""

    __slots__ = ("facts", "_module")

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._module = facts.module


def _field_reader(name: str) -> property:
    def read(self: TrackedModule) -> object:
        if _reads is not None:
            _reads.add(f"M\0{self._module}" if name in ("path", "module") else f"A\0{self._module}\0{name}")
        return getattr(self.facts, name)

    return property(read)


def _install_fields() -> None:
    from backbone.review.project import ModuleFacts

    for field in dataclasses.fields(ModuleFacts):
        setattr(TrackedModule, field.name, _field_reader(field.name))


def tracked_modules(modules: dict[str, ModuleFacts]) -> TrackedMapping[ModuleFacts]:
    """`modules` as the tracked index hands them out: each value records its field reads."""
    if not hasattr(TrackedModule, "imports"):
        _install_fields()
    wrapped = {name: TrackedModule(facts) for name, facts in modules.items()}
    return TrackedMapping(wrapped, "M")  # type: ignore[arg-type]
