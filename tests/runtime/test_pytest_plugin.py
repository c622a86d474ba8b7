"""The pytest plugin, run on inner test sessions with pytester.

The inner sessions run in a subprocess: an in-process run restores `sys.modules`
afterwards, which drops the SQLAlchemy modules it loaded lazily and breaks the next run.
"""

from __future__ import annotations

import pytest

from conftest import PLUGIN_ARGS
from rt_lines import HERE

pytest_plugins = ["pytester"]

# Starlette asks for httpx2 under its TestClient; httpx, which the dev extra has, still works.
IGNORE_HTTPX2 = "ignore:Using `httpx` with `starlette.testclient` is deprecated"

FASTAPI_TESTS = """
import pytest
from fastapi.testclient import TestClient

import rt_fastapi_app


@pytest.fixture
def client(tmp_path):
    app = rt_fastapi_app.create_app(str(tmp_path / "db.sqlite"))
    rt_fastapi_app.setup(app)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_lazy_loading(client):
    assert client.get("/authors").status_code == 200


def test_eager_loading(client):
    assert client.get("/authors/eager").status_code == 200


def test_one_query_per_request_is_no_n_plus_one(client):
    for author_id in range(1, 7):
        assert client.get(f"/authors/{author_id}").status_code == 200


@pytest.mark.backbone(max_queries=1)
def test_over_budget(client):
    client.get("/authors/eager")


@pytest.mark.backbone(max_queries=2)
def test_within_budget(client):
    client.get("/authors/eager")
"""


@pytest.fixture(autouse=True)
def _inner_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner tests import the test apps next to this file.
    monkeypatch.setenv("PYTHONPATH", str(HERE))


def run(pytester: pytest.Pytester, *arguments: str) -> pytest.RunResult:
    # The ignore comes last: a later -W takes precedence over an earlier "-W default".
    return pytester.runpytest_subprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", *arguments, "-W", IGNORE_HTTPX2)


def test_n_plus_one_fails_the_test_with_the_query_and_the_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fastapi_app=FASTAPI_TESTS)
    result = run(pytester, "--backbone-n-plus-one=fail")

    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["FAILED test_fastapi_app.py::test_lazy_loading*", "FAILED test_fastapi_app.py::test_over_budget*"])
    result.stdout.fnmatch_lines(
        [
            "*backbone: the test N+1 queries (threshold 5):",
            "*GET /authors: 6× `SELECT books.id, books.title, books.author_id FROM books WHERE ? = books.author_id` "
            "from *rt_fastapi_app.py:* in *",
            "*backbone: the test ran 2 queries, over its budget of 1 (@pytest.mark.backbone)*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= backbone query summary =*",
            "test *queries*requests*N+1*budget*result",
            "test_fastapi_app.py::test_lazy_loading *7*1*1*-*fail",
            "test_fastapi_app.py::test_eager_loading *2*1*-*-*ok",
            "test_fastapi_app.py::test_one_query_per_request_is_no_n_plus_one *6*6*-*-*ok",
            "test_fastapi_app.py::test_over_budget *2*1*-*1*fail",
            "test_fastapi_app.py::test_within_budget *2*1*-*2*ok",
        ]
    )


def test_warn_mode_reports_without_failing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fastapi_app=FASTAPI_TESTS)
    result = run(pytester, "--backbone-n-plus-one=warn", "-W", "default", "-k", "lazy or eager")

    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*BackboneQueryWarning: backbone: the test showed N+1 queries*"])


def test_off_by_default_except_for_marked_tests_whose_arguments_are_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fastapi_app=FASTAPI_TESTS,
        test_typo="""
        import pytest

        @pytest.mark.backbone(max_query=3)
        def test_typo():
            pass
        """,
    )
    result = run(pytester)

    # Unmarked tests are not checked; marked ones are, N+1 included; a misspelt argument is an error.
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.backbone takes only max_queries=, n_plus_one= and n_plus_one_threshold=*",
            "*= backbone query summary =*",
        ]
    )
    summary = result.stdout.str().split("backbone query summary")[1]
    assert "test_over_budget" in summary and "test_lazy_loading" not in summary


def test_flask_client_and_plain_sqlalchemy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_flask_and_orm="""
        import pytest
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        import rt_flask_app
        from rt_sa_models import Author, seed


        @pytest.fixture
        def client(tmp_path):
            app = rt_flask_app.create_app(str(tmp_path / "flask.sqlite"))
            yield app.test_client()
            with app.app_context():
                rt_flask_app.db.engine.dispose()


        def test_flask_lazy(client):
            assert client.get("/writers").status_code == 200


        def test_flask_eager(client):
            assert client.get("/writers/eager").status_code == 200


        def test_plain_orm_code(tmp_path):
            engine = create_engine(f"sqlite:///{tmp_path / 'orm.sqlite'}")
            seed(engine)
            with Session(engine) as session:
                for author in session.scalars(select(Author)):
                    author.books
            engine.dispose()
        """
    )
    result = run(pytester, "--backbone-n-plus-one=fail")

    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*GET /writers: 6× `SELECT novels.id*", "*the test body: 6× `SELECT books.id*"])


def test_django_client_and_orm(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from rt_django_support import configure_django

        configure_django()
        """
    )
    pytester.makepyfile(
        test_django_views="""
        import pytest
        from django.test import Client

        from rt_django_project.models import Book


        def test_django_n_plus_one_view():
            assert Client().get("/books/").status_code == 200


        def test_django_select_related_view():
            assert Client().get("/books/eager/").status_code == 200


        @pytest.mark.backbone(max_queries=3)
        def test_django_orm_in_the_test_body():
            assert len([book.author.name for book in Book.objects.all()]) == 12
        """
    )
    result = run(pytester, "--backbone-n-plus-one=fail", "--backbone-n-plus-one-threshold=10")

    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*N+1 queries (threshold 10):*",
            "*GET /books/: 12× `SELECT*",
            "*the test ran 13 queries, over its budget of 3*",
        ]
    )
