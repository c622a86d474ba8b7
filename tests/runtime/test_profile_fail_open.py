"""Fail-open: errors injected into every part of the instrumentation never change a response or reach the app."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backbone.runtime import BackboneASGIMiddleware, BackboneWSGIMiddleware, Recorder, capturing, instrumented
from backbone.runtime import asgi, capture, hooks_dbapi, hooks_django, hooks_sqlalchemy, recorder, stalls, wsgi
from backbone.runtime.capture import instrumentation_errors
from rt_asgi_tools import get_all


class InjectedError(Exception):
    """Raised by the sabotaged instrumentation."""


def explode(*args: object, **kwargs: object) -> Any:
    raise InjectedError("injected into backbone's instrumentation")


# (module, attribute) pairs whose replacement by `explode` must leave the app unaffected.
ASGI_INJECTIONS = [
    (capture, "find_call_site"),  # every captured query
    (asgi, "RequestCapture"),  # the start of every request
    (asgi, "starlette_route"),  # the end of every request
    (recorder.Recorder, "add"),
    (asgi, "register_request_frame"),
    (stalls.LoopMonitor, "settle"),
    (stalls.LoopMonitor, "watch"),  # the watchdog thread
    (stalls.LoopMonitor, "_record"),  # the loop heartbeat
    (hooks_sqlalchemy, "_current"),  # SQLAlchemy's before/after hooks
    (hooks_sqlalchemy.capture, "record_query_unguarded"),
    (asgi, "ticket_variable"),  # the profile driver's request ticket
    (asgi, "unregister_request_frame"),
]


@pytest.fixture
def sabotage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[object, str], None]]:
    before = instrumentation_errors.count

    def inject(owner: object, name: str) -> None:
        monkeypatch.setattr(owner, name, explode)

    yield inject
    # The failures were counted: fail-open is not silent.
    assert instrumentation_errors.count > before


def baseline(app: Any, *paths: str) -> list[tuple[int, bytes]]:
    return [(response.status_code, response.content) for response in get_all(app, *paths)]


STALL_PATH = "/async/stall"


@pytest.mark.parametrize(("owner", "name"), ASGI_INJECTIONS, ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n in ASGI_INJECTIONS])
def test_asgi_app_is_unaffected(tmp_path: Path, owner: object, name: str, sabotage: Callable[[object, str], None]) -> None:
    check_asgi_app(tmp_path, owner, name, sabotage)


@pytest.mark.parametrize(("owner", "name"), ASGI_INJECTIONS, ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n in ASGI_INJECTIONS])
def test_asgi_app_is_unaffected_when_the_error_counter_fails_too(
    tmp_path: Path, owner: object, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture.InstrumentationErrors, "note", explode)
    check_asgi_app(tmp_path, owner, name, lambda owner, name: monkeypatch.setattr(owner, name, explode))


def check_asgi_app(tmp_path: Path, owner: object, name: str, sabotage: Callable[[object, str], None]) -> None:
    import rt_fastapi_app

    paths = ("/authors", "/authors/eager", "/authors/2", "/async/authors")
    with instrumented():
        app = rt_fastapi_app.create_app(str(tmp_path / "db.sqlite"))
        rt_fastapi_app.setup(app)
        # A stall in every run, so that the loop monitor's code runs: 250 ms against a 50 ms threshold.
        app.state.stall_seconds = 0.25
        expected = baseline(app, *paths) + [(200, b'{"slept":"yes"}')]
        sabotage(owner, name)
        middleware = BackboneASGIMiddleware(app, Recorder(), stall_threshold_s=0.05)
        assert baseline(middleware, *paths, STALL_PATH) == expected
        middleware.close()
        app.state.engine.dispose()


def test_asgi_message_that_is_not_a_mapping_still_reaches_the_server() -> None:
    sent: list[object] = []

    async def odd_app(scope: Any, receive: Any, send: Any) -> None:
        await send("not a mapping")

    async def server_send(message: object) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request"}

    import asyncio

    before = instrumentation_errors.count
    middleware = BackboneASGIMiddleware(odd_app, Recorder(), stall_threshold_s=None)
    asyncio.run(middleware({"type": "http", "method": "GET", "path": "/"}, receive, server_send))
    assert sent == ["not a mapping"] and instrumentation_errors.count > before


WSGI_INJECTIONS = [
    (capture, "find_call_site"),
    (wsgi, "RequestCapture"),
    (wsgi.capture_state, "activate"),
    (recorder.Recorder, "add"),
    (hooks_sqlalchemy.capture, "record_query_unguarded"),
]


@pytest.mark.parametrize(("owner", "name"), WSGI_INJECTIONS, ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n in WSGI_INJECTIONS])
def test_wsgi_app_is_unaffected(tmp_path: Path, owner: object, name: str, sabotage: Callable[[object, str], None]) -> None:
    check_wsgi_app(tmp_path, owner, name, sabotage)


@pytest.mark.parametrize(("owner", "name"), WSGI_INJECTIONS, ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n in WSGI_INJECTIONS])
def test_wsgi_app_is_unaffected_when_the_error_counter_fails_too(
    tmp_path: Path, owner: object, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture.InstrumentationErrors, "note", explode)
    check_wsgi_app(tmp_path, owner, name, lambda owner, name: monkeypatch.setattr(owner, name, explode))


def check_wsgi_app(tmp_path: Path, owner: object, name: str, sabotage: Callable[[object, str], None]) -> None:
    import rt_flask_app

    paths = ("/writers", "/writers/eager", "/writers/3", "/streamed")
    with instrumented():
        app = rt_flask_app.create_app(str(tmp_path / "flask.sqlite"))

        def responses(wsgi_app: Any) -> list[tuple[int, bytes]]:
            with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app), base_url="http://t") as client:
                return [(r.status_code, r.content) for r in (client.get(path) for path in paths)]

        expected = responses(app)
        sabotage(owner, name)
        assert responses(BackboneWSGIMiddleware(app, Recorder())) == expected
        with app.app_context():
            rt_flask_app.db.engine.dispose()


@pytest.mark.parametrize("name", ["capture_is_active", "record_query"])
def test_django_queries_are_unaffected(django_project: Any, name: str, sabotage: Callable[[object, str], None]) -> None:
    with instrumented():
        expected = [(book.title, book.author.name) for book in django_project.Book.objects.all()]
        sabotage(hooks_django.capture, name)
        with capturing():
            assert [(book.title, book.author.name) for book in django_project.Book.objects.all()] == expected


@pytest.mark.parametrize("name", ["_should_record", "_instrumented_connection_class", "_instrumented_cursor_class", "_statement_text"])
def test_sqlite3_queries_are_unaffected(tmp_path: Path, name: str, sabotage: Callable[[object, str], None]) -> None:
    with instrumented():
        sabotage(hooks_dbapi, name)
        connection = sqlite3.connect(tmp_path / "raw.sqlite")
        with capturing():
            connection.execute("CREATE TABLE t (a INTEGER)")
            connection.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
            rows = connection.cursor().execute("SELECT a FROM t ORDER BY a").fetchall()
        connection.close()
    assert rows == [(1,), (2,)]


def test_the_apps_own_query_errors_pass_through_unchanged(tmp_path: Path) -> None:
    connection_path = tmp_path / "errors.sqlite"
    with instrumented(), capturing() as captured:
        connection = sqlite3.connect(connection_path)
        with pytest.raises(sqlite3.OperationalError, match="no such table: missing"):
            connection.execute("SELECT * FROM missing")
        connection.close()
    # The failed statement is still recorded, with its time.
    assert [query.sql for query in captured.queries] == ["SELECT * FROM missing"]


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("this exception cannot be printed")


class RaisingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        raise RuntimeError("a log filter of the app's that raises")


def test_the_error_counter_counts_what_it_cannot_print_or_log(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = capture.InstrumentationErrors()
    logger = logging.getLogger("backbone.runtime")
    log_filter = RaisingFilter()
    logger.addFilter(log_filter)
    try:
        counter.note(UnprintableError())
        counter.note(ValueError("second"))
    finally:
        logger.removeFilter(log_filter)
    assert counter.count == 2
    assert counter.last == "ValueError: second"
