"""DB-API drivers used directly (sqlite3, psycopg 3), and no double counting under an ORM."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from backbone.runtime import capturing, instrumented, repeated_queries
from backbone.runtime.events import QueryLayer
from backbone.runtime.fingerprint import fingerprint

AUTHORS = 6


def make_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as setup:
        setup.executescript(
            "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER, title TEXT);"
        )
        setup.executemany("INSERT INTO authors (id, name) VALUES (?, ?)", [(n, f"a{n}") for n in range(1, AUTHORS + 1)])
        setup.executemany("INSERT INTO books (author_id, title) VALUES (?, ?)", [(n, f"b{n}") for n in range(1, AUTHORS + 1)])
    setup.close()


def test_sqlite3_loop_of_queries_is_an_n_plus_one(tmp_path: Path, instrumentation: object) -> None:
    make_sqlite(tmp_path / "raw.sqlite")
    connection = sqlite3.connect(tmp_path / "raw.sqlite")
    with capturing() as capture:
        authors = connection.execute("SELECT id, name FROM authors").fetchall()
        for author_id, _ in authors:
            cursor = connection.cursor()
            cursor.execute(f"SELECT title FROM books WHERE author_id = {author_id}")  # literal SQL, one text per row
            cursor.fetchall()
        connection.executemany("UPDATE books SET title = ? WHERE id = ?", [("x", 1), ("y", 2)])
    connection.close()

    assert [query.layer for query in capture.queries] == [QueryLayer.DBAPI] * (2 + AUTHORS)
    assert capture.queries[-1].many
    [group] = repeated_queries(capture.queries, threshold=5)
    assert (group.count, group.fingerprint) == (AUTHORS, "SELECT title FROM books WHERE author_id = ?")
    assert group.call_site is not None and group.call_site.function == "test_sqlite3_loop_of_queries_is_an_n_plus_one"


def test_sqlite3_connect_keeps_the_apps_factory_and_arguments(tmp_path: Path, instrumentation: object) -> None:
    class AuditedConnection(sqlite3.Connection):
        pass

    connection = sqlite3.connect(str(tmp_path / "f.sqlite"), 5.0, factory=AuditedConnection)
    with capturing() as capture:
        connection.execute("SELECT 1").fetchall()
    connection.close()
    assert isinstance(connection, AuditedConnection)
    assert [query.sql for query in capture.queries] == ["SELECT 1"]


def test_uninstall_restores_sqlite3_connect() -> None:
    original = sqlite3.connect
    with instrumented():
        assert sqlite3.connect is not original
        assert sqlite3.dbapi2.connect is sqlite3.connect
    assert sqlite3.connect is original and sqlite3.dbapi2.connect is original


def test_sqlalchemy_on_sqlite3_is_recorded_once(tmp_path: Path, instrumentation: object) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'orm.sqlite'}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # the first connect's own housekeeping stays out of the capture
        with capturing() as capture:
            connection.execute(text("SELECT 2"))
            connection.execute(text("SELECT 3"))
    engine.dispose()
    assert [(query.sql, query.layer) for query in capture.queries] == [
        ("SELECT 2", QueryLayer.SQLALCHEMY),
        ("SELECT 3", QueryLayer.SQLALCHEMY),
    ]


def test_async_sqlalchemy_on_aiosqlite_is_recorded_once_even_on_the_drivers_thread(
    tmp_path: Path, instrumentation: object
) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def queries() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.sqlite'}")
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            for number in range(3):
                await connection.execute(text(f"SELECT {number + 2}"))
        await engine.dispose()

    # Ambient: aiosqlite runs sqlite3 on a worker thread, which sees the ambient capture.
    with capturing(ambient=True) as capture:
        asyncio.run(queries())
    assert [query.layer for query in capture.queries] == [QueryLayer.SQLALCHEMY] * len(capture.queries)
    assert [query.sql for query in capture.queries][-3:] == ["SELECT 2", "SELECT 3", "SELECT 4"]


# --- psycopg 3 against a throwaway PostgreSQL server ----------------------------------------------


# The server: the session fixture `postgres_dsn` of tests/conftest.py.


@pytest.fixture
def pg_tables(postgres_dsn: str) -> str:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS books; DROP TABLE IF EXISTS authors")
        connection.execute("CREATE TABLE authors (id int PRIMARY KEY, name text)")
        connection.execute("CREATE TABLE books (id serial PRIMARY KEY, author_id int, title text)")
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO authors VALUES (%s, %s)", [(n, f"a{n}") for n in range(1, AUTHORS + 1)])
            cursor.executemany("INSERT INTO books (author_id, title) VALUES (%s, %s)", [(n, "t") for n in range(1, AUTHORS + 1)])
    return postgres_dsn


def test_psycopg_loop_of_queries_is_an_n_plus_one(pg_tables: str, instrumentation: object) -> None:
    import psycopg

    with psycopg.connect(pg_tables) as connection:
        with capturing() as capture:
            authors = connection.execute("SELECT id FROM authors ORDER BY id").fetchall()
            for (author_id,) in authors:
                connection.execute("SELECT title FROM books WHERE author_id = %s", (author_id,)).fetchall()

    assert len(capture.queries) == 1 + AUTHORS
    assert {query.layer for query in capture.queries} == {QueryLayer.DBAPI}
    assert {query.dialect for query in capture.queries} == {"postgresql"}
    [group] = repeated_queries(capture.queries, threshold=5)
    assert (group.count, group.fingerprint) == (AUTHORS, "SELECT title FROM books WHERE author_id = ?")


def test_psycopg_async_cursor_is_captured(pg_tables: str, instrumentation: object) -> None:
    import psycopg

    async def queries() -> list[Any]:
        async with await psycopg.AsyncConnection.connect(pg_tables) as connection:
            async with connection.cursor() as cursor:
                for author_id in range(1, 4):
                    await cursor.execute("SELECT name FROM authors WHERE id = %s", (author_id,))
                    await cursor.fetchall()
        return []

    with capturing() as capture:
        asyncio.run(queries())
    assert [query.sql for query in capture.queries] == ["SELECT name FROM authors WHERE id = %s"] * 3


def test_sqlalchemy_on_psycopg_is_recorded_once(pg_tables: str, instrumentation: object) -> None:
    from sqlalchemy import create_engine, text

    sockets = pg_tables.split()[0].removeprefix("host=")
    engine = create_engine(f"postgresql+psycopg://postgres@/postgres?host={sockets}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        with capturing() as capture:
            connection.execute(text("SELECT name FROM authors WHERE id = :id"), {"id": 1})
    engine.dispose()
    assert [(query.layer, fingerprint(query.sql, query.dialect).text) for query in capture.queries] == [
        (QueryLayer.SQLALCHEMY, "SELECT name FROM authors WHERE id = ?")
    ]


def test_debug_names_a_profiled_query_by_the_same_id(pg_tables: str, instrumentation: object) -> None:
    """The same statement, captured by the profile's instrumentation and written by PostgreSQL to its
    log, gets one query id in `backbone profile` and in `backbone debug`."""
    import psycopg

    from backbone.logs.analyze import analyze
    from backbone.runtime.fingerprint import query_id

    server_log = Path(pg_tables.split()[0].removeprefix("host=")).parent / "server.log"
    with psycopg.connect(pg_tables) as connection:
        connection.execute("SET log_min_duration_statement = 0")
        with capturing() as capture:
            for author_id in range(1, AUTHORS + 1):
                connection.execute(
                    "SELECT title FROM books WHERE author_id = %s AND title <> 'x'", (author_id,)
                ).fetchall()
            # The same statement with its values inline, as a client that interpolates them sends it.
            connection.execute("SELECT title FROM books WHERE author_id = 3 AND title <> 'y'").fetchall()
        connection.execute("SET log_min_duration_statement = -1")
    [group] = repeated_queries(capture.queries, threshold=5)
    profiled = query_id(group.fingerprint)

    report = analyze([str(server_log)])
    ids = {query.fingerprint: query for query in report.slow_queries}
    assert profiled in ids
    assert ids[profiled].count >= AUTHORS + 1
    assert ids[profiled].statement == group.fingerprint


def test_a_query_of_a_profile_run_and_of_a_postgresql_log_has_one_id(
    pg_tables: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backbone profile --format json` on a real app names its N+1 query by `query_id`; the same statement,
    run on PostgreSQL and written to its log, is named by the same id in `backbone debug --format json`."""
    import json

    import psycopg
    from click.testing import CliRunner

    from backbone.logs.command import debug
    from backbone.runtime.command import profile_command
    from rt_lines import HERE

    monkeypatch.setenv("RT_FASTAPI_DB", str(tmp_path / "profile.sqlite"))
    monkeypatch.chdir(HERE)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("repeat: 2\nrequests:\n  - path: /authors\n", encoding="utf-8")
    profiled = CliRunner().invoke(
        profile_command,
        ["rt_fastapi_app:create_app", "--factory", "--setup", "rt_fastapi_app:setup", "--no-progress",
         "--scenario", str(scenario), "--format", "json"],
        standalone_mode=False, catch_exceptions=False,
    )
    [n_plus_one] = [item for item in json.loads(profiled.stdout)["findings"] if item["code"] == "RT101"]

    server_log = Path(pg_tables.split()[0].removeprefix("host=")).parent / "server.log"
    with psycopg.connect(pg_tables) as connection:
        connection.execute("SET log_min_duration_statement = 0")
        for author_id in range(1, 4):
            connection.execute(n_plus_one["sql"].replace("?", "%s"), (author_id,)).fetchall()
        connection.execute("SET log_min_duration_statement = -1")
    debugged = CliRunner().invoke(debug, [str(server_log), "--format", "json"], standalone_mode=False)
    ids = {query["fingerprint"] for query in json.loads(debugged.stdout)["slow_queries"]}
    assert n_plus_one["query_id"] in ids
