"""The project index: modules, top-level symbols, imports, classes and the call graph.

Facts are extracted per file (`extraction.extract_module_facts`), which is what the cache
keeps, and merged into a `ProjectIndex` that every rule can ask: what does this name refer
to, is this a project function, what does it call. The index carries the layers' facts
without importing the layers: their fact types are records of their own modules.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar, cast

import msgspec
from msgspec.structs import replace

from backbone.records import Record
from backbone.review import reads
from backbone.review.guards import (
    Guard,
    Value,
    call_arguments,
    constant_defaults,
    guarded_nodes,
)
from backbone.review.knowledge.state import initialises_once
from backbone.review.names import (
    BUILTIN_NAMES,
    NameResolver,
    dotted_parts,
    own_member,
)
from backbone.review.names import (
    module_name_for as module_name_for,
)
from backbone.review.naming import (
    LOOKUPS,
    NamesRead,
    framework_facing,
    is_dunder,
    looked_up,
    lookup_name,
)
from backbone.review.semantic import (
    SemanticModel,
    ancestors,
    child_fields,
    child_nodes,
    constant_truth,
    own_nodes,
    positional_parameters,
    reachable,
    subtree,
    unreachable_statements,
)

if TYPE_CHECKING:
    from backbone.review.frameworks.declarations import RouteDeclaration
    from backbone.review.migrations.model import MigrationDeclaration, SelfMigration
    from backbone.review.orm.facts import ModelDeclaration
    from backbone.review.serialization.facts import SerializationDeclaration


def fact_type_names() -> dict[str, object]:
    """The names `ModuleFacts`'s annotations use that this module imports for type checking
    only: what a codec of the facts (`cache_codec`) needs to read them."""
    from backbone.review.frameworks.declarations import RouteDeclaration
    from backbone.review.migrations.model import MigrationDeclaration, SelfMigration
    from backbone.review.orm.facts import ModelDeclaration
    from backbone.review.serialization.facts import SerializationDeclaration

    return {
        "RouteDeclaration": RouteDeclaration,
        "ModelDeclaration": ModelDeclaration,
        "SerializationDeclaration": SerializationDeclaration,
        "MigrationDeclaration": MigrationDeclaration,
        "SelfMigration": SelfMigration,
    }


# The callee recorded for `super().name(...)`: "super().name".
SUPER_CALL = "super()."
# `pkg.ConfigManager().init_config`: a method called on what a local call built (see `_Frame.instances`).
INSTANCE_CALL = "()."


class CallSite(Record, frozen=True):
    """A call inside a project function, its target resolved as far as imports allow."""

    callee: str
    line: int
    column: int
    # The arguments it passes as a one-element list, tuple or set display (`add_comment([bug],
    # text)`): positions of positional ones, names of keyword ones.
    one_item: tuple[str, ...] = ()
    # Made inside a lazy initialisation of module state (`global _store; if _store is None:
    # _store = build(); configure(uri)`): the call runs once per process, not once per call.
    once: bool = False
    # The tests of the calling function's parameters the call runs under (`if name:`, its `else`,
    # `if name is None:`...): a caller whose `guards.Binding` rules one out doesn't reach it.
    guards: tuple[Guard, ...] = ()
    # What it passes (`guards.call_arguments`), to bind the callee's parameters by.
    arguments: tuple[str, ...] = ()
    # What it returns is entered by a `with` / `async with` (`with immediate_atomic():`, or
    # `atomic = ImmediateAtomic()` then `with atomic:`): whatever the context manager holds, it
    # holds for that block only.
    entered: bool = False
    # The context managers whose `with` / `async with` block the call runs in, outermost first:
    # the callees of the calls that built them, qualified as `callee` is.
    within: tuple[str, ...] = ()


class HandedFunction(Record, frozen=True):
    """A module-level name handed to a call as an argument (`paginate(rows, 1, 50, serialize)`):
    the receiver may call it. `position` counts the call's positional arguments (-1 for a
    keyword argument, then named by `keyword`). `callee` is "" for a receiver the file cannot
    name (a library object's method), which is recorded with the own methods handed to it only."""

    callee: str
    function: str
    position: int
    keyword: str
    line: int
    column: int


class HandedRows(Record, frozen=True):
    """Rows a function hands to a project function (`paginate(results, page, 50, serialize)`):
    argument `position` of the call to `callee` holds what a call to the project function
    `source` returned, through names bound to it and through helpers handed it first
    (`results = filter_by_tags(results, ...)`, listed in `through`). `callbacks` are the
    call's other arguments that are functions, as (position, function, method): a function
    named (`serialize`, `self.serialize`), or a lambda that calls `method` on its parameter
    (`lambda q: q.to_dict()`)."""

    callee: str
    position: int
    source: str
    through: tuple[str, ...]
    callbacks: tuple[tuple[int, str, str], ...]
    line: int
    column: int


class FunctionFacts(Record, frozen=True):
    qualname: str
    line: int
    is_async: bool
    calls: tuple[CallSite, ...]
    decorators: tuple[str, ...]
    # Parameters the function calls once per item of a loop or comprehension
    # (`[serializer(row) for row in rows]`), as (position, name); positions leave out a
    # leading `self`/`cls`, as a bound call passes them.
    per_item_parameters: tuple[tuple[int, str], ...] = ()
    handed: tuple[HandedFunction, ...] = ()
    # Parameters called once per item of an iteration over another parameter (`for row in
    # query_set.paginate(...).items: serializer(row)`), as (called position, iterated position).
    per_item_rows: tuple[tuple[int, int], ...] = ()
    handed_rows: tuple[HandedRows, ...] = ()
    # The function returns its parameter at this position (leaving out `self`/`cls`) narrowed by
    # calls that keep its rows and what they load (`query.filter(...).limit(n)`), as a whole
    # (element -1) or as this element of a returned tuple (`return query.limit(n), count`):
    # (position, element); (-1, -1) when not.
    returns_argument: tuple[int, int] = (-1, -1)
    # The project functions it hands the parameter to on the way (each must return it too).
    returns_through: tuple[str, ...] = ()
    # A generator with one `yield` outside any loop (`with engine() as e: yield e`, a dependency
    # or context-manager body): iterating over a call of it goes round at most once.
    yields_once: bool = False
    # It calls a function it was handed (a parameter, its factory's parameter) only inside a
    # `try` whose catch-all clause doesn't raise again: the handed function's failures stay in it.
    contains_failures: bool = False
    # The nested function it returns (`return wrapper`), qualified; "" when it returns none.
    returns_function: str = ""
    # Positions of the parameters whose exception class it reads (`type(error).__name__`,
    # `error.__class__.__module__`): it describes an exception by its type, to send it on.
    describes_exception_type: tuple[int, ...] = ()
    # It raises an exception of a class it looked up by name at run time (`exception =
    # getattr(module, name)`, then `raise exception(*args)`): it re-raises what was sent to it.
    raises_looked_up_class: bool = False
    # Its positional parameters (leaving out `self`/`cls`), to read `CallSite.arguments` by, and
    # the parameters whose default is a constant, with its value (`include_system: bool = False`).
    parameters: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Value], ...] = ()
    # What every value it returns is built by (`return Client(url)`, or `client = Client(url)`
    # then `return client`; `None` aside), the callee qualified: a project class, or a project
    # function that returns such a value in turn. "" when its returns differ or are something else.
    # A method called on what a call of it returns (`client = self.get_client();
    # client.fetch()`) is that class's method (`ProjectIndex.function`).
    returns_instance: str = ""


def _one_item_arguments(call: ast.Call) -> tuple[str, ...]:
    """Positions (of positional arguments) and names (of keyword ones) a call passes a
    one-element display: `[bug]`, `(case,)`, `{user}`."""
    if not call.args and not call.keywords:
        return ()

    def one(node: ast.expr) -> bool:
        return isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) == 1 and not isinstance(node.elts[0], ast.Starred)

    found = [str(index) for index, argument in enumerate(call.args) if one(argument)]
    found += [keyword.arg for keyword in call.keywords if keyword.arg and one(keyword.value)]
    return tuple(found)


def _yields_once(nodes: list[ast.AST]) -> bool:
    """One `yield` (not `yield from`) in the function's own nodes, in no loop of it."""
    yields = [node for node in nodes if isinstance(node, (ast.Yield, ast.YieldFrom))]
    if len(yields) != 1 or not isinstance(yields[0], ast.Yield):
        return False
    loops = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    return not any(isinstance(node, loops) and any(inner is yields[0] for inner in ast.walk(node)) for node in nodes)


class ClassFacts(Record, frozen=True):
    qualname: str
    line: int
    bases: tuple[str, ...]
    methods: tuple[str, ...]
    # A generic class: the type variables of its `Generic[...]` base (`Generic[Schema, Model]`).
    type_parameters: tuple[str, ...] = ()
    # Per subscripted base, what it binds them to: (base, arguments) (`Repository[PostOut, Post]`).
    base_arguments: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Attributes that hold the class a type variable stands for: `self.model = model` with
    # `model: type[Model]`, or `model: type[Model]` in the class body, as (attribute, type variable).
    typed_attributes: tuple[tuple[str, str], ...] = ()


class ModuleFacts(Record, frozen=True):
    path: str
    module: str
    imports: dict[str, str]
    star_imports: tuple[str, ...]
    symbols: frozenset[str]
    classes: dict[str, ClassFacts]
    functions: dict[str, FunctionFacts]
    imported_packages: frozenset[str]
    # What the frameworks and ORM layers need from this file; they merge it project-wide.
    routes: tuple[RouteDeclaration, ...] = ()
    models: tuple[ModelDeclaration, ...] = ()
    serializers: tuple[SerializationDeclaration, ...] = ()
    # The Django migration the file is (its dependencies and field operations), for field histories.
    migrations: tuple[MigrationDeclaration, ...] = ()
    # The Django settings modules the file names in DJANGO_SETTINGS_MODULE (manage.py, wsgi.py).
    settings_modules: tuple[str, ...] = ()
    # What the file's Flask configuration says about Flask-CORS's origins
    # (`knowledge.deployment.flask_cors_configuration`).
    flask_cors_configuration: tuple[str, ...] = ()
    # The file reads or sets cookies, sessions or HTTP authentication, itself or through a library
    # (`knowledge.deployment.browser_credentials`).
    browser_credentials: bool = False
    # Calls whose coroutine a loop runner starts on a fresh event loop (`asyncio.run(main(...))`):
    # the (line, column) of `main(...)`, as its CallSite spells them.
    loop_starts: frozenset[tuple[int, int]] = frozenset()
    # String constants that name a class by its dotted path (`"app.serializers.TaskSerializer"` in
    # settings, for `import_string`): references no import shows.
    dotted_class_paths: tuple[str, ...] = ()
    # Module-level names bound to what a call returns, with the called name qualified
    # (`Automations = AutomationTable()` -> `{"Automations": "app.models.AutomationTable"}`): what an
    # importer of the name holds, when the call builds an object of a project class.
    built_by: dict[str, str] = msgspec.field(default_factory=dict)
    # Functions handed to an application as start-up or shut-down hooks by module-level code
    # (`app = FastAPI(lifespan=lifespan)`), qualified as far as imports allow.
    startup_hooks: tuple[str, ...] = ()
    # Functions the module's `if __name__ == "__main__":` block calls, qualified as far as imports
    # allow: what runs when a person runs the file as a script.
    script_calls: tuple[str, ...] = ()
    # Module-level functions that create a table with Alembic's `op.create_table` (a project helper
    # an upgrade() calls): qualified name -> (the parameter that names the table, its position, or
    # the table's name when the function spells it).
    table_creators: dict[str, tuple[str, int, str]] = msgspec.field(default_factory=dict)
    # The column types an Alembic revision's upgrade() declares (`op.create_table`, `add_column`,
    # `alter_column(type_=...)`, batch operations included): "table.column" ("?.column" when the
    # table is not spelled) -> (type as `column_type_of` spells it, line, whether it creates the column) for each one.
    column_types: dict[str, tuple[tuple[str, int, bool], ...]] = msgspec.field(default_factory=dict)
    # The names the module's code reads where it can run, resolved (`collect_references`), and the
    # names it reads only in branches that never run (`if False: agent = LegacyAgent(...)`).
    references: frozenset[str] = frozenset()
    dead_references: frozenset[str] = frozenset()
    # Attribute names the module's code reads where it can run, on what no import or definition
    # names (`self.refresh()`, `row.total`, `getattr(x, "total")`, `attrgetter("total")`): what a
    # method, or a function handed around, may be called by; dunder names left out. Names built
    # at run time (`naming.looked_up`): `prefix*`, their constant start on any object
    # (`getattr(form, "clean_" + field)`); `*`, any name, what it finds called (`getattr(job,
    # action)(request)`); `owner.*` and `owner.prefix*`, on the module or class `owner`
    # (`getattr(handlers, name)`, `getattr(self, "visit_" + kind)` in its methods, `globals()`).
    attribute_reads: frozenset[str] = frozenset()
    # String constants shaped like the dotted path of a function (`"app.errors.exception_handler"`
    # in settings, `"app.cli:main"` in an entry point), as dotted paths (`app.cli.main`).
    dotted_function_paths: tuple[str, ...] = ()
    # Attributes the file assigns (`config.on_connect = wrap(func)`, in functions too): attribute
    # name -> the qualified names of the calls whose results it assigns, "" for any other value
    # (None aside).
    assigned_attributes: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    # The databases the file's string constants name: a SQLite URL or engine it builds, one that is only
    # a configuration's fallback, another database (`knowledge.databases.database_mentions`).
    databases: tuple[str, ...] = ()
    # The file's functions (or its own top-level code) that apply the project's migrations, or stop
    # unless they were applied (`migrations.self_migration`).
    self_migrations: tuple[SelfMigration, ...] = ()
    # The file's code starts Django's own HTTP server (`migrations.self_migration`): the project
    # serves itself.
    starts_django_server: bool = False


class _Frame(Record, frozen=True):
    """Where a node sits: the names around it, the innermost class, whose calls it makes."""

    scope: tuple[str, ...]
    class_qualname: str | None
    # The call list of the innermost function; None at module level, where calls run at import.
    calls: list[CallSite] | None
    # Local names of the innermost function bound only to what one call builds (`manager =
    # ConfigManager()`, maybe `None` first): name -> the call's callee, qualified.
    instances: dict[str, str] = msgspec.field(default_factory=dict)
    # The names the innermost function declares `global`, and whether the node sits in a block that
    # initialises one of them once (`if _store is None: _store = ...`).
    declared_global: frozenset[str] = frozenset()
    once: bool = False
    # The guards of the innermost function's nodes, by id (see `CallSite.guards`).
    guards: dict[int, tuple[Guard, ...]] = msgspec.field(default_factory=dict)
    # The innermost function's calls whose result a `with` enters, and the context managers
    # around each call of its `with` blocks, by id (see `CallSite.entered`, `CallSite.within`).
    entered: frozenset[int] = frozenset()
    within: dict[int, tuple[str, ...]] = msgspec.field(default_factory=dict)


class _FunctionEnd(Record, frozen=True):
    """Marks the end of a function body on the work stack: its facts are complete."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str
    calls: list[CallSite]
    decorators: tuple[str, ...]
    class_qualname: str | None = None
    # `FunctionFacts.returns_instance`.
    returns_instance: str = ""


class _FactCollector:
    """Functions, classes and calls of one module.

    Walks with an explicit stack rather than recursion: generated code with a long chain of
    `a + b + ...` parses fine but nests deeper than Python's recursion limit.
    """

    def __init__(self, module: str, resolver: NameResolver, semantic: SemanticModel | None = None) -> None:
        self.module = module
        self.resolver = resolver
        # The file's model, when the caller has it: its node index lends the walks.
        self._walk: Callable[[ast.AST], list[ast.AST]] = semantic.walk if semantic is not None else subtree
        self._own: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], list[ast.AST]] = (
            semantic.own_nodes if semantic is not None else own_nodes
        )
        self._guards: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], dict[int, tuple[Guard, ...]]] = (
            semantic.guards if semantic is not None else guarded_nodes
        )
        self.functions: dict[str, FunctionFacts] = {}
        self.classes: dict[str, ClassFacts] = {}

    def _qualname(self, frame: _Frame, name: str) -> str:
        return ".".join(filter(None, [self.module, *frame.scope, name]))

    def collect(self, tree: ast.Module) -> None:
        stack: list[tuple[ast.AST, _Frame] | _FunctionEnd] = [(tree, _Frame((), None, None))]
        while stack:
            item = stack.pop()
            if isinstance(item, _FunctionEnd):
                nodes = self._own(item.node)
                per_item, handed = self._callbacks(item.node, item.class_qualname)
                returned, returned_through = _returned_argument(item.node, item.class_qualname, self.resolver, nodes)
                self.functions[item.qualname] = FunctionFacts(
                    item.qualname,
                    item.node.lineno,
                    isinstance(item.node, ast.AsyncFunctionDef),
                    tuple(item.calls),
                    item.decorators,
                    per_item,
                    handed,
                    _per_item_rows(item.node, item.class_qualname, nodes) if per_item else (),
                    self._handed_rows(item.node, item.class_qualname),
                    returned,
                    returned_through,
                    _yields_once(nodes),
                    _contains_failures(item.node, self.resolver, nodes),
                    _returned_function(item.node, item.qualname, nodes),
                    _describes_exception_type(item.node, item.class_qualname, nodes),
                    _raises_looked_up_class(nodes),
                    tuple(positional_parameters(item.node, item.class_qualname is not None)),
                    constant_defaults(item.node),
                    returns_instance=item.returns_instance,
                )
                continue
            node, frame = item
            following: list[tuple[ast.AST, _Frame] | _FunctionEnd]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                following = self._function(node, frame)
            elif isinstance(node, ast.ClassDef):
                following = self._class(node, frame)
            elif isinstance(node, ast.expr):
                # An expression holds no definitions: only its calls count, and only inside a
                # function (a module's literal tables are not walked at all).
                calls = frame.calls
                if calls is not None:
                    for inner in self._walk(node):
                        if isinstance(inner, ast.Call):
                            callee = self._callee(inner.func, frame)
                            if callee is not None:
                                calls.append(CallSite(
                                    callee, inner.lineno, inner.col_offset + 1, _one_item_arguments(inner), frame.once,
                                    frame.guards.get(id(inner), ()), call_arguments(inner),
                                    id(inner) in frame.entered, frame.within.get(id(inner), ()),
                                ))
                            for hook in hook_callbacks(inner):
                                # `FastAPI(lifespan=lifespan)`: the application runs the hook it is given.
                                target = self._callee(hook, frame)
                                if target is not None:
                                    calls.append(CallSite(target, hook.lineno, hook.col_offset + 1, once=frame.once))
                continue
            elif isinstance(node, ast.If) and (truth := constant_truth(node.test)) is not None:
                # `if False:`, `elif kind == "x" and False:`: the branch the test rules out never runs,
                # so its calls are no edges of the call graph (nor its definitions).
                kept: list[ast.AST] = [node.test, *reachable(node.body if truth else node.orelse)]
                stack.extend([(child, frame) for child in reversed(kept)])
                continue
            elif isinstance(node, ast.If) and frame.declared_global and initialises_once(node, frame.declared_global):
                once = replace(frame, once=True)
                kept_frames: list[tuple[ast.AST, _Frame]] = [
                    (node.test, frame), *((child, once) for child in reachable(node.body)),
                    *((child, frame) for child in reachable(node.orelse)),
                ]
                stack.extend(reversed(kept_frames))
                continue
            else:
                # Load/Store markers hold nothing to collect; statements after an exit of their
                # block never run, so their calls are no edges either.
                children = [child for child in child_nodes(node) if not isinstance(child, ast.expr_context)]
                if isinstance(node, ast.stmt | ast.excepthandler) and (dead := unreachable_statements(node)):
                    children = [child for child in children if not any(child is statement for statement in dead)]
                children.reverse()
                stack.extend([(child, frame) for child in children])
                continue
            stack.extend(reversed(following))

    def _function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: _Frame
    ) -> list[tuple[ast.AST, _Frame] | _FunctionEnd]:
        qualname = self._qualname(frame, node.name)
        decorators = tuple(
            resolved
            for decorator in node.decorator_list
            if (resolved := self.resolver.qualified_name(
                decorator.func if isinstance(decorator, ast.Call) else decorator
            ))
            is not None
        )
        calls: list[CallSite] = []
        declared = frozenset(name for inner_node in self._own(node) if isinstance(inner_node, ast.Global) for name in inner_node.names)
        inner = _Frame(
            (*frame.scope, node.name), frame.class_qualname, calls, self._instances(node, frame.class_qualname), declared,
            guards=self._guards(node),
        )
        if any(isinstance(inner_node, (ast.With, ast.AsyncWith)) for inner_node in self._own(node)):
            entered, within = self._context_managers(node, inner)
            inner = replace(inner, entered=entered, within=within)
        # Decorators, defaults and annotations run where the function is defined, not in it.
        following: list[tuple[ast.AST, _Frame] | _FunctionEnd] = [
            (child, frame) for field_name, child in _child_fields(node) if field_name != "body"
        ]
        following += [(statement, inner) for statement in reachable(node.body)]
        following.append(
            _FunctionEnd(node, qualname, calls, decorators, frame.class_qualname, self._returned_instance(node, inner))
        )
        return following

    def _returned_instance(self, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: _Frame) -> str:
        """`FunctionFacts.returns_instance`: the callee that builds every value the function
        returns, directly (`return Client(url)`) or through a local name bound only to what it
        builds (`frame.instances`); `return None` and a bare `return` aside."""
        built: set[str] = set()
        for inner in self._own(node):
            if not isinstance(inner, ast.Return) or inner.value is None:
                continue
            value = inner.value
            if isinstance(value, ast.Constant) and value.value is None:
                continue
            if isinstance(value, ast.Name) and value.id in frame.instances:
                built.add(frame.instances[value.id])
            elif isinstance(value, ast.Call) and (callee := self._callee(value.func, frame)) is not None:
                built.add(callee)
            else:
                return ""
        if len(built) != 1:
            return ""
        callee = built.pop()
        return "" if SUPER_CALL in callee or INSTANCE_CALL in callee else callee

    def _context_managers(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: _Frame
    ) -> tuple[frozenset[int], dict[int, tuple[str, ...]]]:
        """`_Frame.entered` and `_Frame.within` of a function: the calls whose result its `with`
        statements enter (`with lock():`, or `with atomic:` on `atomic = ImmediateAtomic()`), and
        for each call in a `with` block the context managers around it, by the callees that
        built them."""
        nodes = self._own(node)
        built: dict[str, list[ast.Call]] = {}
        for inner in nodes:
            if isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Call):
                if len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
                    built.setdefault(inner.targets[0].id, []).append(inner.value)
        entered: set[int] = set()
        within: dict[int, tuple[str, ...]] = {}
        for inner in nodes:
            if not isinstance(inner, (ast.With, ast.AsyncWith)):
                continue
            managers: list[str] = []
            for item in inner.items:
                expression = item.context_expr
                calls = [expression] if isinstance(expression, ast.Call) else []
                if isinstance(expression, ast.Name) and len(built.get(expression.id, ())) == 1:
                    calls = built[expression.id]
                for call in calls:
                    entered.add(id(call))
                    callee = self._callee(call.func, frame)
                    if callee is not None:
                        managers.append(callee)
            if not managers:
                continue
            for statement in inner.body:
                for inside in self._walk(statement):
                    if isinstance(inside, ast.Call):
                        within[id(inside)] = (*within.get(id(inside), ()), *managers)
        return frozenset(entered), within

    def _callbacks(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None
    ) -> tuple[tuple[tuple[int, str], ...], tuple[HandedFunction, ...]]:
        """What a function does with functions as values: the parameters it calls once per item
        of a loop or comprehension, with the item (`[serializer(row) for row in rows]`,
        `map(render, rows)`), and the module-level functions and own methods it hands to calls.
        A parameter called in a loop without the item (`for attempt in range(3): return func()`)
        runs once per attempt, not per item."""
        positional = positional_parameters(node, class_qualname is not None)
        frame = _Frame((), class_qualname, None)
        per_item: dict[str, int] = {}
        handed: list[HandedFunction] = []
        nodes = self._own(node)
        # Most functions call none of their parameters: their loops need no second look.
        calls_a_parameter = bool(positional) and any(
            isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in positional for inner in nodes
        )
        for inner in nodes:
            repeated: list[ast.AST] = []
            items: set[str] = set()
            if not calls_a_parameter and not isinstance(inner, ast.Call):
                continue
            if isinstance(inner, (ast.For, ast.AsyncFor)):
                repeated = list(inner.body)
                items = _target_names(inner.target)
            elif isinstance(inner, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                repeated = [inner.key, inner.value] if isinstance(inner, ast.DictComp) else [inner.elt]
                repeated += [condition for generator in inner.generators for condition in generator.ifs]
                items = {name for generator in inner.generators for name in _target_names(generator.target)}
            elif isinstance(inner, ast.Call):
                handed += self._handed(inner, frame)
                func = inner.func
                if isinstance(func, ast.Name) and func.id == "map" and len(inner.args) >= 2:
                    mapped = inner.args[0]
                    if isinstance(mapped, ast.Name) and mapped.id in positional:
                        per_item.setdefault(mapped.id, positional.index(mapped.id))
            for part in repeated:
                for call in self._walk(part):
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in positional):
                        continue
                    passed = [*call.args, *(keyword.value for keyword in call.keywords)]
                    if any(isinstance(leaf, ast.Name) and leaf.id in items for value in passed for leaf in self._walk(value)):
                        per_item.setdefault(call.func.id, positional.index(call.func.id))
        return tuple(sorted((position, name) for name, position in per_item.items())), tuple(handed)

    def _handed(self, call: ast.Call, frame: _Frame) -> list[HandedFunction]:
        arguments = [(position, "", value) for position, value in enumerate(call.args)]
        arguments += [(-1, keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg]
        if not any(isinstance(value, (ast.Name, ast.Attribute)) for _, _, value in arguments):
            return []
        callee = self._callee(call.func, frame)
        # A receiver the file cannot name (`parser.set_defaults(func=self.prune)` on a local
        # object of a library) is recorded as "" with the class's own methods it is handed.
        owner = self.classes.get(frame.class_qualname) if callee is None and frame.class_qualname else None
        if callee is None and owner is None:
            return []
        found: list[HandedFunction] = []
        for position, keyword, value in arguments:
            target: str | None = None
            if owner is not None:
                if isinstance(value, ast.Attribute) and value.attr in owner.methods:
                    target = own_member(value, frame.class_qualname)
            elif isinstance(value, ast.Name) and value.id not in BUILTIN_NAMES:
                target = self.resolver.resolve_parts([value.id])
            else:
                # `paginate(rows, 1, 50, self.serialize)`: a method of the class, bound.
                target = own_member(value, frame.class_qualname)
            if target is not None:
                found.append(HandedFunction(callee or "", target, position, keyword, value.lineno, value.col_offset + 1))
        return found

    def _generic(self, node: ast.ClassDef) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...], tuple[tuple[str, str], ...]]:
        """ClassFacts.type_parameters, base_arguments and typed_attributes."""
        parameters: tuple[str, ...] = ()
        arguments: list[tuple[str, tuple[str, ...]]] = []
        for base in node.bases:
            if not isinstance(base, ast.Subscript):
                continue
            base_name = self.resolver.qualified_name(base.value)
            elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
            names = tuple(self.resolver.qualified_name(element) or "" if isinstance(element, (ast.Name, ast.Attribute)) else "" for element in elements)
            if base_name in ("typing.Generic", "typing_extensions.Generic"):
                parameters = names
            elif base_name:
                arguments.append((base_name, names))
        typed: list[tuple[str, str]] = []
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                variable = self._type_of(item.annotation)
                if variable:
                    typed.append((item.target.id, variable))
            elif isinstance(item, ast.FunctionDef) and item.name == "__init__":
                annotated = {argument.arg: self._type_of(argument.annotation) for argument in item.args.args if argument.annotation is not None}
                for statement in self._own(item):
                    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.value, ast.Name)):
                        continue
                    target = statement.targets[0]
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self" and annotated.get(statement.value.id):
                        typed.append((target.attr, annotated[statement.value.id]))
        return parameters, tuple(arguments), tuple(typed)

    def _type_of(self, annotation: ast.expr) -> str:
        """`type[Model]` / `Type[Model]`: the qualified name of `Model` (a type variable, if any)."""
        if not isinstance(annotation, ast.Subscript) or isinstance(annotation.slice, ast.Tuple):
            return ""
        outer = annotation.value
        if not (isinstance(outer, ast.Name) and outer.id == "type" or self.resolver.qualified_name(outer) in ("typing.Type", "builtins.type")):
            return ""
        inner = annotation.slice
        return (self.resolver.qualified_name(inner) or "") if isinstance(inner, (ast.Name, ast.Attribute)) else ""

    def _handed_rows(self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None) -> tuple[HandedRows, ...]:
        """The calls that hand a project function what another project call returned, next to a
        function argument (HandedRows)."""
        frame = _Frame((), class_qualname, None)
        nodes = self._own(node)
        calls = [inner for inner in nodes if isinstance(inner, ast.Call) and len(inner.args) >= 2]
        if not any(isinstance(argument, (ast.Name, ast.Lambda, ast.Attribute)) for call in calls for argument in call.args):
            return ()
        bound: dict[str, list[ast.expr]] = {}
        for inner in nodes:
            if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
                bound.setdefault(inner.targets[0].id, []).append(inner.value)
        found: list[HandedRows] = []
        for call in calls:
            callee = self._callee(call.func, frame)
            if callee is None:
                continue
            callbacks: list[tuple[int, str, str]] = []
            for position, argument in enumerate(call.args):
                if isinstance(argument, ast.Lambda):
                    method = _lambda_row_method(argument)
                    if method:
                        callbacks.append((position, "", method))
                elif isinstance(argument, ast.Name) and argument.id not in BUILTIN_NAMES and argument.id not in bound:
                    target = self.resolver.resolve_parts([argument.id])
                    if target is not None:
                        callbacks.append((position, target, ""))
                elif (member := own_member(argument, class_qualname)) is not None:
                    callbacks.append((position, member, ""))
            if not callbacks:
                continue
            for position, argument in enumerate(call.args):
                if any(position == callback[0] for callback in callbacks):
                    continue
                for source, through in self._row_sources(argument, bound, frame):
                    found.append(HandedRows(callee, position, source, through, tuple(callbacks), call.lineno, call.col_offset + 1))
        return tuple(found)

    def _row_sources(self, argument: ast.expr, bound: dict[str, list[ast.expr]], frame: _Frame) -> list[tuple[str, tuple[str, ...]]]:
        """The project calls whose result `argument` holds, with the helpers it went through
        (`rows = Post.recent(...)`, then `rows = only_public(rows)`)."""
        if isinstance(argument, ast.Call):
            callee = self._callee(argument.func, frame)
            return [(callee, ())] if callee is not None else []
        if not isinstance(argument, ast.Name) or argument.id not in bound:
            return []
        sources: list[str] = []
        through: list[str] = []
        for value in bound[argument.id]:
            if not isinstance(value, ast.Call):
                return []
            callee = self._callee(value.func, frame)
            if callee is None:
                return []
            first = value.args[0] if value.args else None
            if isinstance(first, ast.Name) and first.id == argument.id:
                through.append(callee)
            else:
                sources.append(callee)
        return [(source, tuple(through)) for source in sources]

    def _class(self, node: ast.ClassDef, frame: _Frame) -> list[tuple[ast.AST, _Frame] | _FunctionEnd]:
        qualname = self._qualname(frame, node.name)
        # A generic base (`ModelSerializer[Any]`, `ModelViewSet[Order]`) is its class.
        bases = tuple(
            resolved
            for base in node.bases
            if (resolved := self.resolver.qualified_name(base.value if isinstance(base, ast.Subscript) else base)) is not None
        )
        methods = tuple(
            item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
        self.classes[qualname] = ClassFacts(qualname, node.lineno, bases, methods, *self._generic(node))
        # A class body runs when the class is defined: its calls belong to the enclosing function.
        inner = _Frame((*frame.scope, node.name), qualname, frame.calls)
        following: list[tuple[ast.AST, _Frame] | _FunctionEnd] = [
            (child, frame) for field_name, child in _child_fields(node) if field_name != "body"
        ]
        following += [(statement, inner) for statement in reachable(node.body)]
        return following

    def _instances(self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None) -> dict[str, str]:
        """Local names bound only to the result of one constructor-like call (and to `None`):
        `manager = None` then `manager = ServerConfigManager()` under an `if`; the call may be
        one of the class's own methods (`client = self.get_client()`)."""
        built: dict[str, str | None] = {}
        for inner in self._own(node):
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(inner, ast.Assign):
                targets, value = inner.targets, inner.value
            elif isinstance(inner, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets, value = [inner.target], inner.value
            elif isinstance(inner, (ast.For, ast.AsyncFor, ast.comprehension)):
                targets = [inner.target]
            elif isinstance(inner, (ast.With, ast.AsyncWith)):
                targets = [item.optional_vars for item in inner.items if item.optional_vars is not None]
            elif isinstance(inner, (ast.Import, ast.ImportFrom)):
                for alias in inner.names:
                    built[(alias.asname or alias.name).split(".")[0]] = None
            elif isinstance(inner, ast.ExceptHandler) and inner.name:
                built[inner.name] = None
            for target in targets:
                # A name, the usual target, is the only name in itself.
                for name in (target,) if type(target) is ast.Name else ast.walk(target):
                    if not isinstance(name, ast.Name):
                        continue
                    if target is name and isinstance(value, ast.Constant) and value.value is None:
                        built.setdefault(name.id, "")  # `manager = None`: no object yet
                        continue
                    callee = ""
                    if target is name and isinstance(inner, ast.Assign) and isinstance(value, ast.Call):
                        parts = dotted_parts(value.func)
                        callee = (
                            own_member(value.func, class_qualname) or self.resolver.resolve_parts(parts) or ""
                            if parts is not None else ""
                        )
                    previous = built.get(name.id, "")
                    built[name.id] = callee if callee and previous in ("", callee) else None
        found = {name: callee for name, callee in built.items() if callee}
        if not found:
            return found
        parameters = {argument.arg for argument in ast.walk(node.args) if isinstance(argument, ast.arg)}
        return {name: callee for name, callee in found.items() if name not in parameters}

    def _callee(self, func: ast.expr, frame: _Frame) -> str | None:
        parts = dotted_parts(func)
        if parts is None:
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "super"
            ):
                # `super().list(...)`: what the method defers to (no project function of that name).
                return f"{SUPER_CALL}{func.attr}"
            return None
        member = own_member(func, frame.class_qualname)
        if member is not None:
            return member
        if len(parts) == 2 and parts[0] in frame.instances:
            # `manager.init_config()` on `manager = ServerConfigManager()`: the index resolves the
            # method if the callee is a project class (`ProjectIndex.function`).
            return f"{frame.instances[parts[0]]}{INSTANCE_CALL}{parts[1]}"
        return self.resolver.resolve_parts(parts)


# Query calls that narrow the rows and keep what each row loads.
_NARROWING = frozenset(
    {"filter", "filter_by", "where", "exclude", "limit", "offset", "order_by", "distinct", "join", "outerjoin", "group_by", "having", "slice", "all"}
)


def _returned_argument(
    node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None, resolver: NameResolver, nodes: list[ast.AST]
) -> tuple[tuple[int, int], tuple[str, ...]]:
    """FunctionFacts.returns_argument and returns_through: every return gives back the same
    parameter, narrowed (by query calls, or by project functions handed it first), whole or at
    the same position of a tuple."""
    none: tuple[tuple[int, int], tuple[str, ...]] = ((-1, -1), ())
    positional = positional_parameters(node, class_qualname is not None)
    if not positional:
        return none
    bound: dict[str, list[ast.expr]] = {}
    for inner in nodes:
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
            bound.setdefault(inner.targets[0].id, []).append(inner.value)
        elif isinstance(inner, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)) and isinstance(inner.target, ast.Name):
            bound.setdefault(inner.target.id, []).append(ast.Constant(None))
    through: list[str] = []
    kept: list[str] = []

    def helper(call: ast.Call) -> str:
        """`helper(query, ...)`, `self.helper(query)`, `QueryFilter(text).filter_query(query)` (the
        instance bound to a name once): the project function, qualified as far as the source tells."""
        func = call.func
        if isinstance(func, ast.Name):
            return resolver.resolve_parts([func.id]) or ""
        if not isinstance(func, ast.Attribute):
            return ""
        member = own_member(func, class_qualname)
        if member is not None:
            return member
        owner = func.value
        if isinstance(owner, ast.Name) and len(bound.get(owner.id, ())) == 1:
            owner = bound[owner.id][0]
        if isinstance(owner, ast.Call):
            owner = owner.func
        parts = dotted_parts(owner)
        qualified = resolver.resolve_parts(parts) if parts is not None else None
        return f"{qualified}.{func.attr}" if qualified else ""

    def root(expression: ast.expr, visiting: frozenset[str] = frozenset()) -> str | None:
        """The parameter `expression` narrows, "" for none, None for a name being resolved
        (`query = query.filter(...)` refers to the earlier bindings)."""
        for _ in range(16):
            if not isinstance(expression, ast.Call):
                break
            if isinstance(expression.func, ast.Attribute) and expression.func.attr in _NARROWING:
                expression = expression.func.value
                continue
            name = helper(expression)
            if not name or not expression.args:
                return ""
            through.append(name)
            expression = expression.args[0]
        if not isinstance(expression, ast.Name):
            return ""
        if expression.id in visiting:
            return None
        if expression.id in bound and len(visiting) < 8:
            roots = {root(value, visiting | {expression.id}) for value in bound[expression.id]}
            if expression.id in positional:
                roots.add(expression.id)
            roots.discard(None)
            return roots.pop() or "" if len(roots) == 1 else ""
        return expression.id if expression.id in positional else ""

    found: set[tuple[int, int]] = set()
    for inner in nodes:
        if isinstance(inner, (ast.Yield, ast.YieldFrom)):
            return none
        if not isinstance(inner, ast.Return) or inner.value is None:
            continue
        value, element = inner.value, -1
        items = list(enumerate(value.elts)) if isinstance(value, ast.Tuple) else [(-1, value)]
        named: list[tuple[int, str, list[str]]] = []
        for index, item in items:
            through.clear()
            name = root(item)
            if name:
                named.append((index, name, list(through)))
        if len(named) != 1:
            return none
        element, name, helpers = named[0]
        kept.extend(helpers)
        if not name:
            return none
        found.add((positional.index(name), element))
    return (found.pop(), tuple(dict.fromkeys(kept))) if len(found) == 1 else none


def _lambda_row_method(function: ast.Lambda) -> str:
    """`lambda q: q.to_dict(with_stats=True)`: the method the lambda calls on its one parameter."""
    parameters = function.args.args
    body = function.body
    if len(parameters) != 1 or not isinstance(body, ast.Call) or not isinstance(body.func, ast.Attribute):
        return ""
    receiver = body.func.value
    return body.func.attr if isinstance(receiver, ast.Name) and receiver.id == parameters[0].arg else ""


def _per_item_rows(
    node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None, nodes: list[ast.AST]
) -> tuple[tuple[int, int], ...]:
    """(called, iterated): a parameter called with the item of a loop or comprehension whose
    iterable comes from another parameter, directly or through a name bound from it
    (`results = query_set.paginate(page, size)`, `[serializer(r) for r in results.items]`)."""
    positional = positional_parameters(node, class_qualname is not None)
    derived: dict[str, set[str]] = {name: {name} for name in positional}
    for inner in nodes:
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
            sources = {leaf.id for leaf in subtree(inner.value) if isinstance(leaf, ast.Name) and leaf.id in positional}
            if sources:
                derived.setdefault(inner.targets[0].id, set()).update(sources)
    found: set[tuple[int, int]] = set()
    for inner in nodes:
        repeated: list[ast.AST]
        if isinstance(inner, (ast.For, ast.AsyncFor)):
            iterables, repeated, items = [inner.iter], list(inner.body), _target_names(inner.target)
        elif isinstance(inner, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            iterables = [inner.generators[0].iter]
            repeated = [inner.key, inner.value] if isinstance(inner, ast.DictComp) else [inner.elt]
            items = _target_names(inner.generators[0].target)
        else:
            continue
        rows = {source for iterable in iterables for leaf in subtree(iterable) if isinstance(leaf, ast.Name) for source in derived.get(leaf.id, ())}
        if not rows:
            continue
        for part in repeated:
            for call in subtree(part):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in positional):
                    continue
                if any(isinstance(leaf, ast.Name) and leaf.id in items for value in call.args for leaf in subtree(value)):
                    called = positional.index(call.func.id)
                    found.update((called, positional.index(source)) for source in rows if source != call.func.id)
    return tuple(sorted(found))


def _target_names(target: ast.expr) -> set[str]:
    """The names a loop or comprehension binds to each item (`row`, `index, row`)."""
    return {leaf.id for leaf in subtree(target) if isinstance(leaf, ast.Name)}


_NAMESPACES = "namespace-roots"


def _namespace_roots(index: ProjectIndex) -> frozenset[str]:
    """Top directories without `__init__.py` whose packages the index names from below them
    (`ckanext/datastore/x.py` is `datastore.x`): namespace packages."""
    found: set[str] = set()
    for facts in index.modules.values():
        top = facts.path.replace("\\", "/").split("/")[0]
        if "/" in facts.path.replace("\\", "/") and top not in index.modules and top != facts.module.split(".")[0]:
            found.add(top)
    return frozenset(found)


# Keywords through which an application is handed its start-up and shut-down hooks.
_HOOK_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})


def hook_callbacks(call: ast.Call) -> list[ast.expr]:
    """The functions a call hands over as start-up or shut-down hooks: `lifespan=`,
    `on_startup=[...]`, `add_event_handler("startup", hook)`."""
    found: list[ast.expr] = []
    for keyword in call.keywords:
        if keyword.arg in _HOOK_KEYWORDS:
            value = keyword.value
            found.extend(value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value])
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "add_event_handler" and len(call.args) == 2:
        found.append(call.args[1])
    return [item for item in found if isinstance(item, (ast.Name, ast.Attribute))]


def _child_fields(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """The direct children of `node` with the name of the field holding each, in source order."""
    fields = child_fields(type(node))
    if fields is not None:
        for field_name, many in fields:
            value = getattr(node, field_name, None)
            if many:
                for item in value or ():
                    if item is not None:
                        yield field_name, item
            elif value is not None:
                yield field_name, value
        return
    for field_name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            yield field_name, value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield field_name, item


class References(Record, frozen=True):
    """What a module's code refers to (`collect_references`): `ModuleFacts.references`,
    `dead_references` and `attribute_reads`."""

    live: frozenset[str]
    dead: frozenset[str]
    attributes: frozenset[str]


def collect_references(
    tree: ast.Module, module: str, resolver: NameResolver, semantic: SemanticModel | None = None
) -> References:
    """The project names a module's code refers to: live, only in dead code, and the attribute
    names it reads on what no name resolves (`ModuleFacts.attribute_reads`).

    Live: every name or dotted name read where it can run, resolved, plus the names a decorator
    or `__all__` hands on (a registered or exported definition is in use). Dead: the names read
    only inside a branch whose test rules it out (`if False:`, `elif kind == "x" and False:`). A
    definition's references to itself (`Agent.create()` in a method of `Agent`) count for neither.

    Read off the file's node index when `semantic` has one: each name read is resolved where
    it stands; only the rare ones that need it (a name of this module's own definitions, a file
    with a ruled-out branch) look at what is around them.
    """
    nodes = _ReferenceNodes(tree, semantic)
    definitions: dict[str, list[ast.AST]] = {}
    qualnames: dict[ast.AST, str] = {}
    live: set[str] = set()
    dead: set[str] = set()
    attributes: set[str] = set()
    for definition in nodes.definitions:
        qualname = _definition_qualname(definition, module, nodes.parents, qualnames)
        definitions.setdefault(qualname, []).append(definition)
        if definition.decorator_list:
            live.add(qualname)
    ruled_out = _ruled_out_blocks(nodes.branches)
    for node in nodes.loads:
        found = resolver.qualified_name(node)
        if found is None:
            # `self.refresh`, `row.total`: an attribute of something no name resolves.
            if type(node) is ast.Attribute and not is_dunder(node.attr) and not (
                ruled_out and _within(node, ruled_out, nodes.parents)
            ):
                attributes.add(node.attr)
            continue
        if found in definitions and _inside_own_body(node, definitions[found], nodes.parents):
            continue
        (dead if ruled_out and _within(node, ruled_out, nodes.parents) else live).add(found)
    lookups = [call for call in nodes.calls if lookup_name(call) in LOOKUPS]
    if lookups:
        # Local names the module calls: `handler = getattr(obj, action)` then `handler(request)`.
        called = {call.func.id for call in nodes.calls if isinstance(call.func, ast.Name)}

        def enclosing_class(node: ast.AST) -> str:
            found = next((ancestor for ancestor in ancestors(node, nodes.parents) if isinstance(ancestor, ast.ClassDef)), None)
            return _definition_qualname(found, module, nodes.parents, qualnames) if found is not None else ""

        for call in lookups:
            if not (ruled_out and _within(call, ruled_out, nodes.parents)):
                attributes.update(looked_up(call, module, resolver, nodes.parents, enclosing_class, called))
    for assign in nodes.assigns:
        if any(isinstance(target, ast.Name) and target.id == "__all__" for target in assign.targets) and not any(
            isinstance(ancestor, _SCOPES) for ancestor in ancestors(assign, nodes.parents)
        ):
            for item in ast.walk(assign.value):
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    live.add(f"{module}.{item.value}")
    return References(frozenset(live), frozenset(dead - live), frozenset(attributes))


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class _ReferenceNodes:
    """The nodes `collect_references` reads, off the file's node index or from one walk."""

    def __init__(self, tree: ast.Module, semantic: SemanticModel | None) -> None:
        of: Callable[[type[ast.AST]], list[ast.AST]]
        if semantic is not None and semantic.parents:
            self.parents = semantic.parents
            of = semantic.nodes_of
        else:
            self.parents = {}
            groups: dict[type, list[ast.AST]] = {}
            everything: list[ast.AST] = [tree]
            for node in everything:
                groups.setdefault(type(node), []).append(node)
                for child in child_nodes(node):
                    self.parents[child] = node
                    everything.append(child)

            def of_groups(kind: type[ast.AST]) -> list[ast.AST]:
                return groups.get(kind, [])

            of = of_groups

        self.definitions = cast(
            list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef],
            [*of(ast.FunctionDef), *of(ast.AsyncFunctionDef), *of(ast.ClassDef)],
        )
        self.loads = [
            node for node in cast(list[ast.Name | ast.Attribute], [*of(ast.Name), *of(ast.Attribute)])
            if isinstance(node.ctx, ast.Load)
        ]
        self.branches = cast(list[ast.If], of(ast.If))
        self.assigns = cast(list[ast.Assign], of(ast.Assign))
        self.calls = cast(list[ast.Call], of(ast.Call))


def _definition_qualname(
    definition: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    module: str,
    parents: dict[ast.AST, ast.AST],
    known: dict[ast.AST, str],
) -> str:
    """`module.Outer.name`: the definition's name after those of the definitions around it."""
    found = known.get(definition)
    if found is None:
        outer = next((ancestor for ancestor in ancestors(definition, parents) if isinstance(ancestor, _SCOPES)), None)
        prefix = module if not isinstance(outer, _SCOPES) else _definition_qualname(outer, module, parents, known)
        found = known[definition] = f"{prefix}.{definition.name}"
    return found


def _inside_own_body(node: ast.AST, definitions: list[ast.AST], parents: dict[ast.AST, ast.AST]) -> bool:
    """`node` stands in the body of one of `definitions` (not in its decorators, bases or defaults)."""
    child = node
    for ancestor in ancestors(node, parents):
        if any(ancestor is definition for definition in definitions) and any(
            child is statement for statement in cast("ast.FunctionDef | ast.ClassDef", ancestor).body
        ):
            return True
        child = ancestor
    return False


def _ruled_out_blocks(branches: list[ast.If]) -> set[ast.AST]:
    """The statements of the branches whose test rules them out (`if False:` body, `if True:` else)."""
    found: set[ast.AST] = set()
    for branch in branches:
        truth = constant_truth(branch.test)
        if truth is not None:
            found.update(branch.orelse if truth else branch.body)
    return found


def _within(node: ast.AST, statements: set[ast.AST], parents: dict[ast.AST, ast.AST]) -> bool:
    return node in statements or any(ancestor in statements for ancestor in ancestors(node, parents))


def collect_definitions(
    tree: ast.Module, module: str, resolver: NameResolver, semantic: SemanticModel | None = None
) -> tuple[dict[str, ClassFacts], dict[str, FunctionFacts]]:
    """The classes and functions of one module, with the calls each function makes.

    `semantic`: the file's model, whose node index lends the walks."""
    collector = _FactCollector(module, resolver, semantic)
    collector.collect(tree)
    return collector.classes, collector.functions


def _contains_failures(
    node: ast.FunctionDef | ast.AsyncFunctionDef, resolver: NameResolver, nodes: list[ast.AST] | None = None
) -> bool:
    """The function calls a function it was handed (a name that is neither the module's nor
    imported nor a builtin: a parameter, a closure's variable) and every such call sits in the
    body of a `try` with a catch-all clause (`except Exception:`, bare) that raises nothing.

    `nodes`: the function's own nodes, when known: without a `try` among them no call is
    guarded, and the answer is no without a walk (most functions)."""
    if nodes is not None and not any(isinstance(inner, _TRY_NODES) for inner in nodes):
        return False
    found = False
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in node.body]
    while stack:
        current, guarded = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(current, ast.Try) or (hasattr(ast, "TryStar") and isinstance(current, ast.TryStar)):
            catches = any(_swallows_everything(clause, resolver) for clause in current.handlers)
            stack.extend((statement, guarded or catches) for statement in current.body)
            stack.extend((part, guarded) for part in (*current.handlers, *current.orelse, *current.finalbody))
            continue
        if (
            isinstance(current, ast.Call)
            and isinstance(current.func, ast.Name)
            and current.func.id not in BUILTIN_NAMES
            and resolver.qualified_name(current.func) is None
        ):
            if not guarded:
                return False
            found = True
        stack.extend([(child, guarded) for child in child_nodes(current)])
    return found


_TRY_NODES: tuple[type[ast.AST], ...] = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


def reads_exception_type(node: ast.AST, names: set[str]) -> bool:
    """`type(error)`, `error.__class__` for one of `names`: the class of an exception is read."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr == "__class__":
            target = inner.value
        elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "type" and len(inner.args) == 1:
            target = inner.args[0]
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            return True
    return False


def _describes_exception_type(
    node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str | None, nodes: list[ast.AST]
) -> tuple[int, ...]:
    positional = positional_parameters(node, class_qualname is not None)
    returned = [inner.value for inner in nodes if isinstance(inner, ast.Return) and inner.value is not None]
    return tuple(
        position
        for position, name in enumerate(positional)
        if any(reads_exception_type(value, {name}) for value in returned)
    )


def _raises_looked_up_class(nodes: list[ast.AST]) -> bool:
    looked_up = {
        target.id
        for inner in nodes
        if isinstance(inner, ast.Assign)
        and isinstance(inner.value, ast.Call)
        and isinstance(inner.value.func, ast.Name)
        and inner.value.func.id == "getattr"
        for target in inner.targets
        if isinstance(target, ast.Name)
    }
    if not looked_up:
        return False
    for inner in nodes:
        if not isinstance(inner, ast.Raise) or inner.exc is None:
            continue
        raised = [inner.exc.body, inner.exc.orelse] if isinstance(inner.exc, ast.IfExp) else [inner.exc]
        for exception in raised:
            if isinstance(exception, ast.Call) and isinstance(exception.func, ast.Name) and exception.func.id in looked_up:
                return True
    return False


_REMOTE_ERRORS_VIEW = "project.remote-errors"


def _build_remote_errors(index: ProjectIndex) -> bool:
    return any(facts.raises_looked_up_class for facts in index.functions.values())


def _swallows_everything(clause: ast.ExceptHandler, resolver: NameResolver) -> bool:
    if clause.type is not None and (resolver.qualified_name(clause.type) or "").removeprefix("builtins.") not in (
        "Exception", "BaseException",
    ):
        return False
    return not any(isinstance(inner, ast.Raise) for statement in clause.body for inner in ast.walk(statement))


def _returned_function(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, nodes: list[ast.AST]) -> str:
    """`return wrapper` where `wrapper` is a function defined in the body: its qualified name."""
    defined = {
        statement.name for statement in node.body if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    if not defined:
        return ""
    returned = {
        inner.value.id if isinstance(inner.value, ast.Name) else ""
        for inner in nodes
        if isinstance(inner, ast.Return) and inner.value is not None
    }
    if len(returned) != 1:
        return ""
    name = returned.pop()
    return f"{qualname}.{name}" if name in defined else ""


T = TypeVar("T")
_CALLERS_VIEW = "project.callers"
_UNREACHABLE_VIEW = "project.unreachable"
_NAMES_READ_VIEW = "project.names-read"
_FACING_VIEW = "project.framework-facing-classes"
_ATTRIBUTE_SOURCES_VIEW = "project.attribute-sources"


def _build_attribute_sources(index: ProjectIndex) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for facts in index.modules.values():
        for attribute, callees in facts.assigned_attributes.items():
            found.setdefault(attribute, set()).update(callees)
    return {attribute: frozenset(callees) for attribute, callees in found.items()}


_CALLBACKS_VIEW = "project.per-item-callbacks"
_ROW_HANDOVERS_VIEW = "project.row-handovers"
_SPECIALISATIONS_VIEW = "project.generic-specialisations"


def _serving_functions(index: ProjectIndex) -> list[str]:
    """The project's functions, sorted, but those of tests, migrations, commands and scripts:
    what runs there per item serves no request."""
    from backbone.review.contexts import path_context

    apart = {facts.module for facts in index.modules.values() if path_context(facts.path) is not None}
    serving: list[str] = []
    for caller in sorted(index.functions):
        module = index.module_of(caller)
        if module is None or module.module not in apart:
            serving.append(caller)
    return serving


def _build_callbacks(index: ProjectIndex) -> dict[str, tuple[str, HandedFunction]]:
    found: dict[str, tuple[str, HandedFunction]] = {}
    for caller in _serving_functions(index):
        for handed in index.functions[caller].handed:
            receiver = index.function(handed.callee)
            if receiver is None or not receiver.per_item_parameters:
                continue
            if not any(
                position == handed.position if handed.position >= 0 else name == handed.keyword
                for position, name in receiver.per_item_parameters
            ):
                continue
            target = index.function(handed.function)
            if target is not None and target.qualname != receiver.qualname:
                found.setdefault(target.qualname, (caller, handed))
    return found


def _build_specialisations(index: ProjectIndex) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for qualname, facts in index.classes.items():
        if not facts.type_parameters or not facts.typed_attributes:
            continue
        found[qualname] = tuple(
            subclass
            for subclass in sorted(index.subclasses_of(qualname))
            if any(index.bound_attribute(subclass, attribute) for attribute, _ in facts.typed_attributes)
        )
    return found


def _build_row_handovers(index: ProjectIndex) -> dict[str, tuple[tuple[str, HandedRows], ...]]:
    found: dict[str, list[tuple[str, HandedRows]]] = {}
    for caller in _serving_functions(index):
        facts = index.functions[caller]
        for handed in facts.handed_rows:
            receiver = index.function(handed.callee)
            if receiver is None or not any(
                rows == handed.position and any(called == callback[0] for callback in handed.callbacks)
                for called, rows in receiver.per_item_rows
            ):
                continue
            source = index.function(handed.source)
            if source is not None:
                found.setdefault(source.qualname, []).append((caller, handed))
    return {source: tuple(handovers) for source, handovers in found.items()}


def _build_unreachable(index: ProjectIndex) -> frozenset[str]:
    """Module-level classes and functions the project names only in branches that never run."""
    dead: set[str] = set()
    for facts in index.modules.values():
        dead.update(index.resolve(name) for name in facts.dead_references)
    candidates = {
        name for name in dead
        if (name in index.classes or name in index.functions) and name.rpartition(".")[0] in index.modules
    }
    if not candidates:
        return frozenset()
    # Only a reference that spells a candidate's name can resolve to it (or to one of its attributes).
    names = {name.rpartition(".")[2] for name in candidates}
    for facts in index.modules.values():
        for reference in (*facts.references, *facts.dotted_class_paths):
            if names.isdisjoint(reference.split(".")):
                continue
            resolved = index.resolve(reference)
            for spelled in (reference, resolved):
                parts = spelled.split(".")
                candidates.difference_update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
            if not candidates:
                return frozenset()
    return frozenset(candidates)


def _build_callers(index: ProjectIndex) -> dict[str, frozenset[str]]:
    callers: dict[str, set[str]] = {}
    for facts in index.functions.values():
        for site in facts.calls:
            target = index.function(site.callee)
            if target is not None:
                callers.setdefault(target.qualname, set()).add(facts.qualname)
    return {callee: frozenset(names) for callee, names in callers.items()}


class ViewFailed(Exception):
    """A project view could not be built; `error` is what its builder raised."""

    def __init__(self, key: str, error: Exception) -> None:
        super().__init__(key, type(error).__name__)
        self.key = key
        self.error = error


class ProjectIndex(msgspec.Struct):
    """Every module of the reviewed project, merged; answers questions across files."""

    modules: dict[str, ModuleFacts] = msgspec.field(default_factory=dict)
    functions: dict[str, FunctionFacts] = msgspec.field(default_factory=dict)
    classes: dict[str, ClassFacts] = msgspec.field(default_factory=dict)
    imported_packages: frozenset[str] = frozenset()
    # Views that the frameworks and ORM layers derive from the facts, built once per index.
    derived: dict[str, object] = msgspec.field(default_factory=dict)
    # "module:Name" -> where a star-imported name comes from ("" when no star import has it).
    star_names: dict[str, str] = msgspec.field(default_factory=dict)
    # `modules` as built: the index's own lookups record their reads key by key (`reads`).
    raw_modules: dict[str, ModuleFacts] = msgspec.field(default_factory=dict)
    # What `resolve` answered while reads are tracked, with the keys it read to answer.
    resolved: dict[str, tuple[str, frozenset[str]]] = msgspec.field(default_factory=dict)
    # The facts `build` was given (two files may claim one module): another process builds
    # the same index from them.
    sources: tuple[ModuleFacts, ...] = ()

    def __post_init__(self) -> None:
        if not self.raw_modules:
            self.raw_modules = self.modules

    def track(self) -> None:
        """Hand out modules, functions and classes through views that record what is read
        while `reads.tracking()` is on. Views and memos built before are dropped: their reads
        were not recorded."""
        if isinstance(self.functions, reads.TrackedMapping):
            return
        self.modules = cast(dict[str, ModuleFacts], reads.tracked_modules(self.raw_modules))
        self.functions = cast(dict[str, FunctionFacts], reads.TrackedMapping(self.functions, "F"))
        self.classes = cast(dict[str, ClassFacts], reads.TrackedMapping(self.classes, "C"))
        self.imported_packages = cast(frozenset[str], reads.TrackedPackages(self.imported_packages))
        self.derived.clear()
        self.star_names.clear()
        self.resolved.clear()

    def view(self, key: str, build: Callable[[ProjectIndex], T]) -> T:
        """The layer view `key` (a handler registry, a model graph), built on first use.

        A view that fails to build fails once: every later use raises ViewFailed at once
        instead of building it again for each rule of each file.
        """
        if key not in self.derived:
            try:
                self.derived[key] = build(self)
            except Exception as error:
                self.derived[key] = ViewFailed(key, error)
        built = self.derived[key]
        if isinstance(built, ViewFailed):
            raise ViewFailed(built.key, built.error)
        return cast(T, built)

    @classmethod
    def build(cls, facts: list[ModuleFacts]) -> ProjectIndex:
        index = cls()
        packages: set[str] = set()
        for module_facts in sorted(facts, key=lambda item: item.path):
            index.modules.setdefault(module_facts.module, module_facts)
            index.functions.update(module_facts.functions)
            index.classes.update(module_facts.classes)
            packages.update(module_facts.imported_packages)
        index.imported_packages = frozenset(packages)
        index.raw_modules = index.modules
        index.sources = tuple(facts)
        return index

    def imports_any(self, question: reads.ImportQuestion) -> bool:
        """Whether a module of the project imports a target `question` asks about."""
        reads.record(f"Q\0{question.value}")
        return any(question.asks(target) for facts in self.raw_modules.values() for target in facts.imports.values())

    def resolve(self, qualname: str, depth: int = 0) -> str:
        """Follow re-exports (`from .services import load` in a package) to the definition.

        While reads are tracked (the PROJECT checks), each answer is kept with the keys it
        read, and those are recorded again whenever it is given again."""
        if depth or not reads.is_tracking():
            return self._resolve(qualname, depth)
        known = self.resolved.get(qualname)
        if known is None:
            with reads.captured() as read:
                answer = self._resolve(qualname, depth)
            known = self.resolved[qualname] = (answer, frozenset(read))
        else:
            reads.record_all(known[1])
        return known[0]

    def _resolve(self, qualname: str, depth: int) -> str:
        if depth > 8 or qualname in self.functions or qualname in self.classes:
            return qualname
        parts = qualname.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:split])
            facts = self.raw_modules.get(module)
            tracking = reads.is_tracking()
            if tracking:
                reads.record(f"M\0{module}")
            if facts is None:
                continue
            head, rest = parts[split], parts[split + 1 :]
            if tracking:
                reads.record(f"I\0{module}\0{head}")
            if head in facts.imports:
                return self.resolve(".".join([facts.imports[head], *rest]), depth + 1)
            if len(rest) == 1 and f"{module}.{head}" in self.classes:
                return self.method(f"{module}.{head}", rest[0]) or qualname
            if tracking:
                reads.record(f"A\0{module}\0star_imports")
                if facts.star_imports:
                    reads.record(f"S\0{module}\0{head}")
            if facts.star_imports and head not in facts.symbols:
                source = self._star_source(facts, head, depth)
                if source:
                    return self.resolve(".".join([source, *rest]), depth + 1)
            return qualname
        if len(parts) > 2 and parts[1] in self.modules and parts[0] in self.view(_NAMESPACES, _namespace_roots):
            # `ckanext.datastore.x` where ckanext/ has no __init__.py (a namespace package): the
            # index names the modules from the first package under it.
            return self.resolve(".".join(parts[1:]), depth + 1)
        return qualname

    def _star_source(self, facts: ModuleFacts, head: str, depth: int) -> str:
        """Where `head`, used in a module with `from x import *`, comes from: the last star-imported
        project module that defines or imports it (stars followed), else the only non-project one."""
        key = f"{facts.module}:{head}"
        known = self.star_names.get(key)
        if known is not None:
            return known
        self.star_names[key] = ""
        found = ""
        outside = [source for source in facts.star_imports if source not in self.modules]
        for source in reversed(facts.star_imports):
            candidate = f"{source}.{head}"
            if source not in self.modules or depth > 8:
                continue
            resolved = self.resolve(candidate, depth + 1)
            if resolved in self.classes or resolved in self.functions or resolved != candidate:
                found = candidate
                break
            reads.record(f"S\0{source}\0{head}")
            if head in self.raw_modules[source].symbols:
                found = candidate
                break
        if not found and len(outside) == 1:
            found = f"{outside[0]}.{head}"
        self.star_names[key] = found
        return found

    def method(self, class_qualname: str, name: str, depth: int = 0) -> str | None:
        """The function a method name resolves to on a class, searching project bases."""
        facts = self.classes.get(class_qualname)
        if facts is None or depth > 8:
            return None
        if name in facts.methods:
            return f"{class_qualname}.{name}"
        for base in facts.bases:
            found = self.method(self.resolve(base), name, depth + 1)
            if found:
                return found
        return None

    def module_of(self, qualname: str) -> ModuleFacts | None:
        """The project module that defines `qualname` (a function, a class, a member of one): the
        longest module name it starts with, itself left out (`pkg.main`, a function of
        `pkg/__init__.py`, is not the module `pkg.main`)."""
        parts = qualname.split(".")
        for split in range(len(parts) - 1, 0, -1):
            found = self.modules.get(".".join(parts[:split]))
            if found is not None:
                return found
        return None

    def function(self, qualname: str) -> FunctionFacts | None:
        if INSTANCE_CALL in qualname:
            # A method of a local object: the class's method when the builder is a project class,
            # or a project function that returns an instance of one (`returns_instance`).
            builder, _, name = qualname.rpartition(INSTANCE_CALL)
            owner = self._built_class(builder)
            if owner is None:
                return None
            method = self.method(owner, name)
            return self.functions.get(method) if method else None
        resolved = self.resolve(qualname)
        found = self.functions.get(resolved)
        if found is None and resolved in self.classes:
            return None
        if found is None:
            owner, _, name = resolved.rpartition(".")
            if owner in self.classes:
                method = self.method(owner, name)
                return self.functions.get(method) if method else None
        return found

    def _built_class(self, builder: str, depth: int = 0) -> str | None:
        """The project class whose instance a call of `builder` returns: the class itself, or
        what a project function returns (`returns_instance`, followed a few calls deep)."""
        owner = self.resolve(builder)
        if owner in self.classes:
            return owner
        if depth >= 3:
            return None
        facts = self.function(builder)
        if facts is None or not facts.returns_instance:
            return None
        return self._built_class(facts.returns_instance, depth + 1)

    def callees(self, qualname: str) -> Iterator[tuple[CallSite, FunctionFacts]]:
        """The project functions that `qualname` calls directly, with the call sites."""
        facts = self.functions.get(qualname)
        if facts is None:
            return
        for call in facts.calls:
            target = self.function(call.callee)
            if target is not None:
                yield call, target

    def unreachable(self) -> frozenset[str]:
        """Module-level classes and functions that only branches which never run name (`if False:`,
        `elif kind == "x" and False:`): nothing else refers to them, no decorator registers them,
        `__all__` does not export them; their code never runs (built once)."""
        return self.view(_UNREACHABLE_VIEW, _build_unreachable)

    def names_read(self) -> NamesRead:
        """What the project's code names anywhere: names read, imported or spelled in dotted-path
        strings, attributes read (built once, recording no read: who asks records the `N` keys of
        the names it looks for, `reads.name_keys`, which an edit changes when it adds or removes
        such a name)."""
        with reads.paused():
            return self.view(_NAMES_READ_VIEW, lambda index: NamesRead.of(index.raw_modules.values()))

    def framework_facing(self) -> frozenset[str]:
        """Project classes whose methods code outside the project may call by name: those with a
        base from outside the project (a view, a model, a command, a test case; `object`,
        exceptions and abstract or generic markers aside) or loaded by a dotted-path string, the
        classes that inherit from them, and the project classes those inherit from (a mixin)."""
        return self.view(_FACING_VIEW, framework_facing)

    def callers(self, qualname: str) -> frozenset[str]:
        """The project functions that call `qualname` directly (the reverse call graph, built once)."""
        return self.view(_CALLERS_VIEW, _build_callers).get(qualname, frozenset())

    def attribute_sources(self, attribute: str) -> frozenset[str]:
        """What the project assigns to attributes named `attribute` (`config.on_connect =
        wrap(func)`), anywhere: the qualified names of the calls whose results it assigns, ""
        for a value that isn't a call's result (None aside). Empty when nothing is assigned."""
        return self.view(_ATTRIBUTE_SOURCES_VIEW, _build_attribute_sources).get(attribute, frozenset())

    def reraises_sent_exceptions(self) -> bool:
        """Some project function raises an exception of a class it looked up by name: the
        project's own client turns an exception a server sent (its class named in the body)
        back into that exception."""
        return self.view(_REMOTE_ERRORS_VIEW, _build_remote_errors)

    def contains_failures_of_call(self, callee: str) -> bool:
        """A call of `callee` (a project function, or what a project factory returns) keeps the
        failures of the function it runs: the function contains them, or the factory returns a
        nested function that does (`wrap_callback(func)`)."""
        facts = self.function(callee)
        if facts is None:
            return False
        if facts.contains_failures:
            return True
        returned = self.functions.get(facts.returns_function) if facts.returns_function else None
        return returned is not None and returned.contains_failures

    def per_item_callbacks(self) -> dict[str, tuple[str, HandedFunction]]:
        """Project functions handed to a project function that calls them once per item of a
        loop or comprehension (`paginate(rows, page, 50, serialize_row)`): function -> (the
        function that hands it over, the hand-over), the first one found."""
        return self.view(_CALLBACKS_VIEW, _build_callbacks)

    def bound_attribute(self, class_qualname: str, attribute: str) -> str | None:
        """The class `self.<attribute>` holds in `class_qualname` when a generic ancestor keeps
        there the class a type variable stands for (ClassFacts.typed_attributes) and the class,
        or an ancestor on the way, subscripts a generic base with a class for it
        (`class PostRepository(Repository[PostOut, Post])`)."""
        variable = ""
        order: list[str] = []
        stack = [self.resolve(class_qualname)]
        while stack and len(order) < 24:
            current = stack.pop(0)
            facts = self.classes.get(current)
            if current in order or facts is None:
                continue
            order.append(current)
            if not variable:
                variable = next((name for attr, name in facts.typed_attributes if attr == attribute), "")
            stack.extend(self.resolve(base) for base in facts.bases)
        if not variable:
            return None
        for current in order:
            for base, arguments in self.classes[current].base_arguments:
                generic = self.classes.get(self.resolve(base))
                if generic is None or variable not in generic.type_parameters:
                    continue
                position = generic.type_parameters.index(variable)
                if position < len(arguments) and arguments[position]:
                    return arguments[position]
        return None

    def specialisations(self, generic: str) -> tuple[str, ...]:
        """The project subclasses of a generic class that keeps a class in an attribute
        (ClassFacts.typed_attributes) which bind what that attribute holds."""
        return self.view(_SPECIALISATIONS_VIEW, _build_specialisations).get(generic, ())

    def returned_argument(self, qualname: str, depth: int = 0) -> tuple[int, int]:
        """FunctionFacts.returns_argument, when each project function it hands the argument to on
        the way returns it too; (-1, -1) otherwise."""
        facts = self.function(qualname)
        if facts is None or facts.returns_argument == (-1, -1) or depth > 4:
            return (-1, -1)
        for helper in facts.returns_through:
            owner, _, name = helper.rpartition(".")
            target = self.function(helper) or (self.function(found) if (found := self.method(self.resolve(owner), name)) else None)
            if target is None or self.returned_argument(target.qualname, depth + 1) != (0, -1):
                return (-1, -1)
        return facts.returns_argument

    def row_handovers(self, source: str) -> tuple[tuple[str, HandedRows], ...]:
        """Where what the project function `source` returns is handed, as rows, to a project
        function that calls a function it is given once per row: (caller, hand-over)."""
        return self.view(_ROW_HANDOVERS_VIEW, _build_row_handovers).get(source, ())

    def reach(
        self, qualname: str, max_depth: int = 4, passes: Callable[[FunctionFacts], bool] = lambda _: True
    ) -> dict[str, tuple[tuple[CallSite, FunctionFacts], ...]]:
        """Every project function `qualname` reaches within `max_depth` calls, with the shortest
        chain to it; a function `passes` rejects is neither reported nor gone through."""
        found: dict[str, tuple[tuple[CallSite, FunctionFacts], ...]] = {}
        queue: deque[tuple[tuple[CallSite, FunctionFacts], ...]] = deque([()])
        while queue:
            path = queue.popleft()
            if len(path) >= max_depth:
                continue
            for call, target in self.callees(path[-1][1].qualname if path else qualname):
                if target.qualname in found or target.qualname == qualname or not passes(target):
                    continue
                found[target.qualname] = step = (*path, (call, target))
                queue.append(step)
        return found

    def first_path(
        self, qualname: str, reaches: Callable[[FunctionFacts], bool], max_depth: int = 4
    ) -> tuple[tuple[CallSite, FunctionFacts], ...] | None:
        """The shortest chain of project calls from `qualname` to a function that `reaches`
        says yes to (the calls and their targets, the matching function last); None if none
        is within `max_depth` calls. Breadth-first, each function visited once."""
        queue: deque[tuple[tuple[CallSite, FunctionFacts], ...]] = deque([()])
        seen = {qualname}
        while queue:
            path = queue.popleft()
            current = path[-1][1].qualname if path else qualname
            if len(path) >= max_depth:
                continue
            for call, target in self.callees(current):
                if target.qualname in seen:
                    continue
                seen.add(target.qualname)
                step = (*path, (call, target))
                if reaches(target):
                    return step
                queue.append(step)
        return None

    def subclasses_of(self, qualname: str) -> set[str]:
        """Project classes that inherit, directly or not, from `qualname`."""
        result: set[str] = set()
        changed = True
        while changed:
            changed = False
            for facts in self.classes.values():
                if facts.qualname in result:
                    continue
                if any(self.resolve(base) == qualname or self.resolve(base) in result for base in facts.bases):
                    result.add(facts.qualname)
                    changed = True
        return result
