"""FastAPI + SQLAlchemy (sync and async engines, SQLite) under the ASGI middleware and the profile driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backbone.runtime import (
    Analyzer,
    BackboneASGIMiddleware,
    DetectionSettings,
    EventLoopStall,
    NPlusOne,
    ProfileOptions,
    Recorder,
    RequestRecord,
    profile,
)
from backbone.runtime.events import AppInterface, CallSite, QueryLayer
from rt_asgi_tools import get_all, get_concurrently
from rt_lines import HERE, marked_line
from rt_sa_models import AUTHORS

APP_FILE = "rt_fastapi_app.py"


def run(app: Any, *paths: str, stall_ms: float = 100) -> tuple[list[RequestRecord], Analyzer]:
    recorder = Recorder()
    middleware = BackboneASGIMiddleware(app, recorder, stall_threshold_s=stall_ms / 1000)
    responses = get_all(middleware, *paths)
    middleware.close()
    assert [response.status_code for response in responses] == [200] * len(paths)
    analyzer = Analyzer(DetectionSettings(stall_ms=stall_ms))
    analyzer.add(recorder.records())
    return recorder.records(), analyzer


def n_plus_one(analyzer: Analyzer) -> list[NPlusOne]:
    return [issue for issue in analyzer.issues() if isinstance(issue, NPlusOne)]


def test_sync_lazy_loading_is_an_n_plus_one_at_the_loop_line(fastapi_app: Any) -> None:
    records, analyzer = run(fastapi_app, "/authors", "/authors/eager")

    lazy, eager = records
    assert (lazy.route, len(lazy.queries)) == ("/authors", 1 + AUTHORS)
    assert (eager.route, len(eager.queries)) == ("/authors/eager", 2)
    [group] = n_plus_one(analyzer)
    path, line = marked_line(APP_FILE, "lazy-books")
    assert (group.route, group.repeat_count, group.requests_affected) == ("/authors", AUTHORS, 1)
    assert (group.call_site.path, group.call_site.line) == (path, line)  # type: ignore[union-attr]
    assert group.layer is QueryLayer.SQLALCHEMY
    assert group.fingerprint == "SELECT books.id, books.title, books.author_id FROM books WHERE ? = books.author_id"


def test_async_engine_loop_of_queries_is_an_n_plus_one_and_the_eager_twin_is_not(fastapi_app: Any) -> None:
    records, analyzer = run(fastapi_app, "/async/authors", "/async/authors/eager")

    assert [len(record.queries) for record in records] == [1 + AUTHORS, 2]
    [group] = n_plus_one(analyzer)
    path, line = marked_line(APP_FILE, "async-books")
    # The query runs in SQLAlchemy's greenlet; the call site is still the awaiting line of the handler.
    assert (group.route, group.repeat_count) == ("/async/authors", AUTHORS)
    assert group.call_site == CallSite(path, line, "list_authors_async")


def test_requests_are_grouped_by_route_template(fastapi_app: Any) -> None:
    records, analyzer = run(fastapi_app, "/authors/1", "/authors/2", "/authors/3")

    assert {record.route for record in records} == {"/authors/{author_id}"}
    assert [record.path for record in records] == ["/authors/1", "/authors/2", "/authors/3"]
    [summary] = analyzer.routes()
    assert (summary.method, summary.route, summary.count, summary.queries_per_request) == (
        "GET",
        "/authors/{author_id}",
        3,
        1.0,
    )
    assert records[0].handler is not None and records[0].handler.function == "get_author"


def test_time_sleep_in_an_async_handler_is_an_event_loop_stall(fastapi_app: Any) -> None:
    records, analyzer = run(fastapi_app, "/async/stall", "/async/sleep")

    stalled, polite = records
    assert polite.stalls == ()
    [stall] = stalled.stalls
    path, line = marked_line(APP_FILE, "stall")
    assert stall.call_site == CallSite(path, line, "stall")
    [issue] = [issue for issue in analyzer.issues() if isinstance(issue, EventLoopStall)]
    assert (issue.route, issue.stall_count, issue.call_site) == ("/async/stall", 1, stall.call_site)
    # Generous bounds: a 500 ms sleep against a 100 ms threshold.
    assert issue.max_ms >= 100


def test_concurrent_async_requests_keep_their_own_queries(fastapi_app: Any) -> None:
    recorder = Recorder()
    middleware = BackboneASGIMiddleware(fastapi_app, recorder)
    responses = get_concurrently(middleware, "/async/concurrent/authors", "/async/concurrent/books")
    middleware.close()

    assert [response.status_code for response in responses] == [200, 200]
    by_path = {record.path: record for record in recorder.records()}
    authors, books = by_path["/async/concurrent/authors"], by_path["/async/concurrent/books"]
    # Both requests ran their first query before either ran its second (the rendezvous in the handler).
    assert len(authors.queries) == len(books.queries) == 3
    assert all("FROM authors" in query.sql and "books" not in query.sql for query in authors.queries)
    assert all("FROM books" in query.sql and "authors" not in query.sql for query in books.queries)


def test_concurrent_sync_handlers_on_the_threadpool_keep_their_own_queries(fastapi_app: Any) -> None:
    recorder = Recorder()
    middleware = BackboneASGIMiddleware(fastapi_app, recorder)
    responses = get_concurrently(middleware, "/sync/concurrent/authors", "/sync/concurrent/books")
    middleware.close()

    assert [response.status_code for response in responses] == [200, 200]
    by_path = {record.path: record for record in recorder.records()}
    assert [q.sql.count("FROM authors") for q in by_path["/sync/concurrent/authors"].queries] == [1, 1]
    assert [q.sql.count("FROM books") for q in by_path["/sync/concurrent/books"].queries] == [1, 1]


def test_queries_outside_requests_are_not_recorded(fastapi_app: Any) -> None:
    from sqlalchemy import text

    with fastapi_app.state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    records, _ = run(fastapi_app, "/authors/1")
    assert [len(record.queries) for record in records] == [1]


def test_status_of_a_failing_handler_is_recorded_and_the_error_passes_through(fastapi_app: Any) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("the app's own bug")

    recorder = Recorder()
    middleware = BackboneASGIMiddleware(broken, recorder)
    with pytest.raises(RuntimeError, match="the app's own bug"):
        get_all(middleware, "/anything")
    [record] = recorder.records()
    assert (record.status, record.route) == (500, "/anything")


# --- the profile driver ------------------------------------------------------------------------


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "driver.sqlite"
    monkeypatch.setenv("RT_FASTAPI_DB", str(database))
    return database


def test_profile_drives_a_scenario_and_reports_per_route(app_env: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "repeat: 4\n"
        "requests:\n"
        "  - path: /authors\n"
        "  - path: /authors/eager\n"
        "  - path: /authors/2\n"
        "    concurrency: 2\n"
        "  - path: /async/authors\n"
        "  - path: /async/stall\n"
        "    repeat: 1\n",
        encoding="utf-8",
    )
    progress: list[tuple[int, int]] = []
    report = profile(
        ProfileOptions(
            app="rt_fastapi_app:create_app",
            factory=True,
            setup="rt_fastapi_app:setup",
            scenario=str(scenario),
            app_dir=str(HERE),
            root=str(HERE),
        ),
        progress=lambda done, total, label: progress.append((done, total)),
    )

    assert report.interface is AppInterface.ASGI
    assert report.requests == 17 and report.failed_requests == 0
    assert progress[-1] == (17, 17) and len(progress) == 17
    routes = {(route.route, route.count, route.queries_per_request) for route in report.routes}
    assert routes == {
        ("/authors", 4, 1.0 + AUTHORS),
        ("/authors/eager", 4, 2.0),
        ("/authors/{author_id}", 4, 1.0),
        ("/async/authors", 4, 1.0 + AUTHORS),
        ("/async/stall", 1, 0.0),
    }
    codes = sorted((finding.code, finding.path, finding.line) for finding in report.findings)
    assert codes == [
        ("RT101", APP_FILE, marked_line(APP_FILE, "lazy-books")[1]),
        ("RT101", APP_FILE, marked_line(APP_FILE, "async-books")[1]),
        ("RT103", APP_FILE, marked_line(APP_FILE, "stall")[1]),
    ]
    assert report.instrumentation_errors == 0


def test_profile_without_a_scenario_sends_the_openapi_get_operations(app_env: Path) -> None:
    report = profile(
        ProfileOptions(
            app="rt_fastapi_app:create_app",
            factory=True,
            setup="rt_fastapi_app:setup",
            repeat=3,
            app_dir=str(HERE),
        )
    )

    assert report.scenario_source == "openapi"
    assert {(route.route, route.count) for route in report.routes} == {
        ("/authors", 3),
        ("/authors/eager", 3),
        ("/authors/{author_id}", 3),
        ("/async/authors", 3),
        ("/async/authors/eager", 3),
    }
    assert sorted(issue.route for issue in report.issues) == ["/async/authors", "/authors"]
