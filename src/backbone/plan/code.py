"""What the code says about each route: the handler registry, the ORM layer's reads, writes,
locks and transactions, and the outbound calls (BB102's knowledge), through the project's
call graph."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

from backbone.contract.static import StaticProject, load_project
from backbone.plan.model import DataAccess, Outbound, Queue, RoutePlan, Source
from backbone.review.checker import _index_nodes, frameworks_of
from backbone.review.context import FileContext
from backbone.review.frameworks import Handler, handlers, qualname_of
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.knowledge.network import (
    HTTP_CONNECTIONS,
    HTTPX_CLIENT_METHODS,
    HTTPX_FUNCTIONS,
    REQUESTS_FUNCTIONS,
    REQUESTS_SESSION_METHODS,
    URLOPEN,
    URLRETRIEVE,
    SessionsWithDefaults,
    may_call_out,
    network_types,
    unbounded_call,
)
from backbone.review.knowledge.queues import project_queues
from backbone.review.orm import module_flows
from backbone.review.orm.locks import takes_lock
from backbone.review.orm.values import QueryKind
from backbone.review.project import ProjectIndex

_OUTBOUND_NAMES = REQUESTS_FUNCTIONS | HTTPX_FUNCTIONS | URLOPEN | URLRETRIEVE | HTTP_CONNECTIONS
_CLIENT_METHODS = REQUESTS_SESSION_METHODS | HTTPX_CLIENT_METHODS
# Mail servers: blocking and slow, and `smtplib.SMTP(host, port, ...)` waits on the socket
# default (none) unless given `timeout=` (its third positional argument).
_SMTP = frozenset({"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"})
_TRANSACTION_OPERATIONS = frozenset({"commit", "rollback", "begin", "begin_nested", "atomic"})
_TRANSACTION_CALLS = frozenset({"django.db.transaction.atomic", "django.db.transaction.commit"})
IN_PROCESS = "BackgroundTasks (in-process, lost on restart)"
_STARLETTE = frozenset({"fastapi", "starlette"})
# How deep the plan follows a handler into the project functions it calls.
MAX_DEPTH = 4


class _FunctionFacts(msgspec.Struct):
    reads: list[DataAccess] = msgspec.field(default_factory=list)
    writes: list[DataAccess] = msgspec.field(default_factory=list)
    transactions: list[DataAccess] = msgspec.field(default_factory=list)
    outbound: list[Outbound] = msgspec.field(default_factory=list)
    lock: Source | None = None


class CodeFacts(msgspec.Struct):
    root: Path
    routes: list[RoutePlan]
    queues: list[Queue]
    frameworks: tuple[str, ...]
    # Project facts the API-style matrix weighs.
    packages: frozenset[str]
    proto_files: tuple[str, ...]
    graphql_files: tuple[str, ...]
    problems: list[str]


def read_code(root: Path) -> CodeFacts:
    project = load_project(root)
    index = project.index or ProjectIndex()
    in_process: list[Source] = []
    facts = _function_facts(project, index, in_process)
    registry = handlers(index)
    routes = [_route(handler, index, facts) for handler in registry]
    routes.sort(key=lambda route: (route.route, route.methods))
    return CodeFacts(
        root=project.root,
        routes=routes,
        queues=_queues(index, in_process),
        frameworks=tuple(sorted({handler.framework.value for handler in registry})),
        packages=index.imported_packages,
        proto_files=_files(project.root, "*.proto"),
        graphql_files=(*_files(project.root, "*.graphql"), *_files(project.root, "*.gql")),
        problems=list(project.problems),
    )


def _function_facts(project: StaticProject, index: ProjectIndex, in_process: list[Source]) -> dict[str, _FunctionFacts]:
    by_path = {module.path: module for module in index.modules.values()}
    found: dict[str, _FunctionFacts] = {}
    for display, tree in project.trees.items():
        module = by_path.get(display)
        if module is None:
            continue
        try:
            text = (project.root / display).read_text(encoding="utf-8", errors="replace")
            parents, nodes = _index_nodes(tree)
        except (OSError, RecursionError) as error:
            project.problems.append(f"{display}: not read ({type(error).__name__})")
            continue
        context = FileContext(display, text, tree, module, parents, frameworks_of(module.imported_packages), index, nodes)
        try:
            _collect(context, found, in_process)
        except (RecursionError, ValueError) as error:
            project.problems.append(f"{display}: only partly read ({type(error).__name__})")
    return found


def _collect(context: FileContext, found: dict[str, _FunctionFacts], in_process: list[Source]) -> None:
    flows = module_flows(context)
    calls_out = may_call_out(context)
    types = network_types(context) if calls_out else None
    defaults = SessionsWithDefaults(context) if calls_out else None
    for function in _functions(context):
        qualname = qualname_of(function, context)
        flow = flows.flow(function)
        facts = found.setdefault(qualname, _FunctionFacts())
        for event in flow.events():
            access = DataAccess(event.kind is QueryKind.WRITE, event.text, qualname, Source(context.path, _line(event.node)))
            (facts.writes if access.write else facts.reads).append(access)
            if event.operation in _TRANSACTION_OPERATIONS:
                facts.transactions.append(access)
        if takes_lock(flow):
            facts.lock = Source(context.path, function.lineno)
        for call in flow.calls:
            name = context.call_name(call)
            if isinstance(call.func, ast.Attribute) and call.func.attr == "add_task" and context.facts.imported_packages & _STARLETTE:
                in_process.append(Source(context.path, call.lineno))
            if name in _TRANSACTION_CALLS:
                facts.transactions.append(DataAccess(False, f"{name}()", qualname, Source(context.path, call.lineno)))
            outbound = _outbound(call, name, context, qualname, types, defaults)
            if outbound is not None:
                facts.outbound.append(outbound)


def _functions(context: FileContext) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = [*context.nodes_of(ast.FunctionDef)]
    functions += context.nodes_of(ast.AsyncFunctionDef)
    return functions


def _outbound(
    call: ast.Call, name: str | None, context: FileContext, qualname: str,
    types: ObjectTypes | None, defaults: SessionsWithDefaults | None,
) -> Outbound | None:
    source = Source(context.path, call.lineno)
    if name in _SMTP:
        bounded = any(keyword.arg == "timeout" for keyword in call.keywords) or len(call.args) >= 3
        return Outbound("smtplib", f"{name}()", qualname, source, None if bounded else "has no timeout")
    if types is None or defaults is None:
        return None
    func = call.func
    known = name in _OUTBOUND_NAMES
    if not known and isinstance(func, ast.Attribute) and func.attr in _CLIENT_METHODS:
        receiver = types.of(func.value)
        known = receiver is not None
        if not known and isinstance(func.value, ast.Call):
            # `_client().post(...)`: a project factory whose result is a client.
            known = _returns_client(func.value, context)
    if not known:
        return None
    unbounded = unbounded_call(call, types, defaults)
    shown = f"{name}()" if name in _OUTBOUND_NAMES else f"{ast.unparse(func)}()"
    library = (name or "").split(".")[0] if name in _OUTBOUND_NAMES else _library_of(context)
    return Outbound(library, shown, qualname, source, unbounded.problem if unbounded else None)


def _returns_client(call: ast.Call, context: FileContext) -> bool:
    """A call to a project function of the same module that returns an HTTP client."""
    name = context.call_name(call)
    if name is None:
        return False
    for function in _functions(context):
        if qualname_of(function, context) != name:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                returned = context.call_name(node.value)
                if returned is not None and returned.split(".")[0] in ("httpx", "requests", "urllib3", "aiohttp"):
                    return True
    return False


def _library_of(context: FileContext) -> str:
    for package in ("httpx", "requests", "aiohttp", "urllib3", "urllib", "http"):
        if package in context.facts.imported_packages:
            return package
    return "http"


def _line(node: ast.AST) -> int | None:
    line = getattr(node, "lineno", None)
    return line if isinstance(line, int) else None


def _route(handler: Handler, index: ProjectIndex, facts: dict[str, _FunctionFacts]) -> RoutePlan:
    reached = [handler.qualname, *index.reach(handler.qualname, max_depth=MAX_DEPTH)]
    parts = [facts[name] for name in reached if name in facts]
    return RoutePlan(
        methods=tuple(sorted(handler.methods)),
        route=handler.route or handler.qualname,
        handler=handler.qualname,
        source=Source(handler.path, handler.line),
        is_async=handler.is_async,
        reads=tuple(access for part in parts for access in part.reads),
        writes=tuple(access for part in parts for access in part.writes),
        locks=tuple(part.lock for part in parts if part.lock is not None),
        transactions=tuple(access for part in parts for access in part.transactions),
        outbound=tuple(call for part in parts for call in part.outbound),
    )


def _queues(index: ProjectIndex, in_process: list[Source]) -> list[Queue]:
    """The task queues the project imports (first module importing each), then in-process
    background tasks (`background_tasks.add_task`), which are not durable queues."""
    found: dict[str, Source] = {}
    for module in sorted(index.modules.values(), key=lambda module: module.path):
        for library in project_queues(module.imported_packages):
            found.setdefault(library.value, Source(module.path))
    queues = [Queue(library, source) for library, source in found.items()]
    if in_process:
        queues.append(Queue(IN_PROCESS, in_process[0]))
    return queues


def _files(root: Path, pattern: str, limit: int = 20) -> tuple[str, ...]:
    found: list[str] = []
    try:
        for path in sorted(root.rglob(pattern)):
            if any(part.startswith(".") or part in ("node_modules", "venv", ".venv") for part in path.relative_to(root).parts):
                continue
            found.append(path.relative_to(root).as_posix())
            if len(found) >= limit:
                break
    except OSError:
        pass
    return tuple(found)
