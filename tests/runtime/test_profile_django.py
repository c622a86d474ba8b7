"""Django with its ORM (SQLite in memory) under the WSGI and ASGI middlewares."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from backbone.runtime import (
    Analyzer,
    BackboneASGIMiddleware,
    BackboneWSGIMiddleware,
    DetectionSettings,
    EventLoopStall,
    NPlusOne,
    Recorder,
    capturing,
    repeated_queries,
)
from backbone.runtime.events import CallSite, QueryLayer, RequestRecord
from rt_asgi_tools import get_all
from rt_lines import marked_line

VIEWS = "rt_django_project/views.py"


@pytest.fixture
def django_models(django_project: Any, instrumentation: object) -> Any:
    return django_project


def run_wsgi(*paths: str) -> tuple[list[RequestRecord], Analyzer]:
    from django.core.handlers.wsgi import WSGIHandler

    recorder = Recorder()
    app = BackboneWSGIMiddleware(WSGIHandler(), recorder)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        statuses = [client.get(path).status_code for path in paths]
    assert statuses == [200] * len(paths)
    analyzer = Analyzer(DetectionSettings())
    analyzer.add(recorder.records())
    return recorder.records(), analyzer


def test_reverse_relation_per_row_is_an_n_plus_one_and_prefetch_is_not(django_models: Any) -> None:
    records, analyzer = run_wsgi("/authors/", "/authors/eager/")

    assert [(record.route, len(record.queries)) for record in records] == [
        ("/authors/", 1 + django_models.AUTHORS),
        ("/authors/eager/", 2),
    ]
    [group] = [issue for issue in analyzer.issues() if isinstance(issue, NPlusOne)]
    path, line = marked_line(VIEWS, "django-lazy")
    assert (group.route, group.repeat_count, group.layer) == ("/authors/", django_models.AUTHORS, QueryLayer.DJANGO)
    assert (group.call_site.path, group.call_site.line) == (path, line)  # type: ignore[union-attr]
    assert "select_related()" in group.finding(__import__("pathlib").Path.cwd()).fix.message  # type: ignore[union-attr]


def test_foreign_key_per_row_is_an_n_plus_one_and_select_related_is_not(django_models: Any) -> None:
    records, analyzer = run_wsgi("/books/", "/books/eager/")

    books = django_models.AUTHORS * django_models.BOOKS_PER_AUTHOR
    assert [len(record.queries) for record in records] == [1 + books, 1]
    [group] = [issue for issue in analyzer.issues() if isinstance(issue, NPlusOne)]
    assert (group.route, group.repeat_count) == ("/books/", books)
    assert group.call_site is not None and group.call_site.line == marked_line(VIEWS, "django-fk")[1]


def test_route_template_is_djangos_route(django_models: Any) -> None:
    records, _ = run_wsgi("/authors/1/", "/authors/2/")

    assert [record.route for record in records] == ["/authors/<int:author_id>/"] * 2
    assert records[0].handler is not None and records[0].handler.function == "get_author"


def test_time_sleep_in_an_async_view_stalls_the_asgi_loop(django_models: Any) -> None:
    from django.core.handlers.asgi import ASGIHandler

    recorder = Recorder()
    middleware = BackboneASGIMiddleware(ASGIHandler(), recorder)
    responses = get_all(middleware, "/async/stall/", "/authors/1/")
    middleware.close()

    assert [response.status_code for response in responses] == [200, 200]
    stalled, plain = recorder.records()
    assert stalled.route == "/async/stall/" and plain.stalls == ()
    path, line = marked_line(VIEWS, "django-stall")
    [stall] = stalled.stalls
    assert stall.call_site == CallSite(path, line, "stall")
    # A sync view under ASGI runs in a thread, yet its query is still this request's.
    assert len(plain.queries) == 1
    analyzer = Analyzer(DetectionSettings())
    analyzer.add(recorder.records())
    assert [type(issue) for issue in analyzer.issues()] == [EventLoopStall]


def test_concurrent_requests_on_threads_keep_their_own_queries(django_models: Any) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    recorder = Recorder()
    middleware = BackboneWSGIMiddleware(WSGIHandler(), recorder)
    statuses: dict[str, int] = {}

    def get(path: str) -> None:
        with httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url="http://testserver") as client:
            statuses[path] = client.get(path).status_code

    threads = [threading.Thread(target=get, args=(path,)) for path in ("/concurrent/authors/", "/concurrent/books/")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert statuses == {"/concurrent/authors/": 200, "/concurrent/books/": 200}
    by_path = {record.path: record for record in recorder.records()}
    authors_table, books_table = '"rt_django_project_author"', '"rt_django_project_book"'
    assert all(authors_table in q.sql and books_table not in q.sql for q in by_path["/concurrent/authors/"].queries)
    assert all(books_table in q.sql and authors_table not in q.sql for q in by_path["/concurrent/books/"].queries)
    assert [len(record.queries) for record in by_path.values()] == [2, 2]


def test_plain_orm_code_is_captured_outside_any_request(django_models: Any) -> None:
    with capturing("orm") as capture:
        for book in django_models.Book.objects.all():
            book.author.name  # noqa: B018 - the lazy load is the point

    books = django_models.AUTHORS * django_models.BOOKS_PER_AUTHOR
    assert len(capture.queries) == 1 + books
    [group] = repeated_queries(capture.queries, threshold=5)
    assert group.count == books and group.layer is QueryLayer.DJANGO
