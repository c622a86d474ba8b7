"""SQL capture for SQLAlchemy through engine events (sync engines and the sync core of async ones).

Listening on the `Engine` class reaches every engine, existing or future,
including `AsyncEngine.sync_engine`; `instrument_engine` limits capture to one.
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING

from backbone.runtime import capture
from backbone.runtime.events import QueryLayer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.engine.interfaces import DBAPICursor, ExceptionContext, ExecutionContext

# When the running statement started; 0.0 when backbone is not timing one. A contextvar rather
# than `conn.info`: it is cheaper, and the before/after events of one statement share a context
# (SQLAlchemy's asyncio greenlets inherit their parent's context).
_started: contextvars.ContextVar[float] = contextvars.ContextVar("backbone_sqlalchemy_started", default=0.0)


def _before_cursor_execute(
    conn: Connection,
    cursor: DBAPICursor,
    statement: str,
    parameters: object,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    try:
        if capture.capture_is_active():
            capture.claim(True)
            _started.set(time.perf_counter())
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.instrumentation_errors.note(error)


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
        capture.claim(False)
        capture.record_query(statement, duration, QueryLayer.SQLALCHEMY, many=executemany, dialect=conn.dialect.name)
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.instrumentation_errors.note(error)


def _handle_error(exception_context: ExceptionContext) -> None:
    try:
        if _started.get():
            _started.set(0.0)
            capture.claim(False)
    except Exception as error:  # noqa: BLE001 - never raise into the app's error handling
        capture.instrumentation_errors.note(error)


_EVENTS = (
    ("before_cursor_execute", _before_cursor_execute),
    ("after_cursor_execute", _after_cursor_execute),
    ("handle_error", _handle_error),
)


def install() -> bool:
    """Listen on every engine; False when SQLAlchemy is not installed."""
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return False
    for name, listener in _EVENTS:
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)
    return True


def uninstall() -> None:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    for name, listener in _EVENTS:
        if event.contains(Engine, name, listener):
            event.remove(Engine, name, listener)


def instrument_engine(engine: Engine) -> None:
    """Capture the queries of this one engine (pass `async_engine.sync_engine` for an AsyncEngine)."""
    from sqlalchemy import event

    for name, listener in _EVENTS:
        if not event.contains(engine, name, listener):
            event.listen(engine, name, listener)


def uninstrument_engine(engine: Engine) -> None:
    from sqlalchemy import event

    for name, listener in _EVENTS:
        if event.contains(engine, name, listener):
            event.remove(engine, name, listener)
