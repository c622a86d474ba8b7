"""What PROJECT-scoped results depend on, so that an edit re-checks only what it can change.

PROJECT findings of a file depend on its own content and on the project index, which is
built from the module facts of every file. Two digests of each file's facts say how an
edit changed them:

- its *shape*: the facts with every source position (a `line`, a `column`) replaced by its
  rank among the positions of that file, 0 kept as 0 ("no position"). Order and equality
  between the positions of one file survive, which is all the analyses compare; adding a
  docstring on top, or a line in a function body, moves positions but keeps the shape;
- its *exact* digest: the facts as they are.

A file's cached PROJECT findings are reused when its content is unchanged and the project
shape (the shapes of all files) is the one they were computed for: the analyses decide the
same on positions of the same order. Findings may also quote positions of other files (a
relation "declared at models.py:42"), as the facts hold them; so findings with a number in
their text are reused only when the exact project facts are those they were computed for,
or when they were computed for the previous review's facts and none of their numbers is a
position the edit moved (`moved_positions`).

An edit that changes the shape (an import added, a name removed, a file added) changes
what some files see, not what all do. The PROJECT checks record which facts they read
(`reads`: a module's presence, one import of a module, one function, whether the project
imports a package); the cache keeps the union of those reads for the project it checked
(`ProjectReads`, one set for the whole project: the views and memos shared between the files
of a worker are built by whichever file needs them first, so only the whole set is sure to
hold every read a file's findings depend on). When none of the facts the edits changed
(`changed_facts`, positions ranked as in the shape) was read, every cached finding stands:
a check that read the same facts decides the same. Else every file is checked again.

What this relies on, and what code reading the facts must keep true: positions from the
facts are compared only with positions of the same file, by order and equality (no
arithmetic on them, no comparison across files); and a position reaches a finding's text
as the facts hold it; the PROJECT checks read the facts of other files only through the
project index (whose modules, functions, classes and packages record what is read) and
decide from them alone, so that the same reads give the same findings.
tests/test_incremental_review.py checks warm against cold reviews after random edits, and
after edits that change names other files use.
"""

from __future__ import annotations

import enum
import hashlib
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, cast

import msgspec

from backbone.records import Record
from backbone.review.naming import spelled_names

if TYPE_CHECKING:
    from backbone.findings import Finding
    from backbone.review.cache import CacheEntry
    from backbone.review.project import ModuleFacts, ProjectIndex

# Fields of the cached fact records that hold source positions. A position held under
# another name is compared as data: an edit moving it changes the shape, which re-checks
# more than needed but never too little.
_LINE_FIELDS = frozenset({"line", "queryset_line"})
_COLUMN_FIELDS = frozenset({"column"})
_LINE_COLUMN_FIELDS = frozenset({"row_of"})  # (line, column) pairs

_Plain = str | int | float | bool | None | bytes | list["_Plain"]


class FactsDigests(Record, frozen=True):
    shape: str
    exact: str


# A file without facts (unreadable, or its facts failed): it adds nothing to the index.
NO_FACTS = FactsDigests("", "")


def facts_digests(facts: ModuleFacts | None) -> FactsDigests:
    if facts is None:
        return NO_FACTS
    flattened = _Flattened.of(facts)
    _remember_positions(facts, flattened.slots.values)
    return flattened.digests()


# The positions of the facts whose digests this process took last, by identity: an edited
# file checked in the engine's process has its facts compared with its previous ones
# (`moved_positions`) right after, which then need not flatten them again. A few only: a
# worker takes the digests of every file it checks.
_RECENT_POSITIONS: dict[int, tuple[object, list[int]]] = {}
_RECENT_LIMIT = 8


def _remember_positions(facts: object, values: list[int]) -> None:
    if len(_RECENT_POSITIONS) >= _RECENT_LIMIT:
        del _RECENT_POSITIONS[next(iter(_RECENT_POSITIONS))]
    _RECENT_POSITIONS[id(facts)] = (facts, values)


def _positions(facts: object) -> list[int]:
    """The positions `facts` holds, in the order `_flatten` meets them."""
    known = _RECENT_POSITIONS.get(id(facts))
    if known is not None and known[0] is facts:
        return known[1]
    return _Flattened.of(facts).slots.values


class ProjectKeys(Record, frozen=True):
    """The project's facts, as `shape` and `exact` digests; `previous`, the exact digest of the
    facts the previous review saw ("" when unknown); `moved`, the positions this review's
    edits moved (None when unknown)."""

    shape: str
    exact: str
    previous: str = ""
    moved: frozenset[int] | None = None
    # The shape of the previous review's project; whether this review's edits changed no
    # fact that the checks behind the findings cached for it read (`reads`).
    previous_shape: str = ""
    unread: bool = False
    # The files whose facts this review's edits changed (`moved` holds their positions).
    edited: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        cached: Mapping[str, CacheEntry],
        digests: Mapping[str, FactsDigests],
        previous: Mapping[str, CacheEntry],
        before: Mapping[str, CacheEntry] | None = None,
    ) -> ProjectKeys:
        """From the unchanged files' entries, the changed files' digests, and the entries of
        the previous review (those of the changed files still hold their former content;
        `before` has those of files since gone too)."""
        files = [(display, entry.facts_shape, entry.facts_exact) for display, entry in cached.items()]
        files += [(display, digest.shape, digest.exact) for display, digest in digests.items()]
        earlier = [(display, previous.get(display)) for display, _, _ in files]
        known = [(display, entry.facts_exact) for display, entry in earlier if entry is not None]
        return cls(
            project_digest((display, shape) for display, shape, _ in files),
            project_digest((display, exact) for display, _, exact in files),
            project_digest(known) if len(known) == len(files) else "",
            previous_shape=project_digest((display, entry.facts_shape) for display, entry in before.items())
            if before else "",
            edited=frozenset(
                display for display, digest in digests.items()
                if (entry := previous.get(display)) is None or entry.facts_exact != digest.exact
            ),
        )

    def holds(self, entry: CacheEntry) -> bool:
        """Whether `entry`'s PROJECT findings are still those of the project."""
        if entry.index_digest != self.shape and not (self.unread and entry.index_digest == self.previous_shape):
            return False
        if entry.exact_digest == self.exact:
            return True
        if self.moved is not None and entry.exact_digest == self.previous:
            # Computed for the previous review's facts: only the positions the edits moved matter.
            return not quoted_numbers(entry.project_findings, self.edited) & self.moved
        return not quoted_numbers(entry.project_findings)

    def rerun(self, entry: CacheEntry) -> frozenset[str] | None:
        """The codes of the PROJECT rules to run again on a file whose `entry` does not hold
        only because some findings may quote a position the edits moved: the checks decide
        as before (same shape, or no changed fact read), so a rule whose cached findings
        quote none of those positions would report them again as they are. None: every rule
        runs again (the entry fails on the project's shape or facts, a finding is no rule's)."""
        if entry.index_digest != self.shape and not (self.unread and entry.index_digest == self.previous_shape):
            return None
        if self.moved is None or entry.exact_digest != self.previous:
            return None
        codes = frozenset(
            finding.code for finding in entry.project_findings if quoted_numbers((finding,), self.edited) & self.moved
        )
        if not codes or any(finding.code == _NO_RULE for finding in entry.project_findings):
            return None
        return codes

    def refreshes(self, entry: CacheEntry) -> bool:
        """Whether `entry`, holding, now holds for the shape or the exact facts of this review."""
        return entry.index_digest != self.shape or (
            entry.exact_digest != self.exact and bool(quoted_numbers(entry.project_findings))
        )


_NUMBER = re.compile(r"\d+")
# The code of what the engine reports itself (a file or a rule that failed): no rule to run alone.
_NO_RULE = "BB000"


# A position quoted with its file, as findings quote positions of other files: `app/models.py:42`,
# the path starting the text or after a space, a quote, a backtick or a bracket.
_FILE_POSITION = re.compile(r"(?:^|(?<=[\s'\"`(\[]))(?P<path>[^\s'\"`()\[\]]+?\.pyi?):\d+")


def quoted_numbers(findings: Iterable[Finding], edited: frozenset[str] | None = None) -> frozenset[int]:
    """The numbers in the findings' text: any may be a position in another file. Their own
    location and source line come from their own file, whose content is unchanged.

    With `edited` (the files whose facts an edit changed), a number quoted as the line of a
    file none of them is (`app/models.py:42`, the path neither one of them nor the end of one)
    is left out: that file's positions are where they were. Only the texts are read so; every
    number of the other fields (a fix, a command's detail) counts."""
    found: set[int] = set()
    for finding in findings:
        texts: tuple[str, ...] = (finding.message, finding.scope, finding.context, finding.context_evidence)
        if edited is not None:
            texts = tuple(_FILE_POSITION.sub(lambda match: _kept_if_edited(match, edited), text) for text in texts)
        others = repr((finding.fix, finding.extra))
        for text in (*texts, others):
            found.update(int(number) for number in _NUMBER.findall(text))
    return frozenset(found)


def _kept_if_edited(match: re.Match[str], edited: frozenset[str]) -> str:
    """The match as it is when its path may name an edited file (the end of one, `./app/x.py`,
    or a longer path ending in one), else nothing."""
    path = posixpath.normpath(match.group("path"))
    slashed = path.replace("\\", "/")  # `C:\\app\\models.py`, as Windows spells it
    named = any(
        display.endswith(path) or path.endswith("/" + display) or slashed.endswith("/" + display) for display in edited
    )
    return match.group(0) if named else ""


def moved_by_edits(
    edited: Mapping[str, ModuleFacts | None],
    digests: Mapping[str, FactsDigests],
    previous: Mapping[str, CacheEntry],
    previous_facts: Mapping[str, ModuleFacts],
) -> frozenset[int] | None:
    """The positions the edited files' facts held before the edit and no longer hold, for
    edits that kept each file's shape; None when that cannot be told."""
    moved: set[int] = set()
    for display, facts in edited.items():
        entry = previous.get(display)
        if entry is None or facts is None:
            return None
        if entry.facts_exact == digests[display].exact:
            continue
        old = previous_facts.get(display)
        if entry.facts_shape != digests[display].shape or old is None:
            return None
        # Flattened once: for its digest (the cached facts are those of the entry) and its positions.
        flattened = _Flattened.of(old)
        before = list(flattened.slots.values)
        if flattened.digests().exact != entry.facts_exact:
            return None
        found = _moved(before, _positions(facts))
        if found is None:
            return None
        moved.update(found)
    return frozenset(moved)


def moved_positions(old: ModuleFacts, new: ModuleFacts) -> frozenset[int] | None:
    """The positions of `old` that are elsewhere in `new`, facts of the same shape (as they
    were before the edit); None when the facts do not line up."""
    return _moved(_positions(old), _positions(new))


def _moved(before: list[int], after: list[int]) -> frozenset[int] | None:
    if len(before) != len(after):
        return None
    return frozenset(position for position, moved in zip(before, after) if position != moved)


def project_digest(digests: Iterable[tuple[str, str]]) -> str:
    """One digest for (path, file digest) pairs, in any order."""
    hasher = hashlib.blake2b(digest_size=16)
    for path, digest in sorted(digests):
        hasher.update(f"{path}\0{digest}\0".encode())
    return hasher.hexdigest()


def _digest(value: _Plain) -> str:
    return hashlib.blake2b(msgspec.msgpack.encode(value), digest_size=16).hexdigest()


def _ranks(values: Iterable[int]) -> dict[int, int]:
    """Each positive position's rank (from 1); 0 and below stay as they are."""
    distinct = set(values)
    ranks = {value: value for value in distinct if value <= 0}
    ranks.update((value, rank) for rank, value in enumerate(sorted(value for value in distinct if value > 0), 1))
    return ranks


class _Slots(msgspec.Struct):
    """Where the positions sit in a flattened value, in its order: list, index, line or column."""

    holders: list[list[_Plain]] = msgspec.field(default_factory=list)
    indexes: list[int] = msgspec.field(default_factory=list)
    is_line: list[bool] = msgspec.field(default_factory=list)
    values: list[int] = msgspec.field(default_factory=list)

    def add(self, holder: list[_Plain], index: int, is_line: bool, value: int) -> None:
        self.holders.append(holder)
        self.indexes.append(index)
        self.is_line.append(is_line)
        self.values.append(value)

    def extend(self, other: _Slots) -> None:
        self.holders += other.holders
        self.indexes += other.indexes
        self.is_line += other.is_line
        self.values += other.values


class _Flattened(msgspec.Struct):
    """A value as nested lists of scalars, the same for equal values in any process (dict
    keys and sets sorted), and where its positions are in it."""

    plain: _Plain
    slots: _Slots

    @classmethod
    def of(cls, value: object) -> _Flattened:
        slots = _Slots()
        return cls(_flatten(value, slots), slots)

    def digests(self) -> FactsDigests:
        """The exact digest, then the shape's: each position replaced by its rank. Sets were
        sorted by their exact encoding, which orders non-negative integers as numbers: the
        order is the same for positions and for their ranks."""
        exact = _digest(self.plain)
        slots = self.slots
        lines = _ranks(value for value, is_line in zip(slots.values, slots.is_line) if is_line)
        columns = _ranks(value for value, is_line in zip(slots.values, slots.is_line) if not is_line)
        for holder, index, is_line, value in zip(slots.holders, slots.indexes, slots.is_line, slots.values):
            holder[index] = (lines if is_line else columns)[value]
        shape = _digest(self.plain)
        for holder, index, value in zip(slots.holders, slots.indexes, slots.values):
            holder[index] = value
        return FactsDigests(shape, exact)


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(item, int) for item in value)


_PLAIN_FIELD, _LINE_FIELD, _COLUMN_FIELD, _PAIR_FIELD = range(4)
# Per record class: its fields, each with what it holds.
_FIELDS: dict[type, tuple[tuple[str, int], ...]] = {}


def _fields(kind: type[msgspec.Struct]) -> tuple[tuple[str, int], ...]:
    known = _FIELDS.get(kind)
    if known is None:
        known = _FIELDS[kind] = tuple(
            (
                name,
                _LINE_FIELD if name in _LINE_FIELDS
                else _COLUMN_FIELD if name in _COLUMN_FIELDS
                else _PAIR_FIELD if name in _LINE_COLUMN_FIELDS
                else _PLAIN_FIELD,
            )
            for name in kind.__struct_fields__
        )
    return known


# The exact types that flatten to themselves: a value of one of them needs no other test.
_SCALAR_TYPES = frozenset({str, bool, int, float, bytes, type(None)})


def _flatten(value: object, slots: _Slots) -> _Plain:
    # The exact type first (the facts are mostly strings, tuples and records of known
    # kinds); a value of any other type takes the tests below, in their order.
    value_type = type(value)
    if value_type in _SCALAR_TYPES:
        return cast(_Plain, value)
    known = _FIELDS.get(value_type)
    if known is None and value_type is tuple:
        members = cast(tuple[object, ...], value)
        if not members:
            return ["seq"]
        return ["seq", *[item if type(item) is str else _flatten(item, slots) for item in members]]
    if known is None:
        if value is None or isinstance(value, (str, bool, int, float, bytes)):
            return value
        if isinstance(value, enum.Enum):
            return [type(value).__name__, _flatten(value.value, _Slots())]
        if isinstance(value, msgspec.Struct):
            known = _fields(cast("type[msgspec.Struct]", value_type))
    if known is not None:
        plain: list[_Plain] = [value_type.__name__]
        for name, kind in known:
            item = getattr(value, name)
            if kind == _PLAIN_FIELD:
                plain.append(item if type(item) in _SCALAR_TYPES else _flatten(item, slots))
            elif isinstance(item, bool):
                plain.append(_flatten(item, slots))
            elif kind != _PAIR_FIELD and isinstance(item, int):
                slots.add(plain, len(plain), kind == _LINE_FIELD, item)
                plain.append(item)
            elif kind == _PAIR_FIELD and _is_pair(item):
                pair: list[_Plain] = ["seq", item[0], item[1]]
                slots.add(pair, 1, True, item[0])
                slots.add(pair, 2, False, item[1])
                plain.append(pair)
            else:
                plain.append(_flatten(item, slots))
        return plain
    if isinstance(value, dict):
        entries: list[_Plain] = ["dict"]
        for key in sorted(value, key=repr):
            entries.append([_flatten(key, slots), _flatten(value[key], slots)])
        return entries
    if isinstance(value, (set, frozenset)):
        if all(type(item) is str for item in value):
            # Names (the references, the packages): no positions, each its own encoding.
            return ["set", *sorted(cast("frozenset[str]", value), key=msgspec.msgpack.encode)]
        items: list[tuple[bytes, _Plain, _Slots]] = []
        for item in value:
            own = _Slots()
            converted = _flatten(item, own)
            items.append((msgspec.msgpack.encode(converted), converted, own))
        items.sort(key=lambda entry: entry[0])
        for _, _, own in items:
            slots.extend(own)
        return ["set", *(converted for _, converted, _ in items)]
    if isinstance(value, (tuple, list)):
        return ["seq", *(_flatten(item, slots) for item in value)]
    raise TypeError(f"module facts hold a value backbone cannot digest: {type(value).__name__}")


class ProjectReads(Record, frozen=True):
    """The project facts (`reads` keys) that the PROJECT checks behind a cache read, for the
    project of shape `shape`: an edit that changes none of them changes no cached finding."""

    shape: str
    keys: frozenset[str]


class FactChanges(Record, frozen=True):
    """What edits changed in the project's facts: the `reads` keys whose facts differ, positions
    ranked; and every position that moved or that the changed facts held."""

    keys: frozenset[str]
    moved: frozenset[int]


# The fields of a module's facts that `A` keys name: all of them but its path and name, which are
# the module's presence (`M` keys; `reads.TrackedModule`).
_PRESENCE_FIELDS = frozenset({"path", "module"})


def _names(facts: ModuleFacts) -> set[str]:
    """What a module names, as `ProjectIndex.names_read` reads it (the `N` keys)."""
    return {*spelled_names(facts), *facts.attribute_reads}


class _Ranks:
    """The ranks of one file's positions (`_ranks`), lines and columns apart."""

    def __init__(self, facts: ModuleFacts) -> None:
        slots = _Flattened.of(facts).slots
        self.lines = _ranks(value for value, is_line in zip(slots.values, slots.is_line) if is_line)
        self.columns = _ranks(value for value, is_line in zip(slots.values, slots.is_line) if not is_line)

    def ranked(self, value: _Flattened) -> _Plain:
        """`value`'s plain form with each position replaced by its rank (in place)."""
        slots = value.slots
        for holder, index, is_line, position in zip(slots.holders, slots.indexes, slots.is_line, slots.values):
            holder[index] = (self.lines if is_line else self.columns).get(position, -1 - position)
        return value.plain


class _Comparison:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.moved: set[int] = set()
        self._ranks: dict[int, _Ranks] = {}

    def ranks(self, facts: ModuleFacts) -> _Ranks:
        known = self._ranks.get(id(facts))
        if known is None:
            known = self._ranks[id(facts)] = _Ranks(facts)
        return known

    def compare(self, key: str, before: object, before_file: ModuleFacts | None, after: object, after_file: ModuleFacts | None) -> bool:
        """Whether the value under `key` changed, positions ranked within their files; the
        positions it moved (or, changed, all it holds) are added to `moved`."""
        if before is after or before == after:
            return False
        old, new = _Flattened.of(before), _Flattened.of(after)
        if old.plain == new.plain:
            return False
        old_positions, new_positions = list(old.slots.values), list(new.slots.values)
        same = (
            before is not None and after is not None and before_file is not None and after_file is not None
            and len(old_positions) == len(new_positions)
            and self.ranks(before_file).ranked(old) == self.ranks(after_file).ranked(new)
        )
        if same:
            self.moved.update(position for position, moved in zip(old_positions, new_positions) if position != moved)
            return False
        self.moved.update(old_positions)
        self.moved.update(new_positions)
        self.keys.add(key)
        return True


def changed_facts(
    before: ProjectIndex, after: ProjectIndex, edits: Iterable[tuple[ModuleFacts | None, ModuleFacts | None]]
) -> FactChanges:
    """What changed between the project indexes `before` and `after` of the edits (each the
    facts of one file before and after; None where there is no file), as `reads` keys."""
    comparison = _Comparison()
    targets: set[str] = set()  # import targets the edits added or removed
    named: set[str] = set()  # names read, imported or spelled that the edits added or removed
    for old, new in edits:
        modules = {facts.module for facts in (old, new) if facts is not None}
        for module in modules:
            was, now = before.raw_modules.get(module), after.raw_modules.get(module)
            if was is now:
                continue
            if was is None or now is None or was.path != now.path:
                comparison.keys.update((f"M\0{module}", "M\0*"))
                for facts in (was, now):
                    if facts is not None:
                        targets.update(facts.imports.values())
                        targets.update((*facts.star_imports, *facts.dotted_class_paths, facts.module))
                comparison.moved.update(_Flattened.of(was).slots.values + _Flattened.of(now).slots.values)
                named.update(*(_names(facts) for facts in (was, now) if facts is not None))
                continue
            for name in was.__struct_fields__:
                if name in _PRESENCE_FIELDS:
                    continue
                comparison.compare(f"A\0{module}\0{name}", getattr(was, name), was, getattr(now, name), now)
            for imported in was.imports.keys() | now.imports.keys():
                pair = (was.imports.get(imported), now.imports.get(imported))
                if pair[0] != pair[1]:
                    comparison.keys.update((f"I\0{module}\0{imported}", f"I\0{module}\0*"))
                    comparison.keys.update(f"I\0{module}\0={target}" for target in pair if target is not None)
                    targets.update(target for target in pair if target is not None)
            comparison.keys.update(f"S\0{module}\0{name}" for name in was.symbols ^ now.symbols)
            # Names referenced by a star import or a dotted-path string, and symbols (which
            # decide how imports resolve), answer the `U` questions too.
            targets.update(set(was.star_imports) ^ set(now.star_imports))
            targets.update(set(was.dotted_class_paths) ^ set(now.dotted_class_paths))
            targets.update(was.symbols ^ now.symbols)
            named.update(_names(was) ^ _names(now))
        for prefix, old_table, new_table, old_own, new_own in (
            ("F", before.functions, after.functions, old and old.functions, new and new.functions),
            ("C", before.classes, after.classes, old and old.classes, new and new.classes),
        ):
            for name in {*(old_own or ()), *(new_own or ())}:
                was_value: object = old_table.get(name)
                now_value: object = new_table.get(name)
                # Ranked within the file the value comes from, when that is the edited one.
                was_file = old if old_own and was_value is old_own.get(name) else None
                now_file = new if new_own and now_value is new_own.get(name) else None
                if comparison.compare(f"{prefix}\0{name}", was_value, was_file, now_value, now_file):
                    comparison.keys.add(f"{prefix}\0*")
    from backbone.review.reads import ImportQuestion, name_keys, reference_keys

    for target in targets:
        comparison.keys.update(reference_keys(target))
    for name in named:
        comparison.keys.update(name_keys(name))

    comparison.keys.update(
        f"Q\0{question.value}" for question in ImportQuestion if any(question.asks(target) for target in targets)
    )
    if before.imported_packages != after.imported_packages:
        from backbone.review.checker import frameworks_of

        comparison.keys.update(f"P\0{package}" for package in before.imported_packages ^ after.imported_packages)
        comparison.keys.add("P\0*")
        if frameworks_of(before.imported_packages) != frameworks_of(after.imported_packages):
            comparison.keys.add("P\0frameworks")
    return FactChanges(frozenset(comparison.keys), frozenset(comparison.moved))
