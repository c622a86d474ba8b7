"""Where a value comes from (review/orm/origins.py), and how BB204 uses it across files."""

from __future__ import annotations

import ast
from pathlib import Path

from orm_test_support import Project, review_project, single, write_project

from backbone.findings import Confidence, Severity
from backbone.review.orm.origins import origin_of
from backbone.review.orm.values import Origin


def _origins(project: Project, path: str, function: str) -> dict[str, Origin]:
    """The origin of each `name = ...` target's value as read by the function's last statement."""
    flow = project.function(path, function)
    scope = flow.scope
    assert isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef))
    last = scope.body[-1]
    assert isinstance(last, ast.Return) and isinstance(last.value, ast.Dict)
    found = {}
    for key, value in zip(last.value.keys, last.value.values):
        assert isinstance(key, ast.Constant)
        found[key.value] = origin_of(value, flow).origin
    return found


FLASK_VALUES = """
    import os

    from django.conf import settings
    from flask import request

    LIMIT = 10

    def read(cursor, table, rows):
        query = request.args.get("q", "")
        order_by = request.form["sort"].strip()
        body = request.get_json()["name"]
        like = f"%{query}%"
        size = int(request.args["size"])
        quoted = "'" + query.replace("'", "''") + "'"
        configured = os.environ.get("SCHEMA")
        setting = settings.DATABASE_SCHEMA
        pieces = ", ".join(["?"] * len(rows))
        for index, row in enumerate(rows):
            pass
        return {
            "query": query, "order_by": order_by, "body": body, "like": like, "size": size,
            "quoted": quoted, "configured": configured, "setting": setting, "limit": LIMIT,
            "pieces": pieces, "index": index, "table": table, "sum": size + 1, "literal": "id",
        }
"""


def test_values_read_from_the_request_keep_their_origin_through_names_and_strings() -> None:
    origins = _origins(single(FLASK_VALUES), "app.py", "read")
    assert origins == {
        "query": Origin.REQUEST,
        "order_by": Origin.REQUEST,
        "body": Origin.REQUEST,
        "like": Origin.REQUEST,
        "size": Origin.ESCAPED,
        "quoted": Origin.ESCAPED,
        "configured": Origin.CONFIGURATION,
        "setting": Origin.CONFIGURATION,
        "limit": Origin.CONSTANT,
        "pieces": Origin.ESCAPED,
        "index": Origin.ESCAPED,
        "table": Origin.UNKNOWN,
        "sum": Origin.ESCAPED,
        "literal": Origin.CONSTANT,
    }


DJANGO_VALUES = """
    from django.db import models
    from django.views import View

    class Tag(models.Model):
        name = models.CharField(max_length=20)

    class Search(View):
        def get(self, request):
            term = self.request.GET.get("term")
            tag = Tag.objects.get(pk=1)
            return {"term": term, "stored": tag.name, "drf": request.query_params["x"]}
"""


def test_django_views_read_the_request_through_self_and_rows_come_from_the_database() -> None:
    origins = _origins(single(DJANGO_VALUES), "app.py", "get")
    assert origins == {"term": Origin.REQUEST, "stored": Origin.DATABASE, "drf": Origin.REQUEST}


PROJECT = {
    "store/__init__.py": "",
    "store/db.py": """
        import sqlite3


        class Compat:
            kind = "sqlite"

            @property
            def timestamp_now(self) -> str:
                if self.kind == "postgres":
                    return "now()"
                return "CURRENT_TIMESTAMP"

            @property
            def timestamp_default(self) -> str:
                if self.kind == "postgres":
                    return self.timestamp_now
                return "NULL"


        class Database(Compat):
            def __init__(self, name):
                self.connection = sqlite3.connect(name)

            def execute(self, sql, params=()):
                return self.connection.execute(sql, params)


        def identifier(name: str) -> str:
            return '"' + name.replace('"', '""').replace("\\0", "") + '"'


        def search_term(request) -> str:
            return request.args.get("q", "")
    """,
    "store/tables.py": """
        from store.db import Database

        db = Database("app.db")
    """,
    "store/views.py": """
        import sqlite3

        from flask import Flask, request

        from store.db import identifier, search_term
        from store.tables import db

        app = Flask(__name__)


        def purge():
            db.execute(f"DELETE FROM audit WHERE created < {db.timestamp_now} OR created = {db.timestamp_default}")


        def count(table):
            cursor = sqlite3.connect("app.db").cursor()
            cursor.execute(f"SELECT count(*) FROM {identifier(table)}")


        def rename(table, name):
            cursor = sqlite3.connect("app.db").cursor()
            cursor.execute(f"UPDATE {identifier(table)} SET name = '{name}'")  # expect: medium


        @app.get("/search")
        def search():
            cursor = sqlite3.connect("app.db").cursor()
            query = search_term(request)
            cursor.execute(f"SELECT id FROM products WHERE name LIKE '%{query}%'")  # expect: high
            return {"rows": cursor.fetchall()}


        @app.get("/rows/<table>")
        def rows(table):
            cursor = sqlite3.connect("app.db").cursor()
            cursor.execute(f"SELECT * FROM {table}")  # expect: high
            return {"rows": cursor.fetchall()}


        # The module's API: another project may call them.
        __all__ = ["count", "purge", "rename"]
    """,
}


def test_bb204_confidence_follows_the_origin_across_modules(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT)
    findings = review_project(root, ("BB204",))
    found = sorted((finding.location.line, finding.rule_confidence, finding.severity) for finding in findings)
    source = (root / "store/views.py").read_text().splitlines()
    expected = []
    for number, line in enumerate(source, start=1):
        if "# expect: high" in line:
            expected.append((number, Confidence.HIGH, Severity.ERROR))
        elif "# expect: medium" in line:
            expected.append((number, Confidence.MEDIUM, Severity.WARNING))
    assert found == expected
    assert all(finding.path == "store/views.py" for finding in findings)
    request_finding = next(finding for finding in findings if "LIKE" in source[finding.location.line - 1])
    assert "comes from the request `search_term(request)`" in request_finding.message


def test_the_facts_record_what_functions_return_and_which_take_a_lock() -> None:
    from backbone.review.cache import _facts_codec
    from backbone.review.orm.facts import FunctionDataAccess

    project = Project(
        {
            "app.py": """
                from django.db import connection, models
                from flask import request


                class Counter(models.Model):
                    value = models.IntegerField()


                class Dialect:
                    @property
                    def now(self):
                        return "now()"


                def sort_key():
                    return request.args.get("sort")


                def lock(key):
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


                def locked_row(pk):
                    return Counter.objects.select_for_update().get(pk=pk)
            """
        }
    )
    facts = project.parsed[0][3]
    access = {item.qualname: item for item in facts.models if isinstance(item, FunctionDataAccess)}
    assert access["app.Dialect.now"].returns is Origin.CONSTANT
    assert access["app.sort_key"].returns is Origin.REQUEST
    assert access["app.lock"].locks and access["app.locked_row"].locks
    assert not access["app.sort_key"].locks
    codec = _facts_codec()
    assert codec.decode(codec.encode({"app.py": facts})) == {"app.py": facts}


TYPED_VALUES = """
    import hashlib

    import sqlalchemy as sa

    def advisory_key(name: str) -> int:
        return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)

    def digest(name):
        return int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")

    class Table:
        # A project class of the same name as SQLAlchemy's: its `name` is whatever it was given.
        def __init__(self, name):
            self.name = name

    def read(parser, options, key: int, maybe: int | None, text: str, columns: list[sa.Column], rows, form: Table, **extra):
        parser.add_argument("--lock-id", type=int)
        parser.add_argument("--label")
        names = [column.name for column in columns]
        quoted = {name: f'"{name}"' for name in names}
        return {
            "key": key, "maybe": maybe, "text": text, "computed": advisory_key("a"), "digest": digest("a"),
            "option": extra.pop("lock_id"), "label": extra.pop("label"), "column": quoted[names[0]],
            "row": [row.name for row in rows][0], "own_table": form.name,
        }
"""


def test_values_typed_as_numbers_and_reflected_identifiers_carry_no_input() -> None:
    origins = _origins(single(TYPED_VALUES), "app.py", "read")
    assert origins == {
        "key": Origin.ESCAPED,
        "maybe": Origin.ESCAPED,
        "text": Origin.UNKNOWN,
        "computed": Origin.ESCAPED,
        "digest": Origin.ESCAPED,
        "option": Origin.ESCAPED,
        "label": Origin.UNKNOWN,
        "column": Origin.CONSTANT,
        "row": Origin.UNKNOWN,
        "own_table": Origin.UNKNOWN,
    }


PASSED_BY_CALLERS = {
    "jobs/__init__.py": "",
    "jobs/locks.py": """
        def acquire(cursor, lock_id):
            return {"lock_id": lock_id}

        def release(cursor, lock_id):
            return {"lock_id": lock_id}

        def unused(cursor, lock_id):
            return {"lock_id": lock_id}
    """,
    "jobs/run.py": """
        from jobs.locks import acquire, release

        LOCK_ID = 1000

        def run(cursor, options, name):
            acquire(cursor, int(options["lock"]))
            acquire(cursor, lock_id=LOCK_ID)
            release(cursor, LOCK_ID)
            release(cursor, name)
    """,
}


def test_a_parameter_gets_the_origin_every_project_caller_passes() -> None:
    project = Project(PASSED_BY_CALLERS)
    assert _origins(project, "jobs/locks.py", "acquire") == {"lock_id": Origin.ESCAPED}
    # One caller passes a value of unknown origin, and nobody calls the last one.
    assert _origins(project, "jobs/locks.py", "release") == {"lock_id": Origin.UNKNOWN}
    assert _origins(project, "jobs/locks.py", "unused") == {"lock_id": Origin.UNKNOWN}


ALLOW_LISTED = """
    from flask import request

    ALLOWED = ("name", "price")

    def read(cursor, known):
        requested = request.args.getlist("f")
        kept = [f for f in requested if f in known]
        for column in kept:
            pass
        sort = request.args["sort"]
        if sort not in ALLOWED:
            raise ValueError(sort)
        other = request.args["other"]
        if other in known:
            chosen = other
        bad = request.args["bad"]
        if bad in known:
            raise ValueError(bad)
        loose = [f for f in requested if f not in known]
        return {
            "kept": kept, "column": column, "sort": sort, "chosen": chosen, "bad": bad, "loose": loose,
            "requested": requested,
        }
"""


def test_a_name_found_in_an_allow_list_comes_from_where_the_list_does() -> None:
    assert _origins(single(ALLOW_LISTED), "app.py", "read") == {
        # Filtered against a parameter (of unknown origin), found in it, or checked before use.
        "kept": Origin.UNKNOWN,
        "column": Origin.UNKNOWN,
        "sort": Origin.CONSTANT,
        "chosen": Origin.UNKNOWN,
        # Found in the list on the branch that leaves, or kept when it is not in it: still input.
        "bad": Origin.REQUEST,
        "loose": Origin.REQUEST,
        "requested": Origin.REQUEST,
    }


def test_where_a_call_passes_each_parameter() -> None:
    project = single(
        """
        class Orders:
            def fetch(self, key, *rest, session=None, **extra):
                return key

        def load(self, key):
            return key
        """
    )
    method = project.function("app.py", "fetch")
    assert method.context.class_qualname == "app.Orders"
    assert [method.call_position(name) for name in ("self", "key", "rest", "session", "extra", "other")] == [
        None, 0, None, -1, None, None
    ]
    # A plain function's first parameter is the call's first argument, whatever its name.
    plain = project.function("app.py", "load")
    assert [plain.call_position(name) for name in ("self", "key")] == [0, 1]
