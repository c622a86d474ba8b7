"""SQL capture for the Django ORM through `connection.execute_wrappers`.

Django keeps one connection object per thread (and per async context), created
lazily, so the wrapper is attached in two ways: to the connections that already
exist in this thread, and to every connection created afterwards through the
`connection_created` signal.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence

from backbone.runtime import capture
from backbone.runtime.events import QueryLayer

_DISPATCH_UID = "backbone.runtime.hooks_django"


class _State:
    installed = False
    original_connect: Callable[..., object] | None = None


_state = _State()


def backbone_execute_wrapper(
    execute: Callable[[str, object, bool, Mapping[str, object]], object],
    sql: str,
    params: object,
    many: bool,
    context: Mapping[str, object],
) -> object:
    """The wrapper Django calls around every statement; it times it when a capture is active."""
    try:
        active = _state.installed and capture.capture_is_active()
    except Exception as error:  # noqa: BLE001 - never raise into the app's query
        capture.note_error(error)
        active = False
    if not active:
        return execute(sql, params, many, context)
    started = time.perf_counter()
    failed = True
    try:
        with capture.claimed():
            result = execute(sql, params, many, context)
        failed = False
        return result
    finally:
        try:
            duration = time.perf_counter() - started
            connection = context.get("connection")
            vendor = getattr(connection, "vendor", None)
            capture.record_query(sql, duration, QueryLayer.DJANGO, many=many, dialect=vendor, failed=failed)
        except Exception as error:  # noqa: BLE001 - never raise into the app's query
            capture.note_error(error)


def _attach(connection: object) -> None:
    wrappers = getattr(connection, "execute_wrappers", None)
    if isinstance(wrappers, list) and backbone_execute_wrapper not in wrappers:
        wrappers.append(backbone_execute_wrapper)


def _on_connection_created(sender: object, connection: object, **kwargs: object) -> None:
    try:
        _attach(connection)
    except Exception as error:  # noqa: BLE001 - never raise into Django's connect
        capture.note_error(error)


def attach_to_current_connections() -> None:
    """Attach the wrapper to the connections this thread already holds (when Django is configured)."""
    try:
        from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
        from django.db import connections  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return
    if not settings.configured:
        return
    existing: Sequence[object]
    try:
        existing = connections.all(initialized_only=True)
    except TypeError:  # Django < 4.1 has no initialized_only
        existing = connections.all()
    for connection in existing:
        _attach(connection)


def _claim_connection_setup() -> None:
    """Keep the statements a backend runs while connecting (sqlite's compile options, PostgreSQL's
    time zone) out of the request: they are Django's, and with CONN_MAX_AGE=0 they would repeat on
    every request. They reach the driver outside the execute wrappers, so the DB-API hooks would
    otherwise record them."""
    from django.db.backends.base.base import BaseDatabaseWrapper  # type: ignore[import-untyped, unused-ignore]

    if _state.original_connect is not None:
        return
    original: Callable[..., object] = BaseDatabaseWrapper.connect
    _state.original_connect = original

    @functools.wraps(original)
    def connect(self: object) -> object:
        with capture.claimed():
            return original(self)

    BaseDatabaseWrapper.connect = connect


def _release_connection_setup() -> None:
    if _state.original_connect is None:
        return
    from django.db.backends.base.base import BaseDatabaseWrapper  # type: ignore[import-untyped, unused-ignore]

    BaseDatabaseWrapper.connect = _state.original_connect
    _state.original_connect = None


def install() -> bool:
    """Capture Django ORM queries; False when Django is not installed."""
    try:
        from django.db.backends.signals import connection_created  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return False
    connection_created.connect(_on_connection_created, weak=False, dispatch_uid=_DISPATCH_UID)
    _claim_connection_setup()
    _state.installed = True
    attach_to_current_connections()
    return True


def uninstall() -> None:
    _state.installed = False
    if _state.original_connect is not None:
        _release_connection_setup()
    try:
        from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
        from django.db import connections  # type: ignore[import-untyped, unused-ignore]
        from django.db.backends.signals import connection_created  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return
    connection_created.disconnect(dispatch_uid=_DISPATCH_UID)
    if settings.configured:
        for connection in connections.all(initialized_only=True):
            wrappers = getattr(connection, "execute_wrappers", None)
            if isinstance(wrappers, list) and backbone_execute_wrapper in wrappers:
                wrappers.remove(backbone_execute_wrapper)
