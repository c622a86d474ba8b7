"""Per-request capture state, kept in a contextvar so that concurrent requests never mix.

A middleware (or the pytest plugin) opens a `RequestCapture`; the SQL hooks append
to whichever capture is current. asyncio tasks, `contextvars.copy_context()` and
asgiref's sync_to_async carry the current capture along; threads started by the
app do not, which is why a thread can also set an *ambient* capture (the pytest
plugin does, because a test client may run the app on another thread).

Every hook guards its own work: an error inside backbone is counted in
`instrumentation_errors`, never raised into the app.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from backbone.runtime.callsite import find_call_site
from backbone.runtime.events import LoopStall, QueryEvent, QueryLayer

_log = logging.getLogger("backbone.runtime")

class RequestCapture:
    """The queries and stalls of one request (or one test), collected while it runs."""

    __slots__ = ("label", "queries", "stalls", "started")

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.queries: list[QueryEvent] = []
        self.stalls: list[LoopStall] = []
        self.started = time.perf_counter()


_current: contextvars.ContextVar[RequestCapture | None] = contextvars.ContextVar("backbone_capture", default=None)
# Read from other threads by the stall watchdog, through a task's context.
capture_variable = _current
# Set while a higher layer (SQLAlchemy, Django) is executing a statement, so that the
# DB-API hooks underneath do not record the same statement a second time.
_claimed: contextvars.ContextVar[bool] = contextvars.ContextVar("backbone_claimed", default=False)


class _Ambient:
    """The process-wide fallback capture, for queries run on threads that have no current capture."""

    capture: RequestCapture | None = None


_ambient = _Ambient()
# Public names for hooks that read the state directly on their hot path.
ambient = _ambient
claimed_variable = _claimed


class InstrumentationErrors:
    """How many times instrumentation failed and swallowed its error; reported so failures are not silent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.last: str = ""

    def note(self, error: BaseException) -> None:
        """Count `error`; never raises, whatever the error's `str()` or the app's logging handlers do."""
        with self._lock:
            self.count += 1
            first = self.count == 1
        try:
            self.last = f"{type(error).__name__}: {error}"
        except Exception:  # noqa: BLE001 - an error whose str() fails is still counted
            self.last = type(error).__name__
        # Logged once is enough to debug; the count tells how often.
        if first:
            try:
                _log.warning("backbone instrumentation error (the app is unaffected): %s", self.last, exc_info=error)
            except Exception:  # noqa: BLE001 - a failing log handler of the app's must not reach the app
                pass


instrumentation_errors = InstrumentationErrors()


def note_error(error: BaseException) -> None:
    """Count an instrumentation failure. Every hook reports through this: even a failing counter stays inside backbone."""
    try:
        instrumentation_errors.note(error)
    except Exception:  # noqa: BLE001 - nothing is left to tell, and the app must not see it
        pass


class RequestTicket:
    """A request the profile driver sent and may stop waiting for.

    The request ends once: either the middleware finishes it, or the driver's timeout
    does first and the middleware's late end records nothing. The middleware binds
    `on_timeout` (how to record the request as timed out, with its route and queries)
    when the request begins.
    """

    __slots__ = ("_lock", "_settled", "on_timeout")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settled = False
        self.on_timeout: Callable[[], None] | None = None

    def settle(self) -> bool:
        """True for the first caller only: that one records the request."""
        with self._lock:
            if self._settled:
                return False
            self._settled = True
            return True


# The ticket of the request being sent on this task or thread (set by the profile driver only).
ticket_variable: contextvars.ContextVar[RequestTicket | None] = contextvars.ContextVar("backbone_ticket", default=None)


def current_capture() -> RequestCapture | None:
    capture = _current.get()
    return capture if capture is not None else _ambient.capture


def activate(capture: RequestCapture) -> contextvars.Token[RequestCapture | None]:
    return _current.set(capture)


def deactivate(token: contextvars.Token[RequestCapture | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:
        # The token belongs to another context (a WSGI body closed on another thread):
        # clearing is the best that can be done there.
        _current.set(None)


@contextmanager
def capturing(label: str = "", *, ambient: bool = False) -> Iterator[RequestCapture]:
    """Collect the queries run inside the block (and, with `ambient`, on any thread without its own capture)."""
    capture = RequestCapture(label)
    token = _current.set(capture)
    previous_ambient = _ambient.capture
    if ambient:
        _ambient.capture = capture
    try:
        yield capture
    finally:
        if ambient:
            _ambient.capture = previous_ambient
        deactivate(token)


def set_ambient(capture: RequestCapture | None) -> RequestCapture | None:
    """Make `capture` the fallback for threads without a current capture; returns the previous one."""
    previous = _ambient.capture
    _ambient.capture = capture
    return previous


def is_claimed() -> bool:
    return _claimed.get()


@contextmanager
def claimed() -> Iterator[None]:
    """Statements sent to the driver inside the block are not the app's own (or are recorded above)."""
    token = _claimed.set(True)
    try:
        yield
    finally:
        _claimed.reset(token)


def record_query(
    sql: str,
    duration_s: float,
    layer: QueryLayer,
    *,
    many: bool = False,
    dialect: str | None = None,
    failed: bool = False,
) -> None:
    """Append a query to the current capture, if any; never raises."""
    try:
        record_query_unguarded(sql, duration_s, layer, many, dialect, failed)
    except Exception as error:  # noqa: BLE001 - instrumentation must never break the app
        note_error(error)


_new_event = tuple.__new__


def record_query_unguarded(
    sql: str, duration_s: float, layer: QueryLayer, many: bool, dialect: str | None, failed: bool = False
) -> None:
    """`record_query` for hooks that guard themselves: one call less on every query."""
    capture = _current.get()
    if capture is None:
        capture = _ambient.capture
        if capture is None:
            return
    if layer is QueryLayer.DBAPI:
        # A statement sent to the driver with no application code on the stack is a library's
        # own: a driver's worker thread repeating what the layer above already recorded, or
        # connection housekeeping.
        site = find_call_site(library_fallback=False)
        if site is None:
            return
    else:
        site = find_call_site()
    # tuple.__new__ skips the NamedTuple's Python-level __new__: this runs once per query.
    capture.queries.append(_new_event(QueryEvent, (sql, duration_s, site, layer, many, dialect, failed)))


def capture_is_active() -> bool:
    return _current.get() is not None or _ambient.capture is not None
