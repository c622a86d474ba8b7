"""The project index: module names, import resolution, classes, methods, re-exports and
call chains across the files of a project."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from backbone.review.names import NameResolver, resolve_relative
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ModuleFacts, ProjectIndex, module_name_for


def index_of(files: dict[str, str]) -> ProjectIndex:
    """Index `files` (relative path -> source) the way the engine does."""
    package_dirs = frozenset(str(PurePosixPath(path).parent) for path in files if path.endswith("__init__.py"))
    facts = [
        extract_module_facts(
            ast.parse(textwrap.dedent(source)),
            path,
            module_name_for(path, package_dirs),
            is_package=path.endswith("__init__.py"),
        )
        for path, source in files.items()
    ]
    return ProjectIndex.build(facts)


def facts_of(source: str, module: str = "app", is_package: bool = False) -> ModuleFacts:
    return extract_module_facts(ast.parse(textwrap.dedent(source)), f"{module}.py", module, is_package)


def callees(facts: ModuleFacts, function: str) -> list[str]:
    return [call.callee for call in facts.functions[function].calls]


# ---------------------------------------------------------------------------------------
# Module names
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "package_dirs", "module"),
    [
        ("app.py", set(), "app"),
        ("shop/api.py", {"shop"}, "shop.api"),
        ("shop/__init__.py", {"shop"}, "shop"),
        ("src/shop/services/orders.py", {"src/shop", "src/shop/services"}, "shop.services.orders"),
        ("src/shop/services/__init__.py", {"src/shop", "src/shop/services"}, "shop.services"),
        ("src/shop/main.py", {"src/shop"}, "shop.main"),
        # A directory without __init__.py is where imports start (tests/, scripts/).
        ("tests/test_orders.py", set(), "test_orders"),
        ("services/shop/api/routes.py", {"services/shop/api"}, "api.routes"),
        # Inside a package, a directory without __init__.py is a namespace subpackage: two
        # `views.py` in sibling directories are two modules, not one `views`.
        ("src/dispatch/case_cost/views.py", {"src/dispatch"}, "dispatch.case_cost.views"),
        ("src/dispatch/data/alert/views.py", {"src/dispatch", "src/dispatch/data"}, "dispatch.data.alert.views"),
        ("pkg/a/b/c.py", {"pkg"}, "pkg.a.b.c"),
    ],
)
def test_module_names(path: str, package_dirs: set[str], module: str) -> None:
    assert module_name_for(path, frozenset(package_dirs)) == module


def test_module_names_in_a_src_layout_index() -> None:
    index = index_of(
        {
            "src/shop/__init__.py": "",
            "src/shop/services/__init__.py": "",
            "src/shop/services/orders.py": "def load():\n    pass\n",
            "tests/test_orders.py": "from shop.services.orders import load\n\ndef test_load():\n    load()\n",
        }
    )
    assert set(index.modules) == {"shop", "shop.services", "shop.services.orders", "test_orders"}
    assert index.modules["shop.services.orders"].path == "src/shop/services/orders.py"
    assert "shop.services.orders.load" in index.functions
    test = index.functions["test_orders.test_load"]
    assert [index.function(call.callee) for call in test.calls] == [index.functions["shop.services.orders.load"]]


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


def test_import_alias_resolves_to_the_qualified_name() -> None:
    facts = facts_of(
        """
        from requests import get as fetch

        def download(url):
            return fetch(url, timeout=5)
        """
    )
    assert facts.imports["fetch"] == "requests.get"
    assert callees(facts, "app.download") == ["requests.get"]
    resolver = NameResolver(facts.module, facts.imports, facts.symbols)
    call = ast.parse("fetch(url)", mode="eval").body
    assert isinstance(call, ast.Call)
    assert resolver.qualified_name(call.func) == "requests.get"
    assert "requests" in facts.imported_packages


def test_import_of_a_submodule() -> None:
    facts = facts_of(
        """
        import os.path
        import xml.etree.ElementTree as ET

        def where(name):
            ET.parse(name)
            return os.path.join("/srv", name)
        """
    )
    assert facts.imports == {"os": "os", "ET": "xml.etree.ElementTree"}
    assert callees(facts, "app.where") == ["xml.etree.ElementTree.parse", "os.path.join"]


def test_names_that_are_not_imports() -> None:
    facts = facts_of(
        """
        LIMIT = 10

        def helper():
            return 1

        def work(items, unknown):
            helper()
            len(items)
            unknown.call()
            items.append(LIMIT)
        """
    )
    # Module symbols are qualified, builtins are bare, unknowns (locals, parameters) are left out.
    assert callees(facts, "app.work") == ["app.helper", "len"]


def test_function_local_imports_count() -> None:
    facts = facts_of(
        """
        def send(message):
            import smtplib
            smtplib.SMTP("localhost").send_message(message)
        """
    )
    assert callees(facts, "app.send") == ["smtplib.SMTP"]


@pytest.mark.parametrize(
    ("module", "is_package", "level", "target", "absolute"),
    [
        ("shop.api", False, 1, "services", "shop.services"),
        ("shop.api", False, 1, None, "shop"),
        ("shop", True, 1, "services", "shop.services"),
        ("shop.sub.mod", False, 2, None, "shop"),
        ("shop.sub", True, 2, None, "shop"),
        ("shop.sub.mod", False, 2, "db.models", "shop.db.models"),
        ("shop.sub.mod", False, 3, None, ""),
    ],
)
def test_relative_import_resolution(
    module: str, is_package: bool, level: int, target: str | None, absolute: str
) -> None:
    assert resolve_relative(module, is_package, level, target) == absolute


def test_relative_imports_in_a_package() -> None:
    index = index_of(
        {
            "shop/__init__.py": "",
            "shop/services.py": "def load(order_id):\n    return order_id\n",
            "shop/settings.py": "TIMEOUT = 5\n",
            "shop/api.py": """
                from .services import load
                from . import settings

                def get_order(order_id):
                    return load(order_id, timeout=settings.TIMEOUT)
                """,
            "shop/admin/__init__.py": "from .. import settings\n",
            "shop/admin/views.py": """
                from .. import services
                from ..services import load as load_order

                def show(order_id):
                    services.load(order_id)
                    load_order(order_id)
                """,
        }
    )
    api = index.modules["shop.api"]
    assert api.imports == {"load": "shop.services.load", "settings": "shop.settings"}
    assert index.modules["shop.admin"].imports == {"settings": "shop.settings"}
    assert index.modules["shop.admin.views"].imports == {
        "services": "shop.services",
        "load_order": "shop.services.load",
    }
    assert [call.callee for call in index.functions["shop.admin.views.show"].calls] == [
        "shop.services.load",
        "shop.services.load",
    ]
    edges = list(index.callees("shop.api.get_order"))
    assert [target.qualname for _, target in edges] == ["shop.services.load"]


def test_re_export_through_a_package_init() -> None:
    index = index_of(
        {
            "shop/__init__.py": "from .services.orders import load_order\n",
            "shop/services/__init__.py": "",
            "shop/services/orders.py": "def load_order(order_id):\n    return order_id\n",
            "app.py": """
                import shop
                from shop import load_order

                def handler(order_id):
                    load_order(order_id)
                    shop.load_order(order_id)
                """,
        }
    )
    assert index.resolve("shop.load_order") == "shop.services.orders.load_order"
    targets = [target.qualname for _, target in index.callees("app.handler")]
    assert targets == ["shop.services.orders.load_order", "shop.services.orders.load_order"]


def test_imports_through_a_namespace_package() -> None:
    """`ckanext/` has no __init__.py: its packages are import roots, and `from ckanext.datastore...`
    still reaches them."""
    index = index_of(
        {
            "ckanext/datastore/__init__.py": "",
            "ckanext/datastore/backend.py": "def identifier(name):\n    return name\n",
            "ckanext/datastore/action.py": """
                from ckanext.datastore.backend import identifier

                def run(name):
                    return identifier(name)
                """,
        }
    )
    assert index.resolve("ckanext.datastore.backend.identifier") == "datastore.backend.identifier"
    assert [target.qualname for _, target in index.callees("datastore.action.run")] == ["datastore.backend.identifier"]


def test_re_export_chain_and_a_cycle_do_not_hang() -> None:
    index = index_of(
        {
            "a/__init__.py": "from .b import thing\n",
            "a/b.py": "from .c import thing\n",
            "a/c.py": "def thing():\n    pass\n",
            "loop/__init__.py": "from .x import name\n",
            "loop/x.py": "from . import name\n",
        }
    )
    assert index.resolve("a.thing") == "a.c.thing"
    assert isinstance(index.resolve("loop.name"), str)
    assert index.function("loop.name") is None


# ---------------------------------------------------------------------------------------
# Classes and methods
# ---------------------------------------------------------------------------------------


def test_classes_with_resolved_bases() -> None:
    index = index_of(
        {
            "shop/__init__.py": "",
            "shop/db.py": """
                from sqlalchemy.orm import DeclarativeBase

                class Base(DeclarativeBase):
                    pass
                """,
            "shop/models.py": """
                import enum
                from .db import Base

                class Status(enum.Enum):
                    NEW = "new"

                class Order(Base):
                    def total(self):
                        return 0

                class RushOrder(Order):
                    pass
                """,
        }
    )
    assert index.classes["shop.db.Base"].bases == ("sqlalchemy.orm.DeclarativeBase",)
    assert index.classes["shop.models.Status"].bases == ("enum.Enum",)
    assert index.classes["shop.models.Order"].bases == ("shop.db.Base",)
    assert index.classes["shop.models.Order"].methods == ("total",)
    assert index.classes["shop.models.RushOrder"].bases == ("shop.models.Order",)
    assert index.subclasses_of("shop.db.Base") == {"shop.models.Order", "shop.models.RushOrder"}
    assert index.subclasses_of("sqlalchemy.orm.DeclarativeBase") == {
        "shop.db.Base",
        "shop.models.Order",
        "shop.models.RushOrder",
    }


def test_methods_called_through_self_and_inherited() -> None:
    index = index_of(
        {
            "shop/__init__.py": "",
            "shop/base.py": """
                class Repository:
                    def fetch(self, key):
                        return self.query(key)

                    def query(self, key):
                        return key
                """,
            "shop/orders.py": """
                from .base import Repository

                class OrderRepository(Repository):
                    def latest(self):
                        return self.fetch("latest")

                    @classmethod
                    def build(cls):
                        return cls.create()

                    @staticmethod
                    def create():
                        return OrderRepository()
                """,
        }
    )
    latest = index.functions["shop.orders.OrderRepository.latest"]
    assert [call.callee for call in latest.calls] == ["shop.orders.OrderRepository.fetch"]
    assert [target.qualname for _, target in index.callees(latest.qualname)] == ["shop.base.Repository.fetch"]
    assert [target.qualname for _, target in index.callees("shop.orders.OrderRepository.build")] == [
        "shop.orders.OrderRepository.create"
    ]
    assert index.method("shop.orders.OrderRepository", "query") == "shop.base.Repository.query"
    assert index.function("shop.orders.OrderRepository.query") is index.functions["shop.base.Repository.query"]
    assert index.functions["shop.orders.OrderRepository.build"].decorators == ("classmethod",)


def test_decorators_and_defaults_are_not_calls_of_the_function() -> None:
    facts = facts_of(
        """
        import functools
        from fastapi import APIRouter, Depends

        router = APIRouter()

        def get_db():
            pass

        @router.get("/orders")
        @functools.lru_cache(maxsize=8)
        def list_orders(db=Depends(get_db)):
            return get_db()
        """
    )
    assert callees(facts, "app.list_orders") == ["app.get_db"]
    assert facts.functions["app.list_orders"].decorators == ("app.router.get", "functools.lru_cache")


def test_nested_functions_and_classes() -> None:
    facts = facts_of(
        """
        def outer():
            def inner():
                return len([])

            class Local:
                value = len("x")

                def method(self):
                    return self.other()

            return inner()
        """
    )
    assert callees(facts, "app.outer.inner") == ["len"]
    # A class body runs when the enclosing function runs.
    assert callees(facts, "app.outer") == ["len"]
    assert callees(facts, "app.outer.Local.method") == ["app.outer.Local.other"]


def test_async_functions_are_marked() -> None:
    facts = facts_of("async def handler():\n    pass\n\ndef sync():\n    pass\n")
    assert facts.functions["app.handler"].is_async
    assert not facts.functions["app.sync"].is_async


def test_very_long_expressions_are_indexed_without_recursion() -> None:
    chain = " + ".join(["len(rows)"] * 2000)
    facts = facts_of(f"def total(rows):\n    return {chain}\n")
    assert len(facts.functions["app.total"].calls) == 2000


# ---------------------------------------------------------------------------------------
# Call chains
# ---------------------------------------------------------------------------------------


CHAIN = {
    "shop/__init__.py": "",
    "shop/api.py": """
        from .services import place_order

        def create_order(request):
            return place_order(request)
        """,
    "shop/services.py": """
        from .repository import save

        def place_order(request):
            validate(request)
            return save(request)

        def validate(request):
            return request
        """,
    "shop/repository.py": """
        from .db import execute

        def save(order):
            return execute(order)
        """,
    "shop/db.py": """
        import sqlite3

        def execute(statement):
            return connect().execute(statement)

        def connect():
            return sqlite3.connect(":memory:")
        """,
}


def test_first_path_is_the_shortest_chain_to_a_matching_function() -> None:
    index = index_of(CHAIN)
    path = index.first_path("shop.api.create_order", lambda facts: facts.qualname == "shop.db.execute")
    assert path is not None
    assert [(target.qualname, call.line) for call, target in path] == [
        ("shop.services.place_order", 5), ("shop.repository.save", 6), ("shop.db.execute", 5),
    ]


def test_first_path_depth_is_a_parameter() -> None:
    index = index_of(CHAIN)
    wanted = lambda facts: facts.qualname == "shop.db.connect"  # noqa: E731
    longest = index.first_path("shop.api.create_order", wanted, max_depth=5)
    assert longest is not None and len(longest) == 4  # create_order -> place_order -> save -> execute -> connect
    assert index.first_path("shop.api.create_order", wanted, max_depth=3) is None


def test_first_path_stops_at_recursion_and_callers_are_the_reverse_graph() -> None:
    index = index_of(
        {
            "walk.py": """
                def ping(n):
                    return pong(n - 1)

                def pong(n):
                    return ping(n) if n else 0
                """,
        }
    )
    assert index.first_path("walk.ping", lambda facts: facts.qualname == "walk.nowhere", max_depth=10) is None
    assert index.callers("walk.ping") == frozenset({"walk.pong"})
    assert index.callers("walk.pong") == frozenset({"walk.ping"})
    chain_index = index_of(CHAIN)
    assert chain_index.callers("shop.db.execute") == frozenset({"shop.repository.save"})


def test_indexing_a_real_tree(tmp_path: Path) -> None:
    # The index of the package's own sources resolves its own imports.
    import backbone

    source_root = Path(backbone.__file__).parent.parent
    files = {
        path.relative_to(source_root).as_posix(): path.read_text(encoding="utf-8")
        for path in (source_root / "backbone").rglob("*.py")
    }
    index = index_of(files)
    assert "backbone.review.engine.review_paths" in index.functions
    called = {target.qualname for _, target in index.callees("backbone.review.engine.review_paths")}
    assert "backbone.review.discovery.discover" in called
    assert "backbone.review.project.ProjectIndex.build" in called


def test_reach_gives_every_function_within_the_depth_with_its_shortest_chain() -> None:
    index = index_of(CHAIN)
    reached = index.reach("shop.api.create_order", max_depth=3)
    assert {name: [target.qualname for _, target in chain] for name, chain in reached.items()} == {
        "shop.services.place_order": ["shop.services.place_order"],
        "shop.services.validate": ["shop.services.place_order", "shop.services.validate"],
        "shop.repository.save": ["shop.services.place_order", "shop.repository.save"],
        "shop.db.execute": ["shop.services.place_order", "shop.repository.save", "shop.db.execute"],
    }
    # A function `passes` rejects is neither reported nor gone through.
    blocked = index.reach("shop.api.create_order", max_depth=5, passes=lambda facts: facts.qualname != "shop.repository.save")
    assert set(blocked) == {"shop.services.place_order", "shop.services.validate"}


def test_functions_handed_to_a_function_that_calls_them_per_item() -> None:
    index = index_of(
        {
            "app/__init__.py": "",
            "app/paging.py": """
                class Pager:
                    def page(self, rows, render):
                        return [render(row) for row in rows]

                def paginate(rows, size, serializer):
                    out = []
                    for row in rows[:size]:
                        out.append(serializer(row))
                    return out

                def summarize(rows, total):
                    return {"rows": rows, "total": total()}

                def with_retries(func, attempts=3):
                    for attempt in range(attempts):
                        try:
                            return func()
                        except OSError:
                            continue

                def mapped(rows, render):
                    return list(map(render, rows))
            """,
            "app/management/__init__.py": "",
            "app/management/commands/__init__.py": "",
            "app/management/commands/export.py": """
                from app.paging import paginate

                def export_row(row):
                    return str(row)

                def handle(rows):
                    return paginate(rows, 1000, export_row)
            """,
            "app/views.py": """
                from app.paging import Pager, mapped, paginate, summarize, with_retries

                def serialize(row):
                    return {"id": row.id}

                def count():
                    return 0

                def handed_positionally(rows):
                    return paginate(rows, 50, serialize)

                def handed_by_keyword(rows):
                    return paginate(rows, 50, serializer=serialize)

                def handed_once(rows):
                    return summarize(rows, count)

                def load():
                    return []

                def render(row):
                    return str(row)

                def retried(rows):
                    return with_retries(load)

                def rendered(rows):
                    return mapped(rows, render)

                class View:
                    def get(self, rows):
                        return Pager().page(rows, serialize)

                    def listing(self, rows):
                        return paginate(rows, 20, self.row)

                    def row(self, item):
                        return {"id": item.id}
            """,
        }
    )
    assert index.functions["app.paging.paginate"].per_item_parameters == ((2, "serializer"),)
    # `self` is not counted: a bound call passes `rows` first.
    assert index.functions["app.paging.Pager.page"].per_item_parameters == ((1, "render"),)
    assert index.functions["app.paging.summarize"].per_item_parameters == ()
    # A retry loop calls its function once per attempt, without an item.
    assert index.functions["app.paging.with_retries"].per_item_parameters == ()
    assert index.functions["app.paging.mapped"].per_item_parameters == ((1, "render"),)
    callbacks = index.per_item_callbacks()
    # A management command's hand-over is no evidence: no request waits on it.
    assert set(callbacks) == {"app.views.serialize", "app.views.render", "app.views.View.row"}


def test_a_kept_resolution_records_what_it_read_each_time_it_is_given() -> None:
    from backbone.review import reads

    index = ProjectIndex.build([
        facts_of("from .services import load\n", "app", is_package=True),
        facts_of("def load():\n    return 1\n", "app.services"),
    ])
    index.track()
    with reads.tracking() as first:
        assert index.resolve("app.load") == "app.services.load"
    with reads.tracking() as again:
        assert index.resolve("app.load") == "app.services.load"
    assert "app.load" in index.resolved
    assert first and again == first
    # Untracked, nothing is kept.
    untracked = ProjectIndex.build([facts_of("from .services import load\n", "app", is_package=True)])
    untracked.resolve("app.load")
    assert not untracked.resolved


def test_a_generator_with_one_yield_in_no_loop_yields_once() -> None:
    facts = facts_of(
        """
        async def get_engine():
            engine = connect()
            try:
                yield engine
            finally:
                engine.close()

        def each(names):
            for name in names:
                yield name

        def twice():
            yield 1
            yield 2

        def delegated(names):
            yield from names

        def plain():
            return [1]
        """
    )
    assert facts.functions["app.get_engine"].yields_once
    for name in ("each", "twice", "delegated", "plain"):
        assert not facts.functions[f"app.{name}"].yields_once


def test_a_call_site_lists_the_arguments_it_passes_as_one_element_displays() -> None:
    facts = facts_of(
        """
        def add_comment(objs, text, *others, extra=(), **rest):
            return objs

        def comment_on(bug, bugs, text):
            add_comment([bug], text, extra=(bug,), others=bugs)
            add_comment([bug, bug], [*bugs], {bug})
        """
    )
    sites = facts.functions["app.comment_on"].calls
    assert [site.one_item for site in sites] == [("0", "extra"), ("2",)]


def test_start_up_hooks_are_listed_in_source_order_without_nested_scopes() -> None:
    import ast as _ast

    from backbone.review.extraction import import_time_hooks
    from backbone.review.names import NameResolver, collect_imports, top_level_symbols

    source = (
        "from fastapi import FastAPI\n"
        "async def connect(): pass\n"
        "async def disconnect(): pass\n"
        "async def warm(): pass\n"
        "app = FastAPI()\n"
        "app.add_event_handler('startup', connect)\n"
        "app.add_event_handler('shutdown', disconnect)\n"
        "def later():\n"
        "    app.add_event_handler('startup', warm)\n"
    )
    tree = _ast.parse(source)
    imports, _ = collect_imports(tree, "shop.main", False)
    hooks = import_time_hooks(tree, NameResolver("shop.main", imports, top_level_symbols(tree)))
    # `later()` registers `warm` when it is called, not at import.
    assert hooks == ("shop.main.connect", "shop.main.disconnect")


def test_a_member_of_self_or_cls_is_named_on_the_class_around_it() -> None:
    import ast as _ast

    from backbone.review.names import own_member

    def expression(text: str) -> _ast.expr:
        statement = _ast.parse(text).body[0]
        assert isinstance(statement, _ast.Expr)
        return statement.value

    assert own_member(expression("self.save"), "shop.Orders") == "shop.Orders.save"
    assert own_member(expression("cls.build"), "shop.Orders") == "shop.Orders.build"
    assert own_member(expression("self.save"), None) is None
    assert own_member(expression("orders.save"), "shop.Orders") is None
    assert own_member(expression("self.items.save"), "shop.Orders") is None


def test_the_names_a_module_looks_up_at_run_time_and_spells_in_strings() -> None:
    """What may call a function without a call the call graph shows: attribute names read,
    names looked up at run time, dotted paths of functions in strings."""
    source = textwrap.dedent(
        """
        import operator

        from app import handlers

        ENTRY_POINT = "rates = app.cli:main"
        HANDLER = "app.errors.exception_handler"


        class Visitor:
            def visit(self, node):
                return getattr(self, "visit_" + type(node).__name__)(node)

            def dispatch(self, name):
                return getattr(self, name)


        def run(job, action, row, field):
            getattr(job, action)(row)
            value = getattr(row, field)
            getattr(handlers, f"on_{action}")
            operator.attrgetter("total.amount")
            if False:
                job.legacy()
            return job.refresh(value), row.__class__.__name__, globals()
        """
    )
    facts = extract_module_facts(ast.parse(source), "app/m.py", "app.m", False)
    # Any string shaped like one (`"total.amount"` too): a name too many only keeps a function in use.
    assert facts.dotted_function_paths == ("app.cli.main", "app.errors.exception_handler", "total.amount")
    assert facts.attribute_reads == {
        "*",  # `getattr(job, action)(row)` calls what it finds; `getattr(row, field)` only reads a value
        "app.m.Visitor.visit_*",
        "app.m.Visitor.*",
        "app.handlers.on_*",
        "total",
        "amount",
        "refresh",
        "app.m.*",
    }
    index = ProjectIndex.build([facts])
    names = index.names_read()
    assert names.names("exception_handler", ["errors"], method=False)
    assert names.names("visit_Call", ["Visitor"], method=True) and names.names("anything", ["Visitor"], method=True)
    assert names.names("on_rates", ["handlers"], method=False)
    # Any method may be the action; a module's function is no attribute of a job.
    assert names.names("legacy", ["Client"], method=True) and not names.names("legacy", ["clients"], method=False)


def test_one_reading_of_a_call_s_argument_by_keyword_or_position() -> None:
    import ast

    from backbone.review.names import argument

    call = ast.parse("f(1, b=2)").body[0].value  # type: ignore[attr-defined]
    starred = ast.parse("f(*rest, 3)").body[0].value  # type: ignore[attr-defined]
    assert ast.literal_eval(argument(call, 0, "a")) == 1
    assert ast.literal_eval(argument(call, 1, "b")) == 2
    assert argument(call, 2, "c") is None and argument(call, None, "a") is None
    assert ast.literal_eval(argument(call, None, "b")) == 2
    # After a `*rest`, which argument sits at a position is unknown.
    assert argument(starred, 1, None) is None
