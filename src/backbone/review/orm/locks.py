"""Locks that serialise writers: what makes a read-modify-write safe (BB206).

A function holds such a lock when it takes a PostgreSQL advisory lock
(`pg_advisory_xact_lock`, `pg_advisory_lock`) or reads rows with `select_for_update()` /
`with_for_update()`; the per-file facts record it (`FunctionDataAccess.locks`) so that
the project knowledge can answer for the callers of a function as well.
"""

from __future__ import annotations

import ast

from backbone.review.orm.flow.module import ScopeFlow
from backbone.review.orm.values import QueryKind

_LOCKING_CALLS = frozenset({"select_for_update", "with_for_update"})
_SQL_CALLS = frozenset({"execute", "exec_driver_sql", "fetch", "fetchrow", "fetchval", "text", "scalar"})


def takes_lock(flow: ScopeFlow) -> bool:
    """The function takes a lock that serialises writers: an advisory lock or a locked row read."""
    for event in flow.events():
        if event.kind is QueryKind.READ and event.receiver is not None and event.receiver.locked:
            return True
    for call in flow.calls:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _LOCKING_CALLS:
            return True
        if call.args and name in _SQL_CALLS:
            text = flow.sql_text(call.args[0]) if isinstance(call.args[0], ast.expr) else None
            if text is None and isinstance(call.args[0], ast.Call) and call.args[0].args:
                inner = call.args[0].args[0]
                text = flow.sql_text(inner) if isinstance(inner, ast.expr) else None
            if text is not None and "pg_advisory" in text.lower() and "unlock" not in text.lower():
                return True
    return False
