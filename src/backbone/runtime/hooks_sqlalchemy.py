"""SQL capture for SQLAlchemy through engine events (sync engines and the sync core of async ones).

Listening on the `Engine` class reaches every engine, existing or future,
including `AsyncEngine.sync_engine`; `instrument_engine` limits capture to one.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from backbone.runtime import capture
from backbone.runtime.events import QueryLayer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.engine.interfaces import (
        DBAPICursor,
        ExceptionContext,
        ExecutionContext,
    )

# When the running statement started; 0.0 when backbone is not timing one. A contextvar rather
# than `conn.info`: it is cheaper, and the before/after events of one statement share a context
# (SQLAlchemy's asyncio greenlets inherit their parent's context).
_started: contextvars.ContextVar[float] = contextvars.ContextVar("backbone_sqlalchemy_started", default=0.0)


# Module-level names for the two hooks below, which run on every statement.
_current = capture.capture_variable
_ambient = capture.ambient
_claimed = capture.claimed_variable
_SQLALCHEMY = QueryLayer.SQLALCHEMY


def _before_cursor_execute(
    conn: Connection,
    cursor: DBAPICursor,
    statement: str,
    parameters: object,
    context: ExecutionContext | None,
    executemany: bool,
) -> tuple[str, object]:
    # Listened to with retval=True, which spares SQLAlchemy a wrapper call per statement:
    # the statement and parameters go back unchanged.
    try:
        if _current.get() is not None or _ambient.capture is not None:
            _claimed.set(True)
            _started.set(time.perf_counter())
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.note_error(error)
    return statement, parameters


def _after_cursor_execute(
    conn: Connection,
    cursor: DBAPICursor,
    statement: str,
    parameters: object,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    try:
        started = _started.get()
        if not started:
            return
        duration = time.perf_counter() - started
        _started.set(0.0)
        _claimed.set(False)
        capture.record_query_unguarded(statement, duration, _SQLALCHEMY, executemany, conn.dialect.name)
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.note_error(error)


def _handle_error(exception_context: ExceptionContext) -> None:
    # A statement that raised still ran: it is recorded, marked failed, with the time it took.
    try:
        started = _started.get()
        if not started:
            return
        duration = time.perf_counter() - started
        _started.set(0.0)
        _claimed.set(False)
        statement = exception_context.statement
        if statement is None:
            return
        execution = exception_context.execution_context
        many = bool(getattr(execution, "executemany", False)) if execution is not None else False
        capture.record_query_unguarded(statement, duration, _SQLALCHEMY, many, exception_context.dialect.name, True)
    except Exception as error:  # noqa: BLE001 - never raise into the app's error handling
        capture.note_error(error)


# (event, listener, retval)
_EVENTS: tuple[tuple[str, Callable[..., object], bool], ...] = (
    ("before_cursor_execute", _before_cursor_execute, True),
    ("after_cursor_execute", _after_cursor_execute, False),
    ("handle_error", _handle_error, False),
)


def install() -> bool:
    """Listen on every engine; False when SQLAlchemy is not installed."""
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return False
    for name, listener, retval in _EVENTS:
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener, retval=retval)
    return True


def uninstall() -> None:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    for name, listener, _ in _EVENTS:
        if event.contains(Engine, name, listener):
            event.remove(Engine, name, listener)


def instrument_engine(engine: Engine) -> None:
    """Capture the queries of this one engine (pass `async_engine.sync_engine` for an AsyncEngine)."""
    from sqlalchemy import event

    for name, listener, retval in _EVENTS:
        if not event.contains(engine, name, listener):
            event.listen(engine, name, listener, retval=retval)


def uninstrument_engine(engine: Engine) -> None:
    from sqlalchemy import event

    for name, listener, _ in _EVENTS:
        if event.contains(engine, name, listener):
            event.remove(engine, name, listener)
