"""Locks that serialise writers: what makes a read-modify-write safe (BB206).

A function holds such a lock when it takes a PostgreSQL advisory lock
(`pg_advisory_xact_lock`, `pg_advisory_lock`, their `pg_try_` forms) or a lock on the whole
database or table that writers wait for (SQLite's `BEGIN IMMEDIATE` / `BEGIN EXCLUSIVE`,
PostgreSQL's `LOCK TABLE` in a mode that conflicts with itself), reads rows with
`select_for_update()` / `with_for_update()`, or acquires an asyncio lock (`async with
self._lock:`, `await lock.acquire()`); the per-file facts record it
(`FunctionDataAccess.locks`) so that the project knowledge can answer for the callers of
a function, for the functions that call a helper which acquires one, and for the code a
project context manager or decorator wraps (`ProjectKnowledge.wraps_in_lock`), as well.
"""

from __future__ import annotations

import ast
import re

from backbone.review.orm.flow.module import ScopeFlow
from backbone.review.orm.values import QueryKind
from backbone.review.semantic import own_nodes

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
            if text is not None and (_advisory_lock(text) or _write_lock(text)):
                return True
        if name == "acquire" and isinstance(func, ast.Attribute) and _names_a_lock(func.value):
            # `await lock.acquire()`, `await asyncio.wait_for(lock.acquire(), timeout)`.
            return True
    scope = flow.scope
    if isinstance(scope, ast.AsyncFunctionDef):  # `async with` is only valid in a coroutine
        for node in own_nodes(scope):
            if isinstance(node, ast.AsyncWith) and any(_names_a_lock(item.context_expr) for item in node.items):
                # `async with self._lock:`: the coroutines of this process take turns.
                return True
    return False


def _advisory_lock(text: str) -> bool:
    """`SELECT pg_advisory_xact_lock(...)`, `pg_try_advisory_lock(...)`, not the unlock."""
    lowered = text.lower()
    return "advisory" in lowered and "_lock" in lowered and "unlock" not in lowered


# `BEGIN IMMEDIATE` / `BEGIN EXCLUSIVE` (SQLite: the database's write lock, taken at once).
_BEGIN_LOCKING = re.compile(r"(?:^|;)\s*begin\s+(?:immediate|exclusive)\b")
# `LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE`, `LOCK accounts` (PostgreSQL), `LOCK TABLES
# accounts WRITE` (MySQL).
_LOCK_STATEMENT = re.compile(r"(?:^|;)\s*lock\s+(?:tables?\s+)?(?P<rest>[^;]*)")
_LOCK_MODE = re.compile(r"\bin\s+(?P<mode>[a-z ]+?)\s+mode\b")
# PostgreSQL's table lock modes that don't conflict with themselves: two transactions both hold
# one, read, and write; nothing waits.
_SHARED_MODES = frozenset({"access share", "row share", "row exclusive", "share"})


def _write_lock(text: str) -> bool:
    """SQL that takes a lock every writer of the database or table waits for: SQLite's `BEGIN
    IMMEDIATE` / `BEGIN EXCLUSIVE`, PostgreSQL's `LOCK TABLE` (ACCESS EXCLUSIVE unless it names
    a mode; not a mode that doesn't conflict with itself), MySQL's `LOCK TABLES ... WRITE`."""
    lowered = " ".join(text.lower().split())
    if _BEGIN_LOCKING.search(lowered):
        return True
    for statement in _LOCK_STATEMENT.finditer(lowered):
        rest = statement.group("rest")
        if lowered[statement.start():].lstrip("; ").startswith("lock tables"):
            if re.search(r"\bwrite\b", rest):
                return True
            continue
        mode = _LOCK_MODE.search(rest)
        if mode is None or mode.group("mode").strip() not in _SHARED_MODES:
            return True
    return False


def _names_a_lock(node: ast.expr) -> bool:
    """`lock`, `self._lock`, `session_lock`, `asyncio.Lock()`: what its name says is a lock."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in ("Lock", "Semaphore", "BoundedSemaphore")
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    lowered = name.lower().strip("_")
    return lowered == "lock" or lowered.endswith("_lock")
