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
shape (the shapes of all files) is the one they were computed for; when they are not empty
they may quote positions of other files (a relation "declared at models.py:42"), so they
also need the exact project facts to be the same. Findings that are empty quote nothing,
and the analyses decide the same on positions of the same order: they stay valid.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts

# Fields of the cached fact dataclasses that hold source positions. A position held under
# another name is compared as data: an edit moving it changes the shape, which re-checks
# more than needed but never too little.
_LINE_FIELDS = frozenset({"line", "queryset_line"})
_COLUMN_FIELDS = frozenset({"column"})
_LINE_COLUMN_FIELDS = frozenset({"row_of"})  # (line, column) pairs

_Plain = str | int | float | bool | None | bytes | list["_Plain"]


@dataclass(frozen=True, slots=True)
class FactsDigests:
    shape: str
    exact: str


# A file without facts (unreadable, or its facts failed): it adds nothing to the index.
NO_FACTS = FactsDigests("", "")


def facts_digests(facts: ModuleFacts | None) -> FactsDigests:
    if facts is None:
        return NO_FACTS
    lines: set[int] = set()
    columns: set[int] = set()
    _positions(facts, lines, columns)
    exact = _plain(facts, None, None)
    shape = _plain(facts, _ranks(lines), _ranks(columns))
    return FactsDigests(_digest(shape), _digest(exact))


def project_digest(digests: Iterable[tuple[str, str]]) -> str:
    """One digest for (path, file digest) pairs, in any order."""
    hasher = hashlib.blake2b(digest_size=16)
    for path, digest in sorted(digests):
        hasher.update(f"{path}\0{digest}\0".encode())
    return hasher.hexdigest()


def _digest(value: _Plain) -> str:
    return hashlib.blake2b(msgspec.msgpack.encode(value), digest_size=16).hexdigest()


def _ranks(values: set[int]) -> dict[int, int]:
    """Each positive position's rank (from 1); 0 and below stay as they are."""
    ranks = {value: value for value in values if value <= 0}
    ranks.update((value, rank) for rank, value in enumerate(sorted(value for value in values if value > 0), 1))
    return ranks


def _positions(value: object, lines: set[int], columns: set[int]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name in _LINE_FIELDS and isinstance(item, int):
                lines.add(item)
            elif field.name in _COLUMN_FIELDS and isinstance(item, int):
                columns.add(item)
            elif field.name in _LINE_COLUMN_FIELDS and _is_pair(item):
                lines.add(item[0])
                columns.add(item[1])
            else:
                _positions(item, lines, columns)
    elif isinstance(value, dict):
        for item in value.values():
            _positions(item, lines, columns)
    elif isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            _positions(item, lines, columns)


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(item, int) for item in value)


def _plain(value: object, lines: dict[int, int] | None, columns: dict[int, int] | None) -> _Plain:
    """`value` as nested lists of scalars, the same for equal values in any process (sets
    sorted); positions replaced by their ranks when `lines` and `columns` are given."""
    if value is None or isinstance(value, (str, bool, int, float, bytes)):
        return value
    if isinstance(value, enum.Enum):
        return [type(value).__name__, _plain(value.value, None, None)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain: list[_Plain] = [type(value).__name__]
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if lines is not None and columns is not None:
                if field.name in _LINE_FIELDS and isinstance(item, int):
                    item = lines[item]
                elif field.name in _COLUMN_FIELDS and isinstance(item, int):
                    item = columns[item]
                elif field.name in _LINE_COLUMN_FIELDS and _is_pair(item):
                    item = (lines[item[0]], columns[item[1]])
            plain.append(_plain(item, lines, columns))
        return plain
    if isinstance(value, dict):
        return ["dict", *(
            [_plain(key, lines, columns), _plain(item, lines, columns)]
            for key, item in sorted(value.items(), key=lambda pair: repr(pair[0]))
        )]
    if isinstance(value, (set, frozenset)):
        items = [_plain(item, lines, columns) for item in value]
        return ["set", *sorted(items, key=msgspec.msgpack.encode)]
    if isinstance(value, (tuple, list)):
        return ["seq", *(_plain(item, lines, columns) for item in value)]
    raise TypeError(f"module facts hold a value backbone cannot digest: {type(value).__name__}")
