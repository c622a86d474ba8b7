"""Data access across the project: the knowledge flows use, per-file facts, call chains.

- `extract_data_access(tree, resolver, models, semantic)`: the per-file facts (module-level
  handles, what each function queries and returns), computed with what one file knows.
- `project_knowledge(index)`: the same questions answered project-wide, once per index.
- `module_flows(context)`: the flows of the file a rule is looking at, kept by the file's
  model (`context.semantic.data_flows`) and shared by every rule.
- `query_chain(index, function)`: the shortest chain of project calls from a function to
  a read query it (transitively) runs, for "through a project function" findings.
"""

from __future__ import annotations

import ast
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from msgspec.structs import replace

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.guards import (
    UNKNOWN_BINDING,
    Binding,
    Guard,
    bind,
    guarded_nodes,
    passed_keys,
)
from backbone.review.knowledge.logging import is_conventional_logger_name
from backbone.review.knowledge.paths import is_test_path
from backbone.review.knowledge.state import memoises_in_module_state
from backbone.review.names import NameResolver, dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.facts import (
    CallArguments,
    ContributedMethod,
    DataHandle,
    FreshArgument,
    FunctionDataAccess,
    ModelClass,
    ParameterGuard,
    PerRowMethodCall,
    QuerySite,
    SafeArgument,
)
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.knowledge import DataKnowledge
from backbone.review.orm.flow.module import ModuleFlows, ScopeFlow
from backbone.review.orm.graph import ModelGraph, build_graph, model_graph
from backbone.review.orm.locks import takes_lock
from backbone.review.orm.loops import Loop, block_leaves
from backbone.review.orm.origins import origin_of, returned_origin
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    Origin,
    QueryEvent,
    QueryKind,
    ValueKind,
    lower_confidence,
)
from backbone.review.semantic import own_nodes, parameter_positions, subtree

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import FunctionFacts, ProjectIndex
    from backbone.review.semantic import SemanticModel

KNOWLEDGE_VIEW = "orm-knowledge"
CHAINS_VIEW = "orm-query-chains"
SCHEMA_VIEW = "orm-schema-changes"
# How many project calls "through a project function" follows.
MAX_CHAIN_DEPTH = 4

_HANDLE_KINDS = (
    ValueKind.EXTENSION,
    ValueKind.SESSION,
    ValueKind.SESSION_FACTORY,
    ValueKind.ENGINE,
    ValueKind.CONNECTION,
    ValueKind.DECLARATIVE_BASE,
    ValueKind.MODEL_CLASS,
)
_CACHE_NAMES = frozenset({"lru_cache", "cache", "cached_property", "cached", "memoize", "memoized", "cache_page", "ttl_cache", "alru_cache", "cache_result", "cached_method"})


# --- per-file facts ----------------------------------------------------------------------

class _LocalKnowledge(DataKnowledge):
    """What one file knows: its own models, handles, classes and functions."""

    def __init__(self, graph: ModelGraph, handles: dict[str, DataValue], tree: ast.Module, resolver: NameResolver) -> None:
        super().__init__(graph)
        self.handles = handles
        self.resolver = resolver
        self.flows: ModuleFlows | None = None
        self._functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._classes: dict[str, tuple[str, ...]] = {}
        self._methods: dict[str, set[str]] = {}
        self._access: dict[str, FunctionDataAccess | None] = {}
        self._returns: dict[str, Origin | None] = {}

    def attach(self, flows: ModuleFlows) -> None:
        self.flows = flows
        for node, context in flows.contexts.items():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._functions[context.qualname] = node
                if context.class_qualname is not None:
                    self._methods.setdefault(context.class_qualname, set()).add(node.name)
        self.custom_methods = frozenset(name for names in self._methods.values() for name in names)
        stack: list[tuple[list[ast.stmt], tuple[str, ...]]] = [(flows.tree.body, ())]
        while stack:
            body, scope = stack.pop()
            for statement in body:
                if isinstance(statement, ast.ClassDef):
                    qualname = ".".join(filter(None, [self.resolver.module, *scope, statement.name]))
                    self._classes[qualname] = tuple(
                        base for base in (self.resolver.qualified_name(item) for item in statement.bases) if base
                    )
                    stack.append((statement.body, (*scope, statement.name)))
                elif isinstance(statement, (ast.If, ast.Try)):
                    stack.append((statement.body, scope))
                    stack.append((statement.orelse, scope))

    def handle(self, qualname: str) -> DataValue | None:
        return self.handles.get(qualname)

    def resolve_function(self, qualname: str) -> str | None:
        return qualname if qualname in self._functions else None

    def function_access(self, qualname: str) -> FunctionDataAccess | None:
        if qualname in self._access:
            return self._access[qualname]
        node = self._functions.get(qualname)
        if node is None or self.flows is None:
            return None
        self._access[qualname] = None
        flow = self.flows.flow(node)
        found = FunctionDataAccess(qualname, (), flow.result(), flow.yielded())
        self._access[qualname] = found
        return found

    def class_bases(self, qualname: str) -> tuple[str, ...]:
        return self._classes.get(qualname, ())

    def returns_origin(self, qualname: str) -> Origin | None:
        if qualname in self._returns:
            return self._returns[qualname]
        node = self._functions.get(qualname)
        if node is None or self.flows is None:
            return None
        # A function that reaches itself again (recursion) has no origin to give.
        self._returns[qualname] = None
        found = returned_origin(self.flows.flow(node))
        self._returns[qualname] = found
        return found

    def attribute_origin(self, class_qualname: str | None, name: str) -> Origin | None:
        if class_qualname is None:
            return None
        method = self.method(class_qualname, name)
        node = self._functions.get(method) if method else None
        if method is None or node is None or not _is_property(node, self.resolver):
            return None
        return self.returns_origin(method)

    def method(self, class_qualname: str, name: str) -> str | None:
        if name in self._methods.get(class_qualname, ()):
            return f"{class_qualname}.{name}"
        for base in self._classes.get(class_qualname, ()):
            found = self.method(base, name) if base in self._classes else None
            if found:
                return found
        return None


def extract_data_access(
    tree: ast.Module, resolver: NameResolver, models: list[ModelClass], semantic: SemanticModel | None = None
) -> tuple[list[DataHandle], list[FunctionDataAccess], list[CallArguments]]:
    """Module-level handles and per-function data access of one file, from that file alone.

    `semantic`: the file's model, which keeps the walk for the rules that look at the same
    tree (they rebind it to the project's knowledge).
    """
    flows = ModuleFlows(tree, resolver, DataKnowledge(ModelGraph({})))
    walk = subtree
    if semantic is not None and semantic.parents:
        # The file's node index: its parents for the flows, its slices for the walks.
        flows.parents_from = weakref.ref(semantic)
        walk = semantic.walk
    handles = _module_handles(flows.flow(tree), resolver)
    knowledge = _local_knowledge(tree, resolver, models, handles)
    flows.rebind(knowledge)
    knowledge.attach(flows)
    functions: list[FunctionDataAccess] = []
    arguments: list[CallArguments] = []
    for node in flows.functions():
        context = flows.contexts[node]
        access = _function_access(flows.flow(node), context.qualname, resolver, walk, semantic)
        if access is not None:
            functions.append(access)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            safe = _safe_arguments(flows.flow(node))
            fresh = _fresh_arguments(flows.flow(node))
            if safe or fresh:
                arguments.append(CallArguments(context.qualname, safe, fresh))
    functions.sort(key=lambda access: access.qualname)
    arguments.sort(key=lambda passed: passed.qualname)
    if semantic is not None:
        semantic.data_flows = flows
    return handles, functions, arguments


def _local_knowledge(
    tree: ast.Module, resolver: NameResolver, models: list[ModelClass], handles: list[DataHandle]
) -> _LocalKnowledge:
    graph = build_graph(models, handles, _local_class_bases(tree, resolver))
    return _LocalKnowledge(graph, {handle.qualname: handle.value for handle in handles}, tree, resolver)


def _local_class_bases(tree: ast.Module, resolver: NameResolver) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found[f"{resolver.module}.{node.name}"] = tuple(
                base for base in (resolver.qualified_name(item) for item in node.bases) if base
            )
    return found


def _module_handles(flow: ScopeFlow, resolver: NameResolver) -> list[DataHandle]:
    handles: list[DataHandle] = []
    for name, bindings in sorted(flow.bindings.items()):
        binding = bindings[-1]
        if binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
            continue
        qualname = f"{resolver.module}.{name}" if resolver.module else name
        if name == "AUTH_USER_MODEL" and isinstance(binding.node, ast.Constant) and isinstance(binding.node.value, str):
            handles.append(DataHandle(qualname, DataValue(ValueKind.MODEL_CLASS, DataLayer.DJANGO, binding.node.value)))
            continue
        value = flow.value(binding.node)
        if value is None and isinstance(binding.node, ast.Subscript):
            # A type alias: `SessionDep = Annotated[AsyncSession, Depends(get_session)]`.
            value = flow.annotation_value(binding.node)
        if value is not None and value.kind in _HANDLE_KINDS:
            handles.append(DataHandle(qualname, value.as_fact()))
    return handles


def _function_access(
    flow: ScopeFlow,
    qualname: str,
    resolver: NameResolver,
    walk: Callable[[ast.AST], list[ast.AST]],
    semantic: SemanticModel | None = None,
) -> FunctionDataAccess | None:
    sites: list[QuerySite] = []
    scope = flow.scope
    events = flow.events()
    is_function = isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef))
    upserts = _upsert_reads(flow, events) if is_function else {}
    identities = _identity_reads(flow, events) if is_function else {}
    for event in events:
        site = _site(event, upserts.get(event.node, ()), identities.get(event.node, ()))
        if site is not None:
            sites.append(site)
    result = flow.result()
    yields = flow.yielded()
    function = scope if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    guards: tuple[ParameterGuard, ...] = ()
    if function is not None and flow.calls:
        own = semantic.own_nodes(function) if semantic is not None else own_nodes(function)
        guards = parameter_guards(function, own, semantic.guards(function) if semantic is not None else guarded_nodes(function, own))
    cached = function is not None and (
        _is_cached(function, resolver) or _reads_cache_first(flow) or memoises_in_module_state(function, walk)
    )
    returns = flow.knowledge.returns_origin(qualname) if flow.returns else None
    locks = takes_lock(flow)
    per_row = _per_row_methods(flow)
    memo_keys = _fills_missing_keys(flow, function.body) if function is not None else None
    if (
        not sites and result is None and yields is None and not guards and not cached and returns is None and not locks
        and not per_row and memo_keys is None
    ):
        return None
    return FunctionDataAccess(qualname, tuple(sites), result, yields, cached, guards, returns, locks, per_row, memo_keys)


_ROW_KINDS = (ValueKind.QUERY, ValueKind.ROWS)
def _repeated_statements(block: list[ast.stmt]) -> list[ast.AST]:
    """The statements of a loop body that run on every round that gets to them: a statement
    followed in its block by one whose every path ends in `return`, `break` or `raise` (a search
    that stops at its match) runs once."""
    found: list[ast.AST] = []
    for position, statement in enumerate(block):
        if block_leaves(block[position:]):
            break
        if isinstance(statement, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
            if isinstance(statement, ast.If):
                found.append(statement.test)
            nested = [statement.body, statement.orelse] if isinstance(statement, (ast.If, ast.Try)) else [statement.body]
            for inner in nested:
                found += _repeated_statements(inner)
            if isinstance(statement, ast.Try):
                for handler in statement.handlers:
                    found += _repeated_statements(handler.body)
                found += _repeated_statements(statement.finalbody)
        else:
            found.append(statement)
    return found


def _per_row_methods(flow: ScopeFlow) -> tuple[PerRowMethodCall, ...]:
    """Methods called on the loop variable of a loop or comprehension over a query's rows:
    `[check.to_dict() for check in checks]`, `for order in orders: order.total()`."""
    found: dict[tuple[str, str], PerRowMethodCall] = {}
    for loop in flow.loops:
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            target, iterable = loop.target, loop.iter
            body: list[ast.AST] = _repeated_statements(loop.body)
        elif isinstance(loop, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            target, iterable = loop.generators[0].target, loop.generators[0].iter
            body = [loop.key, loop.value] if isinstance(loop, ast.DictComp) else [loop.elt]
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        rows = flow.value(iterable)
        if rows is None or rows.kind not in _ROW_KINDS or not rows.model:
            continue
        for part in body:
            for node in ast.walk(part):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                receiver = node.func.value
                if isinstance(receiver, ast.Name) and receiver.id == target.id and flow.holds_row_of(receiver, loop):
                    key = (rows.model, node.func.attr)
                    found.setdefault(key, PerRowMethodCall(rows.model, node.func.attr, node.lineno))
    return tuple(found.values())


# Calls whose arguments no project parameter receives.
_NOT_PROJECT_CALLS = frozenset(
    {"print", "len", "str", "int", "float", "bool", "repr", "isinstance", "getattr", "setattr", "hasattr", "list",
     "dict", "tuple", "set", "sorted", "range", "enumerate", "zip", "min", "max", "sum", "any", "all"}
)


def _safe_arguments(flow: ScopeFlow) -> tuple[SafeArgument, ...]:
    """The arguments of the function's calls of plain names, `self.` methods and module
    functions that carry no input: what its callees' parameters receive from here."""
    found: list[SafeArgument] = []
    for call in flow.calls:
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in _NOT_PROJECT_CALLS:
                continue
        elif not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and not is_conventional_logger_name(func.value)):
            continue
        passed = [(index, "", argument) for index, argument in enumerate(call.args)]
        passed += [(-1, keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg]
        for position, keyword, argument in passed:
            if not isinstance(argument, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Call)):
                continue
            origin = origin_of(argument, flow).origin
            if not origin.carries_input:
                found.append(SafeArgument(call.lineno, call.col_offset + 1, position, keyword, origin))
    return tuple(found)


def _fresh_arguments(flow: ScopeFlow) -> tuple[FreshArgument, ...]:
    """The arguments of the function's calls of plain names, `self.` methods and module
    functions that are model objects it built (`f = FollowUp(...)`) and had not saved, nor handed
    to another call, before: what its callees' parameters receive is a row nobody else sees."""
    found: list[FreshArgument] = []
    for call in flow.calls:
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in _NOT_PROJECT_CALLS:
                continue
        elif not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            continue
        passed = [(index, "", argument) for index, argument in enumerate(call.args)]
        passed += [(-1, keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg]
        for position, keyword, argument in passed:
            if not isinstance(argument, ast.Name):
                continue
            constructor = _built_by(argument, flow)
            if constructor is None or _used_by_a_call_before(argument.id, call, flow):
                continue
            found.append(FreshArgument(call.lineno, call.col_offset + 1, position, keyword, constructor))
    return tuple(found)


def _built_by(argument: ast.Name, flow: ScopeFlow) -> str | None:
    """"" when the value is a new model object the file knows; the qualified name of the class
    when the name's one binding in the function calls a class the file imports (the project
    knowledge tells whether it is a model); None otherwise."""
    value = flow.value(argument)
    if value is not None:
        return "" if value.kind is ValueKind.INSTANCE and value.new else None
    bindings = flow.bindings.get(argument.id, [])
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or not isinstance(bindings[0].node, ast.Call):
        return None
    func = bindings[0].node.func
    qualified = flow.resolver.qualified_name(func)
    leaf = qualified.rpartition(".")[2] if qualified else ""
    return qualified if leaf[:1].isupper() else None


def _used_by_a_call_before(name: str, call: ast.Call, flow: ScopeFlow) -> bool:
    """`name.save()`, `session.add(name)`, `helper(name)` earlier in the function (a call
    inside a loop counts wherever it stands): the object may be a stored row by then."""
    where = (call.lineno, call.col_offset)
    for other in flow.calls:
        if other is call:
            continue
        inside_loop = any(isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) for parent in _ancestors(other, flow))
        if (other.lineno, other.col_offset) >= where and not inside_loop:
            continue
        func = other.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name:
            return True
        values = [*other.args, *(keyword.value for keyword in other.keywords)]
        if any(isinstance(value, ast.Name) and value.id == name for value in values):
            return True
    return False


def _ancestors(node: ast.AST, flow: ScopeFlow) -> list[ast.AST]:
    found: list[ast.AST] = []
    parent = flow.parent(node)
    while parent is not None and parent is not flow.scope:
        found.append(parent)
        parent = flow.parent(parent)
    return found


def _reads_cache_first(flow: ScopeFlow) -> bool:
    """`result = cache.get(KEY)` then a query on a miss: repeated calls hit the cache.

    Memoising on an object counts too: `if not hasattr(request, "_site"): ...;
    request._site = site`, or `try: return self._paths` / `except AttributeError:`.
    """
    stored = {
        target.attr
        for update in flow.attribute_updates
        for target in (update.targets if isinstance(update, ast.Assign) else [update.target])
        if isinstance(target, ast.Attribute)
    }
    for call in flow.calls:
        func = call.func
        if stored and isinstance(func, ast.Name) and func.id in ("hasattr", "getattr") and len(call.args) >= 2:
            name = call.args[1]
            if isinstance(name, ast.Constant) and name.value in stored:
                return True
    if stored and isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if _fills_when_empty(flow, flow.scope.body):
            return True
        for statement in flow.scope.body:
            if isinstance(statement, ast.Try) and any(
                isinstance(handler.type, ast.Name) and handler.type.id == "AttributeError" for handler in statement.handlers
            ):
                return True
    for call in flow.calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "get_many", "get_or_set"):
            parts = dotted_parts(func.value) or []
            if isinstance(func.value, ast.Subscript):
                parts = dotted_parts(func.value.value) or []
            if any("cache" in part.lower() for part in parts):
                return True
    return False


def _fills_when_empty(flow: ScopeFlow, body: list[ast.stmt]) -> bool:
    """`if not self.languages: self.languages = {...query...}`: every query of the function
    runs only while an attribute of `self` is empty, and fills it: once per object, however
    often the function is called."""
    blocks: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for statement in body:
        if not isinstance(statement, ast.If) or statement.orelse:
            continue
        attribute = _empty_test(statement.test)
        if attribute is None:
            continue
        assigned = {
            target.attr
            for child in statement.body
            if isinstance(child, ast.Assign)
            for target in child.targets
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls")
        }
        if attribute in assigned:
            start = (statement.body[0].lineno, statement.body[0].col_offset)
            last = statement.body[-1]
            blocks.append((start, (last.end_lineno or last.lineno, last.end_col_offset or 0)))
    if not blocks:
        return False
    reads = [event.node for event in flow.events() if event.kind is QueryKind.READ]
    if not reads:
        return False
    for node in reads:
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if not any(start <= where <= end for start, end in blocks):
            return False
    return True


# Calls a memoising function makes outside its fill block that run no project code.
_PLAIN_CALLS = frozenset({"len", "list", "set", "dict", "tuple", "sorted", "frozenset", "isinstance", "str", "bool"})


def _fills_missing_keys(flow: ScopeFlow, body: list[ast.stmt]) -> tuple[str, ...] | None:
    """`missing = [k for k in keys if k not in self.names]` / `if missing: found = load(missing);
    for k in missing: self.names[k] = found.get(k)`: the function queries (itself or through the
    calls it makes) only for keys a dict on `self` doesn't hold yet, and stores them there, so
    each key is loaded once per object however often the function is called.

    The parameters the keys come from (names and "#i" positions), or None when it doesn't memoise."""
    blocks: list[tuple[tuple[int, int], tuple[int, int]]] = []
    memos: set[str] = set()
    sources: list[ast.AST] = []
    for position, statement in enumerate(body):
        if not isinstance(statement, ast.If) or statement.orelse:
            continue
        missing = _missing_test(statement.test, body[:position])
        if missing is None or not _stores_into(statement.body, missing[0]):
            continue
        attribute, keys = missing
        memos.add(attribute)
        sources.append(keys)
        first, last = statement.body[0], statement.body[-1]
        blocks.append(((first.lineno, first.col_offset), (last.end_lineno or last.lineno, last.end_col_offset or 0)))
    if not blocks:
        return None
    inside = False
    for node in [*(event.node for event in flow.events()), *flow.calls]:
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if any(start <= where <= end for start, end in blocks):
            inside = True
            continue
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _PLAIN_CALLS:
                continue
            if isinstance(func, ast.Attribute) and _self_attribute(func.value) in memos:
                # `self.names.get(k)`: reading what was stored.
                continue
        return None
    if not inside or not isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    return _keys(flow, sources, _parameter_positions(flow))


def _missing_test(test: ast.expr, before: list[ast.stmt]) -> tuple[str, ast.AST] | None:
    """The dict attribute of `self` whose missing keys `test` selects, and where the keys come
    from: `key not in self.names`, or a name bound before to the keys not in it (`missing = [k for
    k in keys if k not in self.names]`, the keys from `keys`)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn):
        attribute = _self_attribute(test.comparators[0])
        return (attribute, test.left) if attribute is not None else None
    if not isinstance(test, ast.Name):
        return None
    for statement in reversed(before):
        if isinstance(statement, ast.Assign) and any(isinstance(target, ast.Name) and target.id == test.id for target in statement.targets):
            value = statement.value
            if isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(value.generators) == 1:
                for condition in value.generators[0].ifs:
                    found = _missing_test(condition, [])
                    if found is not None:
                        return found[0], value.generators[0].iter
            return None
    return None


def _stores_into(block: list[ast.stmt], attribute: str) -> bool:
    """The block stores keys into `self.<attribute>` (`self.names[k] = v`, `self.names.update(...)`)."""
    for statement in block:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                if any(isinstance(target, ast.Subscript) and _self_attribute(target.value) == attribute for target in node.targets):
                    return True
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "setdefault"):
                if _self_attribute(node.func.value) == attribute:
                    return True
    return False


def _self_attribute(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return node.attr
    return None


def _empty_test(test: ast.expr) -> str | None:
    """The attribute of `self` that `not self.x` or `self.x is None` tests."""
    tested: ast.expr | None = None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        tested = test.operand
    elif (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    ):
        tested = test.left
    return _self_attribute(tested) if tested is not None else None


def parameter_guards(
    function: ast.FunctionDef | ast.AsyncFunctionDef, own: list[ast.AST], guarded: Mapping[int, tuple[Guard, ...]]
) -> tuple[ParameterGuard, ...]:
    """The calls and iterated queries of the function (`own`: its own nodes) that run only for some
    values of a parameter (`guarded`: `guards.guarded_nodes`), at the positions its query sites
    carry: `if look_in_db:`, `if paths is None:`, `paths or load_paths()`."""
    if not guarded:
        return ()
    found: list[ParameterGuard] = []
    for node in own:
        target = node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node if isinstance(node, ast.Call) else None
        if target is not None:
            found.extend(ParameterGuard(target.lineno, target.col_offset + 1, guard) for guard in guarded.get(id(target), ()))
    return tuple(found)


def _parameter_positions(flow: ScopeFlow) -> dict[str, int]:
    """The function's parameters (not a method's self/cls) -> position among what a call writes (-1: keyword-only)."""
    function = flow.scope
    assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
    return parameter_positions(function, flow.context.class_qualname is not None)


def _keys(flow: ScopeFlow, nodes: list[ast.AST], positions: dict[str, int]) -> tuple[str, ...]:
    """The parameters the nodes read (not a session or connection handed over), by name and "#i"."""
    keys = {
        leaf.id
        for node in nodes
        for leaf in ast.walk(node)
        if isinstance(leaf, ast.Name) and leaf.id in positions and isinstance(leaf.ctx, ast.Load)
        # The session or connection handed over runs the read; it is not its key.
        and not _handle(flow, leaf)
    }
    return tuple(sorted({*keys, *(f"#{positions[key]}" for key in keys if positions[key] >= 0)}))


_IDENTITY_GETS = frozenset({"get", "get_one", "get_or_404"})


def _identity_reads(flow: ScopeFlow, events: list[QueryEvent]) -> dict[ast.AST, tuple[str, ...]]:
    """SQLAlchemy gets by primary key whose key comes from the function's arguments:
    `db.session.query(Dataset).get(dataset_id)`, `session.get(User, user_id)`."""
    positions = _parameter_positions(flow)
    found: dict[ast.AST, tuple[str, ...]] = {}
    for event in events:
        node = event.node
        if event.kind is not QueryKind.READ or event.layer is not DataLayer.SQLALCHEMY or event.operation not in _IDENTITY_GETS:
            continue
        if event.relation is not None or not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = flow.value(node.func.value)
        # `session.get(Model, key)`: the key follows the model; `query(Model).get(key)`: it is the argument.
        arguments: list[ast.AST] = list(node.args[1:] if receiver is not None and receiver.kind is ValueKind.SESSION else node.args)
        arguments += [keyword.value for keyword in node.keywords if keyword.arg in ("ident", "primary_key")]
        if not arguments:
            continue
        keys = _keys(flow, arguments, positions)
        session = _session_root(node.func.value)
        if not keys or session is None:
            continue
        if session.id in positions:
            # The session handed over: the same identity map only when the caller hands the same one.
            keys = tuple(sorted({*keys, session.id, *((f"#{positions[session.id]}",) if positions[session.id] >= 0 else ())}))
        elif session.id not in ("self", "cls") and any(
            binding.kind.value in ("assign", "with", "unpack", "element") for binding in flow.bindings.get(session.id, [])
        ):
            # A session the function opens itself has an empty identity map on every call.
            continue
        found[node] = keys
    return found


def _session_root(node: ast.expr) -> ast.Name | None:
    """The name a session expression starts from: `session` in `session`, `db` in `db.session.query(X)`."""
    while True:
        if isinstance(node, ast.Name):
            return node
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return None


def _upsert_reads(flow: ScopeFlow, events: list[QueryEvent]) -> dict[ast.AST, tuple[str, ...]]:
    """Reads keyed by one of the function's own arguments that a write of the function follows:
    `existing = session.query(Database).filter_by(uuid=config["uuid"]).first()`, then
    `session.flush()` of the new or updated row (a create-or-update of what the caller passes)."""
    positions = _parameter_positions(flow)
    if not positions:
        return {}
    writes = [event.node for event in events if event.kind is QueryKind.WRITE]
    if not writes:
        return {}
    found: dict[ast.AST, tuple[str, ...]] = {}
    for event in events:
        if event.kind is not QueryKind.READ or event.relation is not None:
            continue
        if not any(_position(write) > _position(event.node) and not _only_on_miss(flow, write, event.node) for write in writes):
            # `if tag is None: session.add(Tag(...)); session.commit()`: it writes only the rows it
            # didn't find; where the row exists, the call is a read.
            continue
        keys = _keys(flow, [event.node], positions)
        if keys:
            found[event.node] = keys
    return found


def _only_on_miss(flow: ScopeFlow, write: ast.AST, read: ast.AST) -> bool:
    """The write runs only when the read found nothing: under `if not found:` / `if found is
    None:` (or the `else` of `if found:`), with `found` the read's result or the read itself."""
    statement = flow.parent(read)
    while isinstance(statement, ast.Await):
        statement = flow.parent(statement)
    result = ""
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            result = targets[0].id
    child: ast.AST = write
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        if isinstance(parent, ast.If):
            empty = _tests_empty(parent.test, result, read)
            if empty is True and child in parent.body or empty is False and child in parent.orelse:
                return True
        child = parent
        parent = flow.parent(child)
    return False


def _tests_empty(test: ast.expr, name: str, read: ast.AST) -> bool | None:
    """True when `test` holds if the read found nothing (`not x`, `x is None`), False when it
    holds if it found a row (`x`, `x is not None`), None when it says neither."""
    def found(node: ast.expr) -> bool:
        return node is read or (bool(name) and isinstance(node, ast.Name) and node.id == name)

    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and found(test.operand):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and found(test.left):
        other = test.comparators[0]
        if isinstance(other, ast.Constant) and other.value is None:
            if isinstance(test.ops[0], (ast.Is, ast.Eq)):
                return True
            if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
                return False
    if found(test):
        return False
    return None


def _handle(flow: ScopeFlow, name: ast.Name) -> bool:
    value = flow.value(name)
    return value is not None and value.kind in _HANDLE_KINDS


def _position(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _site(event: QueryEvent, upsert_keys: tuple[str, ...] = (), identity_keys: tuple[str, ...] = ()) -> QuerySite | None:
    line = getattr(event.node, "lineno", 0)
    column = getattr(event.node, "col_offset", 0) + 1
    relation = event.relation
    if relation is not None:
        owner = relation.node.value
        if isinstance(owner, ast.Name) and owner.id == "self":
            return QuerySite(line, column, event.kind, event.text, event.confidence, self_relation=relation.relation)
        if event.receiver is not None and not event.receiver.eager_known:
            return None
        if relation.row_of != (0, 0):
            # A lazy load per row of a query this function iterates: the iteration is the site.
            return None
    elif event.receiver is not None and not event.receiver.eager_known and event.operation == "relation":
        return None
    locked = event.kind is QueryKind.READ and event.receiver is not None and event.receiver.locked
    return QuerySite(
        line, column, event.kind, event.text, event.confidence, locked=locked, upsert_keys=upsert_keys,
        identity_keys=identity_keys, schema=event.schema,
    )


def _is_property(function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: NameResolver) -> bool:
    for decorator in function.decorator_list:
        name = resolver.qualified_name(decorator) or ""
        if name.rpartition(".")[2] in _PROPERTIES:
            return True
    return False


def _is_cached(function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: NameResolver) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualname = resolver.qualified_name(target) or ""
        parts = dotted_parts(target) or [""]
        if qualname in catalog.CACHING_DECORATORS or parts[-1] in _CACHE_NAMES:
            return True
    return False


# --- project-wide knowledge ------------------------------------------------------------


class ProjectKnowledge(DataKnowledge):
    """Models, handles, functions and classes of the whole project."""

    def __init__(self, index: ProjectIndex) -> None:
        super().__init__(model_graph(index))
        self.index = index
        self.handles: dict[str, DataValue] = {}
        self.functions: dict[str, FunctionDataAccess] = {}
        self.arguments: dict[str, tuple[SafeArgument, ...]] = {}
        self.fresh: dict[str, tuple[FreshArgument, ...]] = {}
        # (model, name) -> the function `Model.add_to_class(name, function)` makes its method.
        self.contributed: dict[tuple[str, str], str] = {}
        for facts in index.modules.values():
            for declaration in facts.models:
                if isinstance(declaration, DataHandle):
                    self.handles[declaration.qualname] = declaration.value
                elif isinstance(declaration, FunctionDataAccess):
                    self.functions[declaration.qualname] = declaration
                elif isinstance(declaration, CallArguments):
                    self.arguments[declaration.qualname] = declaration.arguments
                    self.fresh[declaration.qualname] = declaration.fresh
                elif isinstance(declaration, ContributedMethod):
                    self.contributed[(index.resolve(declaration.model), declaration.name)] = index.resolve(declaration.function)
        # Methods that run SQL themselves: a custom manager method called in a loop is a query.
        self.custom_methods = frozenset(
            qualname.rpartition(".")[2] for qualname, access in self.functions.items() if access.queries
        )
        self._resolved: dict[str, str | None] = {}
        self._methods: dict[tuple[str, str], str | None] = {}
        self._bases: dict[str, tuple[str, ...]] = {}
        self._properties: dict[str, Origin | None] | None = None
        self._callers: dict[str, tuple[str, ...]] | None = None
        self._per_row_methods: dict[str, PerRowMethod] | None = None
        self._refined: dict[str, FunctionDataAccess] = {}
        # Per context manager or decorator: whether it holds a lock around what it wraps.
        self._wrappers: dict[str, bool] = {}

    def handle(self, qualname: str) -> DataValue | None:
        found = self.handles.get(qualname)
        if found is None and self.handles and "." in qualname:
            found = self.handles.get(self.index.resolve(qualname))
        if found is not None and found.kind is ValueKind.MODEL_CLASS:
            model = self.graph.model(found.model)
            if model is None:
                return found
            return found.but(model=model.qualname, layer=model.layer)
        return found

    def function_access(self, qualname: str) -> FunctionDataAccess | None:
        access = self.functions.get(qualname)
        if access is None or access.result is None:
            return access
        if qualname not in self._refined:
            self._refined[qualname] = self._refine_result(access)
        return self._refined[qualname]

    def _refine_result(self, access: FunctionDataAccess) -> FunctionDataAccess:
        """A queryset chain its own file took for lazy through a custom manager or queryset
        method of another file (`return Document.objects.get_visible(user, **kwargs)`): what the
        project knows that method returns. A method that runs a read and returns one row makes
        the function return that row; one that returns something else, not a queryset."""
        result = access.result
        if result is None or result.kind is not ValueKind.QUERY or result.layer is not DataLayer.DJANGO or not result.model:
            return access
        model = self.model(result.model)
        if model is None:
            return access
        manager_name = next((op[len("manager:"):] for op in result.operations if op.startswith("manager:")), "objects")
        manager = model.managers.get(manager_name)
        if manager is None:
            return access
        for position, name in enumerate(result.operations):
            if name in catalog.DJANGO_CHAIN or ":" in name or name == "slice":
                continue
            method = next(
                (found for owner in (manager.manager_class, manager.queryset_class) if owner
                 for found in (self.method(owner, name),) if found is not None),
                None,
            )
            known = self.functions.get(method) if method is not None else None
            if known is None or known.result is None or known.result.kind in (ValueKind.QUERY, ValueKind.MANAGER):
                continue
            reads = any(site.kind is QueryKind.READ for site in known.queries)
            last = position == len(result.operations) - 1
            confidence = lower_confidence(result.confidence, known.result.confidence)
            if known.result.kind is ValueKind.INSTANCE and reads and last:
                row = result.but(kind=ValueKind.INSTANCE, operations=(), loaded=False, confidence=confidence)
                return replace(access, result=row)
            if known.result.kind is ValueKind.ROWS and known.result.model == result.model and last:
                # `return list(self.filter(...))`: the rows, loaded the way the method loads them.
                rows = result.but(
                    kind=ValueKind.ROWS,
                    eager=tuple(dict.fromkeys((*result.eager, *known.result.eager))),
                    confidence=confidence,
                )
                return replace(access, result=rows)
            return replace(access, result=None)
        return access

    def returned_argument(self, qualname: str) -> tuple[int, int]:
        return self.index.returned_argument(qualname)

    def one_item_argument(self, qualname: str, position: int, name: str) -> bool:
        callers = self.callers(qualname)
        if not callers:
            return False
        for caller in callers:
            facts = self.index.functions.get(caller)
            if facts is None:
                return False
            for site in facts.calls:
                if self.resolve_function(site.callee) != qualname:
                    continue
                if not ((position >= 0 and str(position) in site.one_item) or name in site.one_item):
                    return False
        return True

    def yields_once(self, qualname: str) -> bool:
        facts = self.index.function(qualname)
        return facts is not None and facts.yields_once

    def bound_attribute(self, class_qualname: str, attribute: str) -> str | None:
        return self.index.bound_attribute(class_qualname, attribute)

    def resolve_function(self, qualname: str) -> str | None:
        if qualname in self._resolved:
            return self._resolved[qualname]
        facts = self.index.function(qualname)
        found = facts.qualname if facts is not None else None
        self._resolved[qualname] = found
        return found

    def class_bases(self, qualname: str) -> tuple[str, ...]:
        found = self._bases.get(qualname)
        if found is None:
            facts = self.index.classes.get(qualname)
            found = tuple(self.index.resolve(base) for base in facts.bases) if facts is not None else ()
            self._bases[qualname] = found
        return found

    def returns_origin(self, qualname: str) -> Origin | None:
        access = self.functions.get(qualname)
        return access.returns if access is not None else None

    def callers(self, qualname: str) -> tuple[str, ...]:
        """The project functions that call `qualname` directly (built once per project)."""
        if self._callers is None:
            found: dict[str, set[str]] = {}
            for caller, facts in self.index.functions.items():
                for site in facts.calls:
                    target = self.resolve_function(site.callee)
                    if target is not None and target != caller:
                        found.setdefault(target, set()).add(caller)
            self._callers = {target: tuple(sorted(names)) for target, names in found.items()}
        return self._callers.get(qualname, ())

    def locked_by_callers(self, qualname: str, depth: int = 0) -> bool:
        """Every caller holds a lock when it calls `qualname` (it takes one, calls a helper
        that does, is decorated with or calls it inside a project wrapper that does, or its own
        callers all do): a PostgreSQL advisory lock, a row read with select_for_update(), an
        asyncio lock, a database or table write lock."""
        callers = self.callers(qualname)
        if not callers or depth > 3:
            return False
        for caller in callers:
            if self.acquires_lock(caller) or self._calls_in_lock(caller, qualname):
                continue
            if not self.locked_by_callers(caller, depth + 1):
                return False
        return True

    def _calls_in_lock(self, caller: str, qualname: str) -> bool:
        """Every call of `qualname` in `caller` runs in the block of a `with` whose context
        manager holds a lock (`with immediate_atomic(): shift(step)`)."""
        facts = self.index.functions.get(caller)
        if facts is None:
            return False
        sites = [site for site in facts.calls if self.resolve_function(site.callee) == qualname]
        return bool(sites) and all(any(self.wraps_in_lock(manager) for manager in site.within) for site in sites)

    def parameter_origin(self, qualname: str, position: int, name: str) -> Origin | None:
        """The worst origin every project call of `qualname` passes to its parameter `name`
        (at `position` among the arguments a call writes, -1 for keyword-only), when each
        call passes one that carries no input; None when any call can't say."""
        callers = self.callers(qualname)
        if not callers:
            return None
        found: Origin | None = None
        for caller in callers:
            facts = self.index.functions.get(caller)
            if facts is None:
                return None
            arguments: dict[tuple[int, int], list[SafeArgument]] = {}
            for argument in self.arguments.get(caller, ()):
                arguments.setdefault((argument.line, argument.column), []).append(argument)
            for site in facts.calls:
                if self.resolve_function(site.callee) != qualname:
                    continue
                passed = [
                    argument for argument in arguments.get((site.line, site.column), [])
                    if (position >= 0 and argument.position == position) or argument.keyword == name
                ]
                if not passed:
                    return None
                for argument in passed:
                    found = argument.origin if found is None else found.worst(argument.origin)
        return found

    def fresh_argument(self, qualname: str, position: int, name: str) -> bool:
        """Every project call of `qualname` passes its parameter `name` (at `position` among the
        arguments a call writes, -1 for keyword-only) a model object the caller built and had not
        saved: a row no concurrent request can have read."""
        callers = self.callers(qualname)
        if not callers:
            return False
        for caller in callers:
            facts = self.index.functions.get(caller)
            if facts is None:
                return False
            fresh = {
                (argument.line, argument.column) for argument in self.fresh.get(caller, ())
                if ((position >= 0 and argument.position == position) or argument.keyword == name)
                and (not argument.constructor or self.model(self.index.resolve(argument.constructor)) is not None)
            }
            for site in facts.calls:
                if self.resolve_function(site.callee) != qualname:
                    continue
                if (site.line, site.column) not in fresh:
                    return False
        return True

    def acquires_lock(self, qualname: str) -> bool:
        """The function takes a lock, calls a project helper that takes one and keeps it
        (`key = await acquire_session_lock(db, ...)`), at most two helpers deep, or is decorated
        with a project wrapper that holds one around it (`@immediate_atomic()`)."""
        if self._takes_lock(qualname):
            return True
        facts = self.index.functions.get(qualname)
        return facts is not None and any(self.wraps_in_lock(decorator) for decorator in facts.decorators)

    def _takes_lock(self, qualname: str, depth: int = 0) -> bool:
        """The function takes a lock, or calls a project helper that takes one and keeps it, at
        most two helpers deep. A call whose result a `with` enters holds what it takes for that
        block only (`with global_write_lock(): ...`): not the rest of the function."""
        access = self.functions.get(qualname)
        if access is not None and access.locks:
            return True
        facts = self.index.functions.get(qualname)
        if facts is None or depth >= 2:
            return False
        for site in facts.calls:
            if site.entered:
                continue
            target = self.resolve_function(site.callee)
            if target is not None and target != qualname and self._takes_lock(target, depth + 1):
                return True
        return False

    def enters_lock(self, qualname: str, line: int, column: int) -> bool:
        """The call of the function `qualname` at `line`, `column` (1-based) builds what a `with`
        enters, and that context manager holds a lock around the block (`with immediate_atomic():`)."""
        facts = self.index.functions.get(qualname)
        if facts is None:
            return False
        return any(
            site.entered and self.wraps_in_lock(site.callee)
            for site in facts.calls
            if site.line == line and site.column == column
        )

    def wraps_in_lock(self, callee: str) -> bool:
        """`callee`, entered by a `with` or applied as a decorator, holds a lock that serialises
        writers around the code it wraps: a project context manager (a `@contextmanager`
        generator, a class whose `__enter__` / `__aenter__` takes one) or decorator (its wrapper,
        or the decorator its factory returns, takes one), taken itself, by a helper it calls (two
        deep) or by a project context manager it enters in turn (two deep)."""
        found = self._wrappers.get(callee)
        if found is None:
            found = self._wrappers[callee] = self._wrapper_locks(callee, 0)
        return found

    def _wrapper_locks(self, callee: str, depth: int) -> bool:
        if depth > 2:
            return False
        owner = self.index.resolve(callee)
        if owner in self.index.classes:
            return any(
                method is not None and self._wrapper_body_locks(method, depth)
                for method in (self.method(owner, name) for name in ("__enter__", "__aenter__", "__call__"))
            )
        target = self.resolve_function(callee)
        return target is not None and self._wrapper_body_locks(target, depth)

    def _wrapper_body_locks(self, qualname: str, depth: int) -> bool:
        """The body of a context manager or decorator holds a lock: it takes one (or a helper it
        calls does), it enters a project context manager that does, or it returns a function
        (a decorator's wrapper) that does."""
        if self._takes_lock(qualname):
            return True
        facts = self.index.functions.get(qualname)
        if facts is None:
            return False
        for site in facts.calls:
            if site.entered and self._wrapper_locks(site.callee, depth + 1):
                return True
        returned = facts.returns_function
        return bool(returned) and returned != qualname and depth < 2 and self._wrapper_body_locks(returned, depth + 1)

    def attribute_origin(self, class_qualname: str | None, name: str) -> Origin | None:
        if class_qualname is not None:
            method = self.method(class_qualname, name)
            facts = self.index.functions.get(method) if method else None
            if method is None or facts is None or not _property_facts(facts.decorators):
                return None
            return self.returns_origin(method)
        if self._properties is None:
            self._properties = self._property_origins()
        return self._properties.get(name)

    def _property_origins(self) -> dict[str, Origin | None]:
        """Per attribute name, the worst origin of every project property of that name;
        None when some definition (a method, a property of unknown origin) can't say."""
        found: dict[str, Origin | None] = {}
        for qualname, facts in self.index.functions.items():
            name = qualname.rpartition(".")[2]
            origin = self.returns_origin(qualname) if _property_facts(facts.decorators) else None
            if name in found:
                earlier = found[name]
                found[name] = earlier.worst(origin) if earlier is not None and origin is not None else None
            else:
                found[name] = origin
        return found

    def method(self, class_qualname: str, name: str) -> str | None:
        key = (class_qualname, name)
        if key not in self._methods:
            resolved = self.index.resolve(class_qualname)
            self._methods[key] = self.index.method(resolved, name) or self.contributed_method(resolved, name)
        return self._methods[key]

    def contributed_method(self, class_qualname: str, name: str) -> str | None:
        """The function `Model.add_to_class(name, function)` adds to the model (or to a project
        base of it), when it is a project function."""
        seen: set[str] = set()
        pending = [class_qualname]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            function = self.contributed.get((current, name))
            if function is not None and function in self.index.functions:
                return function
            pending.extend(self.class_bases(current))
        return None

    def per_row_methods(self) -> dict[str, PerRowMethod]:
        """Model methods that run once per row of a query some project function iterates
        (`[check.to_dict() for check in checks]`), and the project functions they call a few
        calls deep (`to_dict() > channels_str()`); a function answering from a cache is not
        gone through. The first loop found names each."""
        if self._per_row_methods is not None:
            return self._per_row_methods
        found: dict[str, PerRowMethod] = {}

        def computed_per_call(facts: FunctionFacts) -> bool:
            if facts.qualname.rpartition(".")[2] in _WRITE_METHODS:
                # A write (and what it runs) per row is BB202's.
                return False
            access = self.functions.get(facts.qualname)
            return access is None or not access.cached

        for caller in sorted(self.functions):
            if self._runs_apart(caller):
                continue
            for call in self.functions[caller].per_row_methods:
                if call.method in _WRITE_METHODS:
                    # A write per row is BB202's; what the write runs is part of it.
                    continue
                model = self.graph.model(call.model)
                method = self.method(model.qualname, call.method) if model is not None else None
                if model is None or method is None or method in found:
                    continue
                access = self.functions.get(method)
                if access is not None and access.cached:
                    continue
                label = f"{model.qualname.rpartition('.')[2]}.{call.method}()"
                root = PerRowMethod(caller, call.line, label, (f"{call.method}()",))
                found[method] = root
                for target, chain in self.index.reach(method, _PER_ROW_DEPTH, passes=computed_per_call).items():
                    if target not in found:
                        names = tuple(f"{step.qualname.rpartition('.')[2]}()" for _, step in chain)
                        found[target] = PerRowMethod(caller, call.line, label, (*root.chain, *names))
        self._per_row_methods = found
        return found

    def _runs_apart(self, qualname: str) -> bool:
        """The function sits where no request runs it: tests, migrations, management commands,
        scripts (their loops are not reported either)."""
        from backbone.review.contexts import path_context

        module = qualname
        while module and module not in self.index.modules:
            module = module.rpartition(".")[0]
        facts = self.index.modules.get(module)
        return facts is not None and path_context(facts.path) is not None


class PerRowMethod(Record, frozen=True):
    """Why a function runs once per row: the model method a loop over a query's rows calls."""

    # The project function holding the loop, and the line of the call.
    caller: str
    line: int
    # "`Check.to_dict()`".
    method: str
    # From the model method down to this function ("to_dict() > channels_str()").
    chain: tuple[str, ...]


_WRITE_METHODS = frozenset({"save", "delete", "update", "create", "refresh_from_db", "full_clean", "clean"})
# How many project calls below a per-row model method are followed.
_PER_ROW_DEPTH = 3

_PROPERTIES = frozenset({"property", "cached_property"})


def _property_facts(decorators: tuple[str, ...]) -> bool:
    return any(decorator.rpartition(".")[2] in _PROPERTIES for decorator in decorators)


def project_knowledge(index: ProjectIndex) -> ProjectKnowledge:
    return index.view(KNOWLEDGE_VIEW, ProjectKnowledge)


# --- the file a rule looks at ------------------------------------------------------------

def module_flows(context: FileContext) -> ModuleFlows:
    """The flows of `context`'s file against the project, shared by every rule of a run."""
    flows = context.semantic.data_flows
    if context.project is not None:
        knowledge: DataKnowledge = project_knowledge(context.project)
        if flows is None:
            resolver = NameResolver(context.facts.module, context.facts.imports, context.facts.symbols, context.facts.star_imports)
            flows = ModuleFlows(context.tree, resolver, knowledge)
            context.semantic.data_flows = flows
        flows.rebind(knowledge)
        flows.parents_from = weakref.ref(context)
        return flows
    if flows is None:
        resolver = NameResolver(context.facts.module, context.facts.imports, context.facts.symbols, context.facts.star_imports)
        flows = ModuleFlows(context.tree, resolver, DataKnowledge(ModelGraph({})))
        handles = _module_handles(flows.flow(context.tree), resolver)
        models = [declaration for declaration in context.facts.models if isinstance(declaration, ModelClass)]
        local = _local_knowledge(context.tree, resolver, models, handles)
        flows.rebind(local)
        local.attach(flows)
        context.semantic.data_flows = flows
    return flows


def specialised_flows(context: FileContext, generic: str, subclass: str) -> ModuleFlows:
    """The flows of `context`'s file with the methods of the generic class `generic` read as
    those of its project subclass `subclass` (what `self.model` holds there)."""
    flows = module_flows(context)
    key = (generic, subclass)
    found = flows.specialisations.get(key)
    if found is None:
        found = ModuleFlows(context.tree, flows.resolver, flows.knowledge, specialise=key)
        found.parents_from = weakref.ref(context)
        flows.specialisations[key] = found
    return found


def scope_of(node: ast.AST, context: FileContext) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Module:
    function = context.enclosing_function(node)
    return function if function is not None else context.tree


def is_test_code(context: FileContext) -> bool:
    """Test modules: per-row queries and writes there set up fixtures, they serve no one."""
    path = "/" + context.path.replace("\\", "/")
    name = path.rpartition("/")[2]
    # Beyond what every rule calls test code: fixture and factory modules, test-named modules.
    return (
        is_test_path(context.path)
        or "/fixtures/" in path
        or name == "factories.py"
        or context.module.split(".")[-1].startswith("test")
    )


def is_migration(context: FileContext) -> bool:
    """A migration module, as the execution contexts see one (its folder, or an Alembic revision)."""
    from backbone.review.context_kinds import ExecutionContext
    from backbone.review.contexts import path_context, revision_context

    found = path_context(context.path) or revision_context(context.facts)
    return found is not None and found.context is ExecutionContext.MIGRATION


# --- call chains ---------------------------------------------------------------------------


class QueryChain(Record, frozen=True):
    """A read query reached through project calls: `render_order() -> load_customer() -> session.get(...)`."""

    functions: tuple[str, ...]
    site: QuerySite
    confidence: Confidence

    def render(self) -> str:
        names = [f"{qualname.rpartition('.')[2]}()" for qualname in self.functions]
        return " -> ".join([*names, self.site.text])


def query_chain(
    index: ProjectIndex,
    function: str,
    arguments: tuple[str, ...] | None = None,
    max_depth: int = MAX_CHAIN_DEPTH,
    unlocked: bool = False,
    per_item: frozenset[str] | None = None,
) -> QueryChain | None:
    """The shortest chain from project function `function` to a read query it runs.

    `arguments` says what the call passes (`guards.call_arguments`); None when unknown. Queries
    and calls in `function` under a test of a parameter with a constant default that the call
    rules out are skipped (`if look_in_db:` for `clean_tag(name, look_in_db=False)`, `if paths is
    None:` for a call passing `paths`, see `guards.bind`). `unlocked` leaves out
    reads that take their row for a write of the same call: a read that locks its rows
    (`select_for_update().get(...)`), or the lookup, keyed by an argument, of a
    create-or-update that the function then writes, when the call hands it the item of its
    loop: `per_item` names what the call passes that changes with each round (parameter names
    and "#i" positions, as `guards.passed_keys`; None when unknown). A SQLAlchemy get by primary
    key whose key the call passes and doesn't change with the round is left out too: the
    identity map answers every round after the first.
    """
    chains: dict[tuple[str, tuple[str, ...] | None, bool, frozenset[str] | None, int], QueryChain | None] = index.view(
        CHAINS_VIEW, lambda _: {}
    )
    key = (function, arguments, unlocked, per_item, max_depth)
    if key in chains:
        return chains[key]
    passed = passed_keys(arguments) if arguments is not None else None
    binding = UNKNOWN_BINDING
    if arguments is not None:
        facts = index.function(function)
        if facts is not None:
            binding = bind(arguments, facts.parameters, facts.defaults)
    found = _search_chain(index, function, passed, binding, max_depth, unlocked, per_item)
    chains[key] = found
    return found


def changes_schema(index: ProjectIndex, function: str, max_depth: int = MAX_CHAIN_DEPTH) -> bool:
    """`function` runs DDL (`CREATE TABLE`, `DROP INDEX`...), itself or through the project
    functions it calls (`max_depth` calls deep)."""
    found: dict[tuple[str, int], bool] = index.view(SCHEMA_VIEW, lambda _: {})
    key = (function, max_depth)
    if key not in found:
        knowledge = project_knowledge(index)
        queue: deque[tuple[str, int]] = deque([(function, 1)])
        seen = {function}
        answer = False
        while queue and not answer:
            current, depth = queue.popleft()
            access = knowledge.function_access(current)
            if access is not None and any(site.schema for site in access.queries):
                answer = True
                break
            if depth >= max_depth:
                continue
            for _, target in index.callees(current):
                if target.qualname not in seen:
                    seen.add(target.qualname)
                    queue.append((target.qualname, depth + 1))
        found[key] = answer
    return found[key]


def round_changes_schema(loop: Loop, flow: ScopeFlow, index: ProjectIndex | None) -> bool:
    """Each round of `loop` runs DDL: a statement that creates, drops or alters a table or an
    index, in the loop or in a project function it calls (`for view in removed: drop_table(cur,
    view)`). Schema changes go one statement per table, with no bulk form, and the reads beside
    them (a catalog lookup of the table's versions) belong to the same per-table work."""
    start = (getattr(loop.node, "lineno", 0), getattr(loop.node, "col_offset", 0))
    end = (getattr(loop.node, "end_lineno", 0) or 0, getattr(loop.node, "end_col_offset", 0) or 0)
    for event in flow.events():
        if event.schema and start <= (getattr(event.node, "lineno", 0), getattr(event.node, "col_offset", 0)) <= end:
            return True
    qualname = flow.context.qualname
    if index is None or not qualname:
        return False
    for call, target in index.callees(qualname):
        if start <= (call.line, call.column) <= end and changes_schema(index, target.qualname):
            return True
    return False


def _skipped(guards: tuple[ParameterGuard, ...], line: int, column: int, binding: Binding) -> bool:
    """The query or call at (line, column) doesn't run for a call `binding` describes."""
    return not binding.reaches(guard.guard for guard in guards if guard.line == line and guard.column == column)


def _direct_read(
    access: FunctionDataAccess | None, passed: frozenset[str] | None, binding: Binding, unlocked: bool, per_item: frozenset[str] | None = None
) -> QuerySite | None:
    if access is None or access.cached:
        return None
    for site in access.queries:
        if site.kind is QueryKind.READ and not site.self_relation and not (unlocked and site.locked) and not _per_call_unit(site, passed, per_item):
            if not _skipped(access.guards, site.line, site.column, binding):
                return site
    return None


def _per_call_unit(site: QuerySite, passed: frozenset[str] | None, per_item: frozenset[str] | None) -> bool:
    """Given what changes with each round (`per_item`), the read is the lookup of the round's
    own create-or-update, or a get by primary key of the same row every round."""
    if per_item is None:
        return False
    if per_item.intersection(site.upsert_keys):
        return True
    return bool(site.identity_keys) and passed is not None and bool(passed.intersection(site.identity_keys)) and not per_item.intersection(site.identity_keys)


def _search_chain(
    index: ProjectIndex,
    function: str,
    passed: frozenset[str] | None,
    binding: Binding,
    max_depth: int,
    unlocked: bool,
    per_item: frozenset[str] | None = None,
) -> QueryChain | None:
    knowledge = project_knowledge(index)
    start = knowledge.function_access(function)
    if start is not None and start.cached:
        return None
    queue: deque[tuple[str, ...]] = deque([(function,)])
    seen = {function}
    while queue:
        path = queue.popleft()
        current = path[-1]
        access = knowledge.function_access(current)
        if access is not None and access.cached:
            continue
        # Only the first function's arguments are known; when the first call passes nothing that
        # changes with the round, nothing deeper does either.
        changing = per_item if len(path) == 1 else (frozenset() if per_item is not None and not per_item else None)
        if access is not None and access.memo_keys is not None and changing is not None and not changing.intersection(access.memo_keys):
            # It loads only keys it hasn't stored yet, and the round hands it the same ones.
            continue
        given = passed if len(path) == 1 else None
        bound = binding if len(path) == 1 else UNKNOWN_BINDING
        # What changes with each round is known for the first function only.
        site = _direct_read(access, given, bound, unlocked, per_item if len(path) == 1 else None)
        if site is not None:
            confidence = site.confidence if len(path) <= 2 else lower_confidence(site.confidence, Confidence.MEDIUM)
            return QueryChain(path, site, confidence)
        if len(path) >= max_depth:
            continue
        for call, target in index.callees(current):
            if not bound.reaches(call.guards):
                continue
            if target.qualname not in seen:
                seen.add(target.qualname)
                queue.append((*path, target.qualname))
    return None
