"""SQL capture for DB-API drivers used directly: sqlite3 and psycopg 3.

sqlite3's connection and cursor are C types that cannot be patched, so
`sqlite3.connect` is replaced by a function that asks for an instrumented
subclass through its `factory` argument; connections opened before `install()`
are not captured. psycopg's cursors are Python classes, so their `execute` and
`executemany` are wrapped.

Statements that SQLAlchemy or Django already record (they reach the driver
through these same methods) are claimed by those layers and skipped here.
"""

from __future__ import annotations

import functools
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from backbone.runtime import capture
from backbone.runtime.events import QueryLayer

P = ParamSpec("P")
R = TypeVar("R")
# `Any` is confined to this module's driver-facing signatures: the drivers' own types vary by version.
Receiver = TypeVar("Receiver")


def _should_record() -> bool:
    return capture.capture_is_active() and not capture.is_claimed()


def _statement_text(statement: object, cursor: object) -> str:
    if isinstance(statement, str):
        return statement
    if isinstance(statement, bytes):
        return statement.decode("utf-8", "replace")
    as_string = getattr(statement, "as_string", None)
    if callable(as_string):
        # psycopg.sql.Composed needs a context to render its identifiers.
        return str(as_string(cursor))
    return str(statement)


def _record(statement: object, cursor: object, started: float, *, many: bool, dialect: str, failed: bool) -> None:
    try:
        capture.record_query(
            _statement_text(statement, cursor),
            time.perf_counter() - started,
            QueryLayer.DBAPI,
            many=many,
            dialect=dialect,
            failed=failed,
        )
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.note_error(error)


def _guarded_should_record() -> bool:
    try:
        return _should_record()
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.note_error(error)
        return False


# --- sqlite3 -------------------------------------------------------------------------------------


class _CursorMixin:
    """Timing for a sqlite3.Cursor subclass; `super()` reaches the C implementation."""

    def execute(self, sql: str, *parameters: Any) -> Any:
        if not _guarded_should_record():
            return super().execute(sql, *parameters)  # type: ignore[misc]
        started = time.perf_counter()
        failed = True
        try:
            result = super().execute(sql, *parameters)  # type: ignore[misc]
            failed = False
            return result
        finally:
            _record(sql, self, started, many=False, dialect="sqlite", failed=failed)

    def executemany(self, sql: str, *parameters: Any) -> Any:
        if not _guarded_should_record():
            return super().executemany(sql, *parameters)  # type: ignore[misc]
        started = time.perf_counter()
        failed = True
        try:
            result = super().executemany(sql, *parameters)  # type: ignore[misc]
            failed = False
            return result
        finally:
            _record(sql, self, started, many=True, dialect="sqlite", failed=failed)


class _InstrumentedCursor(_CursorMixin, sqlite3.Cursor):
    pass


_cursor_classes: dict[type[Any], type[Any]] = {sqlite3.Cursor: _InstrumentedCursor}
_connection_classes: dict[type[Any], type[Any]] = {}


def _instrumented_cursor_class(factory: type[Any]) -> type[Any]:
    if issubclass(factory, _CursorMixin):
        return factory
    found = _cursor_classes.get(factory)
    if found is None:
        found = type(f"Backbone{factory.__name__}", (_CursorMixin, factory), {})
        _cursor_classes[factory] = found
    return found


class _ConnectionMixin:
    """A sqlite3.Connection whose cursors are timed; `execute` shortcuts go through `cursor()`.

    The C `Connection.execute` creates its cursor through `cursor()` but then calls the C
    `Cursor.execute` directly, which would bypass the instrumented cursor.
    """

    def cursor(self, factory: type[Any] = sqlite3.Cursor) -> Any:
        try:
            factory = _instrumented_cursor_class(factory)
        except Exception as error:  # noqa: BLE001 - fall back to the uninstrumented cursor
            capture.note_error(error)
        return super().cursor(factory)  # type: ignore[misc]

    def execute(self, sql: str, *parameters: Any) -> Any:
        return self.cursor().execute(sql, *parameters)

    def executemany(self, sql: str, *parameters: Any) -> Any:
        return self.cursor().executemany(sql, *parameters)


def _instrumented_connection_class(factory: type[Any]) -> type[Any]:
    if issubclass(factory, _ConnectionMixin):
        return factory
    found = _connection_classes.get(factory)
    if found is None:
        found = type(f"Backbone{factory.__name__}", (_ConnectionMixin, factory), {})
        _connection_classes[factory] = found
    return found


_original_connect = sqlite3.connect
# sqlite3.connect's sixth positional parameter is `factory`.
_FACTORY_POSITION = 5


# Connections these libraries open are recorded by their own layer (SQLAlchemy, Django) or run on
# a driver thread (aiosqlite): they are left uninstrumented, which keeps every statement of an ORM
# app free of this layer's cost.
_LAYERED_CALLERS = ("sqlalchemy.", "django.", "aiosqlite.")


@functools.wraps(_original_connect)
def _instrumented_connect(*args: Any, **kwargs: Any) -> Any:
    try:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if isinstance(caller, str) and caller.startswith(_LAYERED_CALLERS):
            return _original_connect(*args, **kwargs)
        if len(args) <= _FACTORY_POSITION:
            factory = kwargs.get("factory") or sqlite3.Connection
            if isinstance(factory, type) and issubclass(factory, sqlite3.Connection):
                kwargs["factory"] = _instrumented_connection_class(factory)
    except Exception as error:  # noqa: BLE001 - connect as the app asked
        capture.note_error(error)
    return _original_connect(*args, **kwargs)


def _install_sqlite3() -> None:
    sqlite3.connect = _instrumented_connect
    sqlite3.dbapi2.connect = _instrumented_connect


def _uninstall_sqlite3() -> None:
    sqlite3.connect = _original_connect
    sqlite3.dbapi2.connect = _original_connect


# --- psycopg 3 -----------------------------------------------------------------------------------

_psycopg_originals: list[tuple[type[Any], str, object]] = []


def _timed_sync(method: Callable[Concatenate[Receiver, P], R], *, many: bool) -> Callable[Concatenate[Receiver, P], R]:
    def timed(self: Receiver, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if not _guarded_should_record():
            return method(self, *args, **kwargs)
        started = time.perf_counter()
        failed = True
        try:
            result = method(self, *args, **kwargs)
            failed = False
            return result
        finally:
            _record(args[0] if args else kwargs.get("query"), self, started, many=many, dialect="postgresql", failed=failed)

    functools.update_wrapper(timed, method)
    return timed


def _timed_async(
    method: Callable[Concatenate[Receiver, P], Awaitable[R]], *, many: bool
) -> Callable[Concatenate[Receiver, P], Awaitable[R]]:
    async def timed(self: Receiver, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if not _guarded_should_record():
            return await method(self, *args, **kwargs)
        started = time.perf_counter()
        failed = True
        try:
            result = await method(self, *args, **kwargs)
            failed = False
            return result
        finally:
            _record(args[0] if args else kwargs.get("query"), self, started, many=many, dialect="postgresql", failed=failed)

    functools.update_wrapper(timed, method)
    return timed


def _install_psycopg() -> bool:
    # Patched once the app has imported psycopg (`catch_up`), so that capture never imports it.
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return False
    if _psycopg_originals:
        return True
    targets: list[tuple[type[Any], str, bool, bool]] = [
        (psycopg.Cursor, "execute", False, False),
        (psycopg.Cursor, "executemany", True, False),
        (psycopg.AsyncCursor, "execute", False, True),
        (psycopg.AsyncCursor, "executemany", True, True),
        (psycopg.ServerCursor, "execute", False, False),
        (psycopg.AsyncServerCursor, "execute", False, True),
    ]
    for owner, name, many, is_async in targets:
        original = owner.__dict__.get(name)
        if original is None:
            continue
        _psycopg_originals.append((owner, name, original))
        wrapped = _timed_async(original, many=many) if is_async else _timed_sync(original, many=many)
        setattr(owner, name, wrapped)
    return True


def _uninstall_psycopg() -> None:
    while _psycopg_originals:
        owner, name, original = _psycopg_originals.pop()
        setattr(owner, name, original)


class _State:
    installed = False


_state = _State()


def install() -> bool:
    _install_sqlite3()
    _install_psycopg()
    _state.installed = True
    return True


def catch_up() -> None:
    """Patch psycopg if it has been imported since `install()`."""
    if _state.installed and not _psycopg_originals:
        _install_psycopg()


def uninstall() -> None:
    _state.installed = False
    _uninstall_sqlite3()
    _uninstall_psycopg()
