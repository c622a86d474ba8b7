"""Constants and small helpers shared by the flow modules."""

from __future__ import annotations

import ast

from backbone.findings import Confidence
from backbone.review.orm import catalog
from backbone.review.orm.values import DataLayer, DataValue, ValueKind

ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Module


Position = tuple[int, int]


_HIGH, _MEDIUM, _LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


_LAZY_KINDS = (ValueKind.QUERY, ValueKind.RELATED_MANAGER)


_HANDLE_KINDS = (ValueKind.SESSION, ValueKind.CONNECTION, ValueKind.CURSOR, ValueKind.ENGINE)


# Builtins that evaluate an iterable they are given.
_EVALUATING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "len", "bool", "dict", "sum", "max", "min", "any", "all"})


# The text shown for a query is clipped to this many characters.
_LONGEST_TEXT = 60


# How many values may be under evaluation at once (each costs a few stack frames).
_DEEPEST_VALUE = 100


_END: ast.AST = ast.Pass(lineno=10**9, col_offset=0)


def _conventional(name: str, confidence: Confidence) -> DataValue | None:
    """A value guessed from a name alone: `session`, `db`, `cursor`, `conn`."""
    lowered = name.lower().lstrip("_")
    if lowered in catalog.SESSION_NAMES:
        return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=confidence)
    if lowered in catalog.CURSOR_NAMES:
        return DataValue(ValueKind.CURSOR, DataLayer.DRIVER, confidence=confidence)
    if lowered in catalog.CONNECTION_NAMES:
        return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER, confidence=confidence)
    return None


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse of exotic nodes must not stop an analysis
        return "..."


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_TEXT else text[: _LONGEST_TEXT - 3] + "..."


def _text(call: ast.Call) -> str:
    """`Customer.objects.get(...)`: the callee as written, arguments elided."""
    return _clip(_unparse(call.func)) + ("(...)" if call.args or call.keywords else "()")
