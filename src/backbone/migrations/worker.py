"""The process that applies the migrations under observation (run by trace.py, never imported by it).

It imports the project's migrations, so it runs apart from backbone: whatever they do, the
parent gets a JSON file with, per operation, the locks its connection held (sampled from
pg_locks by a second connection, after every statement and every few milliseconds while one
runs), the tables whose relfilenode changed (a rewrite) and the time it took.

    python -m backbone.migrations.worker --framework django|alembic --project DIR --dsn CONNINFO
        --out FILE [--settings MODULE] [--alembic-ini FILE]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import asdict

_TABLES = (
    "SELECT c.oid::bigint, c.relname, c.relfilenode::bigint FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)
# By oid only: a table created in the migration's open transaction is not in the observer's
# pg_class; its name comes from the migration connection's own view (_TABLES).
_LOCKS = "SELECT relation::bigint, mode FROM pg_locks WHERE pid = %s AND locktype = 'relation'"
_SAMPLE_SECONDS = 0.003


class OperationRecord(msgspec.Struct):
    migration: str
    file: str
    line: int
    end_line: int
    operation: str
    # table -> the lock modes taken on it that were not held when the operation began
    locks: dict[str, list[str]] = msgspec.field(default_factory=dict)
    rewritten: list[str] = msgspec.field(default_factory=list)
    # Tables that existed when the operation began (the others it created).
    existing: list[str] = msgspec.field(default_factory=list)
    # table -> lock modes held since an earlier operation of the same transaction, on tables
    # this operation's statements name (pg_locks cannot show a lock taken twice).
    inherited: dict[str, list[str]] = msgspec.field(default_factory=dict)
    duration_ms: float = 0.0
    statements: int = 0
    error: str = ""


class Tracer:
    """Attributes every statement's locks and rewrites to the operation running it."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.observer = psycopg.connect(dsn, autocommit=True)
        self.observer_lock = threading.Lock()
        self.records: list[OperationRecord] = []
        self.current: OperationRecord | None = None
        self.pid: int | None = None
        self._held_before: set[tuple[int, str]] = set()
        self._tables_before: dict[int, tuple[str, int]] = {}
        self._tables_after: dict[int, tuple[str, int]] = {}
        self._seen: set[tuple[int, str]] = set()
        self._touched: set[str] = set()
        self._started = 0.0
        self._running = True
        self._sampler = threading.Thread(target=self._sample_loop, daemon=True)
        self._sampler.start()

    # --- operations -------------------------------------------------------------------------
    def begin(self, record: OperationRecord) -> None:
        self.end()
        self.current = record
        self._tables_before = {}
        self._tables_after = {}
        self._held_before = set()
        self._seen = set()
        self._touched = set()
        self._started = time.perf_counter()

    def end(self, error: str = "") -> None:
        record = self.current
        if record is None:
            return
        self.current = None
        record.duration_ms = round((time.perf_counter() - self._started) * 1000, 3)
        record.error = error
        for oid, (name, filenode) in self._tables_before.items():
            after = self._tables_after.get(oid)
            if after is not None and after[1] != filenode:
                record.rewritten.append(name)
        record.existing = sorted(name for name, _ in self._tables_before.values())
        names = {oid: name for oid, (name, _) in {**self._tables_before, **self._tables_after}.items()}
        for oid, mode in sorted(self._seen):
            table = names.get(oid)
            if table is None:
                continue
            if (oid, mode) not in self._held_before:
                target = record.locks
            elif table in self._touched:
                target = record.inherited
            else:
                continue
            modes = target.setdefault(table, [])
            if mode not in modes:
                modes.append(mode)
        if record.statements:
            self.records.append(record)

    # --- statements -------------------------------------------------------------------------
    def before_statement(self, raw: Any, sql: str = "") -> None:
        record = self.current
        if record is None:
            return
        self._touched.update(_tables_named(sql))
        self.pid = raw.info.backend_pid
        if record.statements == 0:
            # Only committed tables: one created earlier in the same transaction is invisible
            # to everyone else, so its locks block no one.
            visible = self._tables(raw)
            with self.observer_lock:
                rows = self.observer.execute("SELECT oid::bigint FROM pg_class WHERE oid = ANY(%s)", (list(visible),)).fetchall()
            committed = {int(oid) for (oid,) in rows}
            self._tables_before = {oid: value for oid, value in visible.items() if oid in committed}
            self._held_before = set(self._locks())
        record.statements += 1

    def after_statement(self, raw: Any) -> None:
        if self.current is None:
            return
        self._seen.update(self._locks())
        tables = self._tables(raw)
        if tables:
            self._tables_after = tables

    def _tables(self, raw: Any) -> dict[int, tuple[str, int]]:
        try:
            with raw.cursor() as cursor:
                cursor.execute(_TABLES)
                return {int(oid): (str(name), int(node)) for oid, name, node in cursor.fetchall()}
        except Exception:  # an aborted transaction: the statement failed, nothing more to learn
            return {}

    def _locks(self) -> list[tuple[int, str]]:
        if self.pid is None:
            return []
        with self.observer_lock:
            rows = self.observer.execute(_LOCKS, (self.pid,)).fetchall()
        return [(int(oid), str(mode)) for oid, mode in rows]

    def _sample_loop(self) -> None:
        while self._running:
            if self.current is not None and self.pid is not None:
                try:
                    self._seen.update(self._locks())
                except Exception:
                    pass
            time.sleep(_SAMPLE_SECONDS)

    def close(self) -> None:
        self.end()
        self._running = False
        self._sampler.join(timeout=1)
        self.observer.close()


def _tables_named(sql: str) -> set[str]:
    """The tables a statement names, by PostgreSQL's parser (nothing when it does not parse)."""
    try:
        import pglast

        statements = pglast.parse_sql(sql.replace("%s", "NULL"))
    except Exception:
        return set()
    names: set[str] = set()
    stack: list[Any] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, pglast.ast.Node):
            if isinstance(node, pglast.ast.RangeVar) and node.relname:
                names.add(str(node.relname))
            stack.extend(getattr(node, attribute) for attribute in node)
    return names


def _operation_lines(path: str) -> list[tuple[int, int]]:
    """(line, end line) of each element of `Migration.operations` in a Django migration file."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Migration":
            for item in statement.body:
                if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "operations" for t in item.targets) \
                        and isinstance(item.value, (ast.List, ast.Tuple)):
                    return [(element.lineno, element.end_lineno or element.lineno) for element in item.value.elts]
            return [(statement.lineno, statement.lineno)]
    return []


# --- Django -----------------------------------------------------------------------------------


def _django_database(dsn: str) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.get("dbname", "postgres"),
        "USER": parts.get("user", ""),
        "PASSWORD": parts.get("password", ""),
        "HOST": parts.get("host", ""),
        "PORT": str(parts.get("port", "")),
    }


def _django_apps(project: Path) -> list[str]:
    """Packages of the project with a migrations/ package: the apps to install without settings."""
    apps = []
    for marker in sorted(project.rglob("migrations/__init__.py")):
        package = marker.parent.parent
        if any(part.startswith(".") or part in ("venv", ".venv", "node_modules") for part in package.relative_to(project).parts):
            continue
        relative = package.relative_to(project)
        if relative.parts and all((project / Path(*relative.parts[: i + 1]) / "__init__.py").exists() for i in range(len(relative.parts))):
            apps.append(".".join(relative.parts))
    return apps


def run_django(project: Path, dsn: str, settings_module: str | None, tracer_factory: Callable[[], Tracer]) -> tuple[list[OperationRecord], list[str]]:
    import django  # type: ignore[import-untyped, unused-ignore]
    from django.conf import settings  # type: ignore[import-untyped, unused-ignore]

    database = _django_database(dsn)
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
        settings.DATABASES  # noqa: B018 - loads the settings module
        settings.DATABASES["default"] = database
        for alias in [alias for alias in settings.DATABASES if alias != "default"]:
            del settings.DATABASES[alias]
    else:
        settings.configure(
            INSTALLED_APPS=_django_apps(project), DATABASES={"default": database}, USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        )
    django.setup()
    problems: list[str] = []
    _tolerate_broken_migrations(problems)
    from django.db import connection  # type: ignore[import-untyped, unused-ignore]
    from django.db.migrations.executor import MigrationExecutor  # type: ignore[import-untyped, unused-ignore]

    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    tracer = tracer_factory()
    for migration, _backwards in plan:
        module = sys.modules.get(type(migration).__module__) or sys.modules.get(migration.__module__)
        path = str(getattr(module, "__file__", "") or "")
        lines = _operation_lines(path)
        for index, operation in enumerate(migration.operations):
            line, end_line = lines[index] if index < len(lines) else (0, 0)
            label = f"{migration.app_label}.{migration.name}"
            _wrap(operation, tracer, OperationRecord(label, path, line, end_line, operation.describe()))

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        raw = context["connection"].connection
        tracer.before_statement(raw, sql if isinstance(sql, str) else "")
        try:
            return execute(sql, params, many, context)
        finally:
            tracer.after_statement(raw)

    try:
        with connection.execute_wrapper(wrapper):
            executor.migrate(targets, plan=plan)
    except Exception as error:
        problems.append(f"the migrations stopped: {type(error).__name__}: {error}")
        tracer.end(f"{type(error).__name__}: {error}")
    tracer.close()
    return tracer.records, problems


def _tolerate_broken_migrations(problems: list[str]) -> None:
    """A migration module that does not import is replaced by an empty migration after its
    predecessor, with a problem saying so: the others are still traced."""
    import importlib
    import pkgutil
    import types

    import django.db.migrations.loader as loader_module  # type: ignore[import-untyped, unused-ignore]
    from django.db import migrations  # type: ignore[import-untyped, unused-ignore]

    original = loader_module.import_module

    def import_module(name: str, package: str | None = None) -> Any:
        try:
            return original(name, package)
        except Exception as error:
            package_name, _, migration_name = name.rpartition(".")
            if not package_name.endswith("migrations") or not migration_name:
                raise
            problems.append(f"{name} does not import ({type(error).__name__}: {error}); it was skipped")
            siblings = sorted(info.name for info in pkgutil.iter_modules(importlib.import_module(package_name).__path__))
            earlier = [sibling for sibling in siblings if sibling < migration_name and not sibling.startswith("_")]
            previous = earlier[-1] if earlier else None

            class Migration(migrations.Migration):  # type: ignore[misc]
                def __init__(self, name: str, app_label: str) -> None:
                    super().__init__(name, app_label)
                    self.dependencies = [(app_label, previous)] if previous else []

            module = types.ModuleType(name)
            module.Migration = Migration  # type: ignore[attr-defined]
            return module

    loader_module.import_module = import_module


def _wrap(operation: Any, tracer: Tracer, template: OperationRecord) -> None:
    original = operation.database_forwards

    def database_forwards(*args: Any, **kwargs: Any) -> Any:
        tracer.begin(OperationRecord(**{**asdict(template), "locks": {}, "rewritten": [], "existing": [], "inherited": {}}))
        try:
            result = original(*args, **kwargs)
        except Exception as error:
            tracer.end(f"{type(error).__name__}: {error}")
            raise
        tracer.end()
        return result

    operation.database_forwards = database_forwards


# --- Alembic ----------------------------------------------------------------------------------


def _sqlalchemy_url(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    parts = {key: str(value) for key, value in conninfo_to_dict(dsn).items() if value is not None}
    query = {"host": parts["host"]} if parts.get("host", "").startswith("/") else {}
    host = None if query else parts.get("host")
    return URL.create(
        "postgresql+psycopg", username=parts.get("user"), password=parts.get("password"),
        host=host, port=int(parts["port"]) if parts.get("port") else None, database=parts.get("dbname"), query=query,
    ).render_as_string(hide_password=False)


def run_alembic(ini: Path, dsn: str, tracer_factory: Callable[[], Tracer]) -> tuple[list[OperationRecord], list[str]]:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    config = Config(str(ini))
    url = _sqlalchemy_url(dsn)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    os.environ["DATABASE_URL"] = url
    versions = {Path(revision.path).parent.resolve() for revision in ScriptDirectory.from_config(config).walk_revisions()}
    tracer = tracer_factory()

    def revision_frame() -> tuple[str, int, str] | None:
        frame = sys._getframe(2)
        while frame is not None:
            path = Path(frame.f_code.co_filename)
            if path.parent.resolve() in versions:
                return str(path), frame.f_lineno, frame.f_code.co_name
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        where = revision_frame()
        if where is None:
            tracer.end()
            return
        path, line, _ = where
        current = tracer.current
        if current is None or (current.file, current.line) != (path, line):
            text = " ".join(statement.split())
            tracer.begin(OperationRecord(Path(path).stem, path, line, line, text[:90]))
        tracer.before_statement(cursor.connection, statement)

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        tracer.after_statement(cursor.connection)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    problems: list[str] = []
    try:
        command.upgrade(config, "head")
    except Exception as error:
        problems.append(f"the migrations stopped: {type(error).__name__}: {error}")
        tracer.end(f"{type(error).__name__}: {error}")
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
    tracer.close()
    return tracer.records, problems


# --- entry point ------------------------------------------------------------------------------


@contextmanager
def _on_path(project: Path) -> Iterator[None]:
    sys.path.insert(0, str(project))
    os.chdir(project)
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backbone.migrations.worker")
    parser.add_argument("--framework", choices=["django", "alembic"], required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--settings")
    parser.add_argument("--alembic-ini")
    arguments = parser.parse_args(argv)
    project = Path(arguments.project).resolve()
    server_version = 0
    records: list[OperationRecord] = []
    problems: list[str] = []
    try:
        import psycopg

        with psycopg.connect(arguments.dsn, autocommit=True) as probe:
            server_version = int(probe.info.server_version) // 10000

        def factory() -> Tracer:
            return Tracer(arguments.dsn)

        with _on_path(project):
            if arguments.framework == "django":
                records, problems = run_django(project, arguments.dsn, arguments.settings, factory)
            else:
                records, problems = run_alembic(Path(arguments.alembic_ini or project / "alembic.ini").resolve(), arguments.dsn, factory)
    except Exception as error:
        # The project's own code failed to import or run: the message is the report.
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith(str(project))]
        where = f" ({Path(frames[-1].filename).relative_to(project)}:{frames[-1].lineno})" if frames else ""
        problems.append(f"{type(error).__name__}: {error}{where}")
    Path(arguments.out).write_text(
        json.dumps({"server_version": server_version, "operations": [asdict(r) for r in records], "problems": problems}),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
