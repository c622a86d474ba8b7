"""Which project facts a PROJECT check read, so that an edit re-checks only what it can change.

While `tracking()` is on, the project index records each fact it hands out, as a key:

- `M\\0module`: whether the module is in the project, and its path;
- `A\\0module\\0field`: a field of the module's facts (its `models`, its `imports`), whole;
- `I\\0module\\0name`: what `name` is imported as in the module; `I\\0module\\0*`, all of
  them; `I\\0module\\0=target`: whether the module imports `target`;
- `S\\0module\\0name`: whether the module defines `name` (name resolution);
- `F\\0qualname`, `C\\0qualname`: a project function or class, present or not;
- `M\\0*`, `F\\0*`, `C\\0*`: every module, function or class (a walk over all of them);
- `P\\0package`: whether the project imports the package; `P\\0*`, all of them;
  `P\\0frameworks`, the web frameworks they select;
- `Q\\0question`: an `ImportQuestion` about every import target of the project.
- `U\\0segment`: whether anything in the project imports (or names by a dotted-path string,
  or star-imports) a target with this dotted segment: `is_referenced` asks it for each segment
  of the name it looks for, and an edit that adds or removes a target changes each of its
  segments.
- `N\\0segment`: whether anything in the project names this segment: reads a dotted name with
  it, reads it as an attribute, imports it, or spells it in a dotted-path string
  (`ProjectIndex.names_read`); `N\\0*`, the names it builds at run time (`getattr(self, "on_" +
  event)`, `globals()`). Asked for a function's name, to tell whether anything may call it.

A check is deterministic in what it reads: when no fact it read changed, it decides the same
(`incremental.changed_facts` says which facts an edit changed). The views and memos shared
between the files of a worker are built from recorded reads too, so the reads of a whole
project check cover every file's findings, in whichever order the files were checked.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, ValuesView
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts

V = TypeVar("V")

ALL = "*"
# The web frameworks the project's imports select (`checker.frameworks_of`).
FRAMEWORKS = "P\0frameworks"

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


@contextmanager
def paused() -> Iterator[None]:
    """Record nothing until the block ends: what it reads is recorded by the caller as a
    coarser question (`U\\0segment`) that an edit's changes answer."""
    global _reads
    outer = _reads
    _reads = None
    try:
        yield
    finally:
        _reads = outer


def reference_keys(qualname: str) -> set[str]:
    """The `U\\0segment` keys of a dotted name: one per segment."""
    return {f"U\0{segment}" for segment in qualname.split(".") if segment}


# Any name built at run time (`N\\0*`).
BUILT_NAMES = "*"


def name_keys(name: str) -> set[str]:
    """The `N\\0segment` keys of a name read, imported or spelled (one per segment); `N\\0*` too
    for a name built at run time (`ModuleFacts.attribute_reads`)."""
    keys = {f"N\0{segment}" for segment in name.split(".") if segment}
    if name.endswith(BUILT_NAMES):
        keys.add(f"N\0{BUILT_NAMES}")
    return keys


@contextmanager
def captured() -> Iterator[set[str]]:
    """The keys the block reads, in a set of their own, recorded too as usual (nothing when
    not tracking): a memo that keeps them can record them again on each answer it gives."""
    global _reads
    outer = _reads
    own: set[str] = set()
    if outer is not None:
        _reads = own
    try:
        yield own
    finally:
        _reads = outer
        if outer is not None:
            outer |= own


def record_all(keys: Iterable[str]) -> None:
    if _reads is not None:
        _reads.update(keys)


def is_tracking() -> bool:
    return _reads is not None


class ImportQuestion(enum.Enum):
    """A question about every import target of the project, recorded as itself
    (`Q\\0question`): it changes only when an edit changes a target it asks about."""

    IDEMPOTENCY_MIDDLEWARE = "idempotency-middleware"
    # strawberry-django's query optimizer (`DjangoOptimizerExtension`), which eager-loads what
    # each GraphQL selection reads.
    STRAWBERRY_OPTIMIZER = "strawberry-optimizer"

    def asks(self, target: str) -> bool:
        if self is ImportQuestion.STRAWBERRY_OPTIMIZER:
            return target.endswith(".DjangoOptimizerExtension") or (target.startswith("strawberry") and target.endswith(".optimizer"))
        lowered = target.lower()
        return "idempot" in lowered and "middleware" in lowered


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

    def values(self) -> TrackedValues[V]:
        return TrackedValues(self)

    def raw(self) -> dict[str, V]:
        """The dict itself, for code that records its own reads (`ProjectIndex.resolve`)."""
        return self._data


class TrackedPackages:
    """The packages a project imports, asked package by package (`P\\0package`)."""

    __slots__ = ("raw",)

    def __init__(self, packages: frozenset[str]) -> None:
        self.raw = packages

    def __contains__(self, package: object) -> bool:
        if _reads is not None:
            _reads.add(f"P\0{package}")
        return package in self.raw

    def __and__(self, other: frozenset[str]) -> frozenset[str]:
        if _reads is not None:
            _reads.update(f"P\0{package}" for package in other)
        return self.raw & other

    __rand__ = __and__

    def __iter__(self) -> Iterator[str]:
        if _reads is not None:
            _reads.add(f"P\0{ALL}")
        return iter(self.raw)

    def __len__(self) -> int:
        if _reads is not None:
            _reads.add(f"P\0{ALL}")
        return len(self.raw)


class TrackedValues(ValuesView[V]):
    """The values of a tracked mapping: whether one is among them is recorded as that value
    (`prefix\0=value`); a walk over them as a walk over the mapping."""

    _mapping: TrackedMapping[V]

    def __init__(self, mapping: TrackedMapping[V]) -> None:
        super().__init__(mapping)
        self._mapping = mapping

    def __contains__(self, value: object) -> bool:
        if _reads is not None:
            _reads.add(f"{self._mapping._prefix}\0={value}")
        return value in self._mapping._data.values()

    def __iter__(self) -> Iterator[V]:
        if _reads is not None:
            _reads.add(self._mapping._all)
        return iter(self._mapping._data.values())


def _field(name: str) -> property:
    key = "M" if name in ("path", "module") else "A"

    def read(self: TrackedModule) -> object:
        if _reads is not None:
            _reads.add(f"M\0{self._module}" if key == "M" else f"A\0{self._module}\0{name}")
        return getattr(self.facts, name)

    return property(read)


def _imports(self: TrackedModule) -> TrackedMapping[str]:
    """The module's imports, read name by name (`I\0module\0name`)."""
    return TrackedMapping(self.facts.imports, f"I\0{self._module}")


class TrackedModule:
    """A module's facts that record which field is read (`A\0module\0field`); its path
    and name are the module's presence (`M\0module`). Every field of `ModuleFacts` is here
    (tests/test_incremental_review.py checks it)."""

    __slots__ = ("facts", "_module")

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._module = facts.module

    path = _field("path")
    module = _field("module")
    imports = property(_imports)
    star_imports = _field("star_imports")
    symbols = _field("symbols")
    classes = _field("classes")
    functions = _field("functions")
    imported_packages = _field("imported_packages")
    routes = _field("routes")
    models = _field("models")
    serializers = _field("serializers")
    migrations = _field("migrations")
    settings_modules = _field("settings_modules")
    flask_cors_configuration = _field("flask_cors_configuration")
    browser_credentials = _field("browser_credentials")
    loop_starts = _field("loop_starts")
    dotted_class_paths = _field("dotted_class_paths")
    built_by = _field("built_by")
    startup_hooks = _field("startup_hooks")
    script_calls = _field("script_calls")
    table_creators = _field("table_creators")
    column_types = _field("column_types")
    references = _field("references")
    dead_references = _field("dead_references")
    attribute_reads = _field("attribute_reads")
    dotted_function_paths = _field("dotted_function_paths")
    assigned_attributes = _field("assigned_attributes")
    databases = _field("databases")
    self_migrations = _field("self_migrations")
    starts_django_server = _field("starts_django_server")


def tracked_modules(modules: dict[str, ModuleFacts]) -> TrackedMapping[ModuleFacts]:
    """`modules` as the tracked index hands them out: each value records its field reads."""
    wrapped = {name: TrackedModule(facts) for name, facts in modules.items()}
    return TrackedMapping(wrapped, "M")  # type: ignore[arg-type]
