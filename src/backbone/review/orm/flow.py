"""What each expression of a function holds, and where the function executes SQL.

`ScopeFlow` analyses one function (or a module body): it binds names in source order
(assignments, `for` targets, `with ... as`, parameters with their annotations and
`Depends(...)` defaults), evaluates expressions to `DataValue`s on demand (memoised per
node) and lists the `QueryEvent`s: each call, iteration, `list()`, slice or relation read
that runs SQL. Knowledge from outside the function (models, module-level handles, what
project functions return) comes from a `DataKnowledge`.

Flow-insensitive on purpose, and cheap: the value of a name at a use is the value of
its last binding above the use; branches are not merged.
"""

from __future__ import annotations

import ast
import bisect
import enum
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from backbone.findings import Confidence
from backbone.review.knowledge.sql_text import sql_of_literal, statement_writes
from backbone.review.names import BUILTIN_NAMES, NameResolver, dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.facts import FunctionDataAccess
from backbone.review.orm.graph import ModelGraph, ModelInfo, Relation
from backbone.review.orm.values import (
    EVERY_FORWARD_RELATION,
    EVERY_RELATION,
    DataLayer,
    Origin,
    DataValue,
    QueryEvent,
    QueryKind,
    RelationRead,
    ValueKind,
    lower_confidence,
)

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)
ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
Position = tuple[int, int]

_HIGH, _MEDIUM, _LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
_LAZY_KINDS = (ValueKind.QUERY, ValueKind.RELATED_MANAGER)
_ROW_SOURCES = (ValueKind.QUERY, ValueKind.ROWS, ValueKind.RELATED_MANAGER)
_HANDLE_KINDS = (ValueKind.SESSION, ValueKind.CONNECTION, ValueKind.CURSOR, ValueKind.ENGINE)
# Builtins that evaluate an iterable they are given.
_EVALUATING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "len", "bool", "dict", "sum", "max", "min", "any", "all"})
# The text shown for a query is clipped to this many characters.
_LONGEST_TEXT = 60
# How many values may be under evaluation at once (each costs a few stack frames).
_DEEPEST_VALUE = 100


class DataKnowledge:
    """What an analysis may know beyond the function: models, handles, project functions.

    The base class knows the model graph it is given and nothing else; the per-file facts
    use a local one, rules a project-wide one (`backbone.review.orm.access`).
    """

    def __init__(self, graph: ModelGraph) -> None:
        self.graph = graph
        # Names of project methods that may run SQL when called on a manager or queryset.
        self.custom_methods: frozenset[str] = frozenset()

    def model(self, reference: str) -> ModelInfo | None:
        return self.graph.model(reference)

    def handle(self, qualname: str) -> DataValue | None:
        return None

    def function_access(self, qualname: str) -> FunctionDataAccess | None:
        return None

    def resolve_function(self, qualname: str) -> str | None:
        """The project function a call name refers to, or None."""
        return None

    def class_bases(self, qualname: str) -> tuple[str, ...]:
        return ()

    def method(self, class_qualname: str, name: str) -> str | None:
        return None

    def returns_origin(self, qualname: str) -> Origin | None:
        """Where what a project function returns comes from, when known (origins.py)."""
        return None

    def attribute_origin(self, class_qualname: str | None, name: str) -> Origin | None:
        """Where a project property's value comes from: of `class_qualname`, or of every
        project property called `name` when the class is unknown."""
        return None


class BindingKind(enum.Enum):
    ASSIGN = "assign"
    UNPACK = "unpack"
    ELEMENT = "element"
    WITH = "with"
    PARAM = "param"
    DEFINITION = "definition"
    OPAQUE = "opaque"


@dataclass(frozen=True, slots=True)
class Binding:
    position: Position
    kind: BindingKind
    # The assigned value, the iterable, the context manager, or the `ast.arg`.
    node: ast.AST | None
    # For UNPACK/ELEMENT: the index path into a tuple (`for i, row in enumerate(rows)`).
    path: tuple[int, ...] = ()
    # For ELEMENT: the loop producing the rows; for PARAM: the function.
    owner: ast.AST | None = None


@dataclass(frozen=True, slots=True)
class ScopeContext:
    """Where a scope sits: the class around a method, the function around a closure."""

    class_qualname: str | None
    enclosing: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module | None
    qualname: str


class ModuleFlows:
    """The flows of every scope of one module, collected in one walk over the tree.

    Values are computed on demand and memoised; `rebind` swaps the knowledge (the per-file
    facts use a file-local one, rules a project-wide one) and keeps the collected structure.
    """

    def __init__(self, tree: ast.Module, resolver: NameResolver, knowledge: DataKnowledge) -> None:
        # Weakly: the file's model that keeps these flows lives beside the tree and must not
        # keep it alive; the scopes hold its functions, never the module node itself.
        self._tree = weakref.ref(tree)
        self.resolver = resolver
        self.knowledge = knowledge
        self._flows: dict[ast.AST, ScopeFlow] = {}
        self.contexts: dict[ast.AST, ScopeContext] = {}
        # The parent of every node of the file: the rules' own map (through their context,
        # weakly) when they give it, otherwise built on first use. Top-level statements
        # have no parent here: the module node is not referenced.
        self.parents: dict[ast.AST, ast.AST] | None = None
        self.parents_from: weakref.ref[_HasParents] | None = None
        # Shared by the scopes (nodes are unique in a file): one set of tables per file,
        # not per function, keeps the allocations (and the garbage collector) down.
        self.enclosers: dict[ast.Name, tuple[tuple[ast.AST, int], ...]] = {}
        self.lambda_calls: dict[ast.Lambda, ast.Call] = {}
        self.values: dict[ast.AST, DataValue | None] = {}
        # Keyed by the binding itself (by value): comprehension and lambda bindings are made
        # on each lookup, and an id() would be reused once they are collected.
        self.binding_values: dict[Binding, DataValue | None] = {}
        self.call_results: dict[ast.AST, tuple[DataValue | None, QueryEvent | None]] = {}
        self.in_progress: set[ast.AST] = set()
        self._walk()

    def rebind(self, knowledge: DataKnowledge) -> None:
        if knowledge is self.knowledge:
            return
        self.knowledge = knowledge
        self.values.clear()
        self.binding_values.clear()
        self.call_results.clear()
        self.in_progress.clear()
        self._top.reset(knowledge)
        for flow in self._flows.values():
            flow.reset(knowledge)

    @property
    def tree(self) -> ast.Module:
        tree = self._tree()
        assert tree is not None, "the tree of a ModuleFlows in use was collected"
        return tree

    def _walk(self) -> None:
        """One pass over the tree; each scope's nodes go to that scope's flow.

        The stack holds bare nodes (no per-node tuples: this runs over every file), scopes
        are walked one after the other, and only comprehensions and lambdas recurse.
        """
        module = self.resolver.module
        tree = self.tree
        self._top_context = ScopeContext(None, None, module)
        top = ScopeFlow(self, None, self._top_context)
        self._top = top
        pending: list[tuple[ScopeFlow, list[ast.stmt], tuple[str, ...]]] = [(top, tree.body, ())]
        while pending:
            flow, body, names = pending.pop()
            stack: list[ast.AST] = list(reversed(body))
            self._walk_nodes(flow, stack, (), names, pending)

    def _walk_nodes(
        self,
        flow: ScopeFlow,
        stack: list[ast.AST],
        enclosers: tuple[tuple[ast.AST, int], ...],
        names: tuple[str, ...],
        pending: list[tuple[ScopeFlow, list[ast.stmt], tuple[str, ...]]],
    ) -> None:
        ast_type = ast.AST
        notes = _NOTES
        name_type = ast.Name
        while stack:
            node = stack.pop()
            node_type = type(node)
            if node_type is name_type:
                if enclosers:
                    flow.enclosers[node] = enclosers  # type: ignore[index]
                continue
            if node_type is ast.FunctionDef or node_type is ast.AsyncFunctionDef:
                self._function(node, flow, None, names, stack, pending)  # type: ignore[arg-type]
                continue
            if node_type is ast.ClassDef:
                self._class(node, flow, names, stack, pending)  # type: ignore[arg-type]
                continue
            handler = notes.get(node_type)
            if handler is not None:
                handler(flow, node)
                if len(enclosers) >= _DEEPEST_VALUE:
                    pass  # nested too deep to follow as scopes (`lambda: lambda: ...`): plain nodes
                elif node_type in _COMPREHENSION_TYPES:
                    self._comprehension(node, flow, enclosers, names, pending)  # type: ignore[arg-type]
                    continue
                elif node_type is ast.Lambda:
                    assert isinstance(node, ast.Lambda)
                    stack.extend(item for item in (*node.args.defaults, *node.args.kw_defaults) if item is not None)
                    self._walk_nodes(flow, [node.body], (*enclosers, (node, -1)), names, pending)
                    continue
            for field_name in node._fields:
                value = getattr(node, field_name, None)
                if isinstance(value, ast_type):
                    stack.append(value)
                elif isinstance(value, list):
                    for item in reversed(value):
                        if isinstance(item, ast_type):
                            stack.append(item)

    def _comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        flow: ScopeFlow,
        enclosers: tuple[tuple[ast.AST, int], ...],
        names: tuple[str, ...],
        pending: list[tuple[ScopeFlow, list[ast.stmt], tuple[str, ...]]],
    ) -> None:
        """A comprehension's parts, each knowing how many of its generators' names it sees."""
        generators = node.generators
        for index, generator in enumerate(generators):
            # The first iterable is evaluated outside the comprehension.
            seen = enclosers if index == 0 else (*enclosers, (node, index))
            self._walk_nodes(flow, [generator.iter], seen, names, pending)
            inner = (*enclosers, (node, index + 1))
            self._walk_nodes(flow, [generator.target, *reversed(generator.ifs)], inner, names, pending)
        parts: list[ast.AST] = [node.value, node.key] if isinstance(node, ast.DictComp) else [node.elt]
        self._walk_nodes(flow, parts, (*enclosers, (node, len(generators))), names, pending)

    def _function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        flow: ScopeFlow,
        class_qualname: str | None,
        names: tuple[str, ...],
        stack: list[ast.AST] | None,
        pending: list[tuple[ScopeFlow, list[ast.stmt], tuple[str, ...]]],
    ) -> None:
        flow._bind(node.name, Binding((node.lineno, node.col_offset), BindingKind.DEFINITION, node))
        # Decorators and defaults run in the enclosing scope.
        outside = [*node.decorator_list, *(default for default in (*node.args.defaults, *node.args.kw_defaults) if default is not None)]
        if stack is not None:
            stack.extend(reversed(outside))
        else:
            self._walk_nodes(flow, list(reversed(outside)), (), names, pending)
        inner_names = (*names, node.name)
        qualname = ".".join(filter(None, [self.resolver.module, *inner_names]))
        enclosing = flow._scope if isinstance(flow._scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        context = ScopeContext(class_qualname, enclosing, qualname)
        self.contexts[node] = context
        inner = ScopeFlow(self, node, context)
        self._flows[node] = inner
        inner._bind_parameters(node)
        pending.append((inner, node.body, inner_names))

    def _class(
        self,
        node: ast.ClassDef,
        flow: ScopeFlow,
        names: tuple[str, ...],
        stack: list[ast.AST],
        pending: list[tuple[ScopeFlow, list[ast.stmt], tuple[str, ...]]],
    ) -> None:
        flow._bind(node.name, Binding((node.lineno, node.col_offset), BindingKind.DEFINITION, node))
        stack.extend(reversed([*node.decorator_list, *node.bases]))
        inner_names = (*names, node.name)
        class_qualname = ".".join(filter(None, [self.resolver.module, *inner_names]))
        # A class body's own statements (field declarations) run no queries worth tracking;
        # its methods are scopes of their own, enclosed by the scope around the class.
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(item, flow, class_qualname, inner_names, None, pending)
            elif isinstance(item, ast.ClassDef):
                self._class(item, flow, inner_names, stack, pending)

    def parent_of(self, node: ast.AST) -> ast.AST | None:
        source = self.parents_from() if self.parents_from is not None else None
        if source is not None:
            found = source.parents.get(node)
            return None if isinstance(found, ast.Module) else found
        if self.parents is None:
            self.parents = _parents_of(self.tree)
        return self.parents.get(node)

    def flow(self, scope: ScopeNode) -> ScopeFlow:
        if isinstance(scope, ast.Module):
            return self._top
        found = self._flows.get(scope)
        if found is None:
            # A scope the walk didn't reach (a def inside a class body inside a function...).
            found = ScopeFlow(self, scope, self.contexts.get(scope, ScopeContext(None, None, self.resolver.module)))
            self._flows[scope] = found
        return found

    def functions(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        for node in self.contexts:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node


class ScopeFlow:
    __slots__ = (
        "module", "_scope", "resolver", "knowledge", "context", "enclosers", "lambda_calls", "bindings",
        "globals", "calls", "iterated", "subscripts", "attributes", "truth_tests", "returns", "yields",
        "loops", "augmented", "attribute_updates", "_values", "_binding_values", "_call_results", "_events",
        "_in_progress", "_sorted",
    )

    def __init__(self, module: ModuleFlows, scope: ast.FunctionDef | ast.AsyncFunctionDef | None, context: ScopeContext) -> None:
        self.module = module
        # None for the module body: the module node is reached through `module.tree`.
        self._scope = scope
        self.resolver = module.resolver
        self.knowledge = module.knowledge
        self.context = context
        # Names inside comprehensions and lambdas: the enclosing ones, innermost last, each
        # with how many of its generators the name sees (-1 for a lambda).
        self.enclosers = module.enclosers
        self.lambda_calls = module.lambda_calls
        self.bindings: dict[str, list[Binding]] = {}
        self.globals: set[str] = set()
        self.calls: list[ast.Call] = []
        self.iterated: list[ast.expr] = []
        self.subscripts: list[ast.Subscript] = []
        self.attributes: list[ast.Attribute] = []
        self.truth_tests: list[ast.expr] = []
        self.returns: list[ast.expr] = []
        self.yields: list[ast.expr] = []
        self.loops: list[ast.AST] = []
        self.augmented: dict[str, list[ast.AugAssign]] = {}
        # Assignments to an attribute (`acct.balance -= amount`), in source order.
        self.attribute_updates: list[ast.Assign | ast.AugAssign] = []
        self._values = module.values
        self._binding_values = module.binding_values
        self._call_results = module.call_results
        self._events: list[QueryEvent] | None = None
        self._in_progress = module.in_progress
        self._sorted: set[str] = set()

    @property
    def scope(self) -> ScopeNode:
        return self._scope if self._scope is not None else self.module.tree

    def reset(self, knowledge: DataKnowledge) -> None:
        """Forget what was computed with the previous knowledge (ModuleFlows clears the tables)."""
        self.knowledge = knowledge
        self._events = None

    # --- collection (called by ModuleFlows' walk) ----------------------------------------

    def _bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _bind_target(
        self,
        target: ast.expr,
        kind: BindingKind,
        node: ast.AST | None,
        path: tuple[int, ...] = (),
        owner: ast.AST | None = None,
        effective: ast.AST | None = None,
    ) -> None:
        """Bind the names of `target`; the binding takes effect at the end of `effective`.

        `posts = posts.filter(...)` reads the previous `posts` on its right-hand side: the
        new binding starts where the statement (or the iterable, the context manager) ends.
        """
        if isinstance(target, ast.Name):
            anchor = effective if effective is not None else target
            position = (getattr(anchor, "end_lineno", None) or target.lineno, getattr(anchor, "end_col_offset", None) or target.col_offset)
            self._bind(target.id, Binding(position, kind, node, path, owner))
        elif isinstance(target, (ast.Tuple, ast.List)):
            unpack = BindingKind.UNPACK if kind is BindingKind.ASSIGN else kind
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    self._bind_target(element.value, BindingKind.OPAQUE, None, effective=effective)
                else:
                    self._bind_target(element, unpack, node, (*path, index), owner, effective)

    def _bind_parameters(self, scope: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = scope.args
        for extra in (arguments.vararg, arguments.kwarg):
            if extra is not None:
                self._bind(extra.arg, Binding((scope.lineno, 0), BindingKind.OPAQUE, None))
        for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            self._bind(argument.arg, Binding((scope.lineno, 0), BindingKind.PARAM, argument, owner=scope))

    def _note_call(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Call)
        self.calls.append(node)
        for argument in node.args:
            if isinstance(argument, ast.Lambda):
                self.lambda_calls[argument] = node
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Lambda):
                self.lambda_calls[keyword.value] = node

    def _note_attribute(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Attribute)
        if isinstance(node.ctx, ast.Load):
            self.attributes.append(node)

    def _note_assign(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Assign)
        for target in node.targets:
            self._bind_target(target, BindingKind.ASSIGN, node.value, effective=node)
            if isinstance(target, ast.Attribute):
                self.attribute_updates.append(node)

    def _note_annotated(self, node: ast.AST) -> None:
        assert isinstance(node, ast.AnnAssign)
        if node.value is not None:
            self._bind_target(node.target, BindingKind.ASSIGN, node.value, effective=node)
        elif isinstance(node.target, ast.Name):
            # `session: Session` declares what a later assignment holds.
            self._bind(node.target.id, Binding((node.lineno, node.col_offset), BindingKind.PARAM, node))

    def _note_augmented(self, node: ast.AST) -> None:
        assert isinstance(node, ast.AugAssign)
        if isinstance(node.target, ast.Name):
            self.augmented.setdefault(node.target.id, []).append(node)
        elif isinstance(node.target, ast.Attribute):
            self.attribute_updates.append(node)

    def _note_walrus(self, node: ast.AST) -> None:
        assert isinstance(node, ast.NamedExpr)
        self._bind_target(node.target, BindingKind.ASSIGN, node.value, effective=node)

    def _note_for(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.For, ast.AsyncFor))
        self.loops.append(node)
        self.iterated.append(node.iter)
        self._bind_target(node.target, BindingKind.ELEMENT, node.iter, owner=node, effective=node.iter)

    def _note_lambda(self, node: ast.AST) -> None:
        # A lambda may be a map/filter callback: a loop body (see loops.py).
        self.loops.append(node)

    def _note_while(self, node: ast.AST) -> None:
        assert isinstance(node, ast.While)
        self.loops.append(node)
        self.truth_tests.append(node.test)

    def _note_comprehension(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
        self.loops.append(node)
        for generator in node.generators:
            self.iterated.append(generator.iter)

    def _note_with(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.With, ast.AsyncWith))
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, BindingKind.WITH, item.context_expr, effective=item.context_expr)

    def _note_subscript(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Subscript)
        if isinstance(node.ctx, ast.Load):
            self.subscripts.append(node)

    def _note_test(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.If, ast.IfExp))
        self.truth_tests.append(node.test)

    def _note_not(self, node: ast.AST) -> None:
        assert isinstance(node, ast.UnaryOp)
        if isinstance(node.op, ast.Not):
            self.truth_tests.append(node.operand)

    def _note_compare(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Compare)
        for operator, comparator in zip(node.ops, node.comparators):
            if isinstance(operator, (ast.In, ast.NotIn)):
                self.truth_tests.append(comparator)

    def _note_return(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Return)
        if node.value is not None:
            self.returns.append(node.value)

    def _note_yield(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.Yield, ast.YieldFrom))
        if node.value is not None:
            self.yields.append(node.value)

    def _note_global(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.Global, ast.Nonlocal))
        self.globals.update(node.names)

    def _note_handler(self, node: ast.AST) -> None:
        assert isinstance(node, ast.ExceptHandler)
        if node.name:
            self._bind(node.name, Binding((node.lineno, node.col_offset), BindingKind.OPAQUE, None))

    # --- names --------------------------------------------------------------------------

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.module.parent_of(node)

    def binding_at(self, name: str, node: ast.AST) -> Binding | None:
        """The last binding of `name` above `node` in this scope."""
        bindings = self.bindings.get(name)
        if not bindings:
            return None
        position = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if len(bindings) == 1:
            return bindings[0] if bindings[0].position < position else None
        if name not in self._sorted:
            bindings.sort(key=lambda binding: binding.position)
            self._sorted.add(name)
        index = bisect.bisect_left(bindings, position, key=lambda binding: binding.position)
        return bindings[index - 1] if index > 0 else None

    def local_binding(self, node: ast.Name) -> tuple[Binding | None, ast.AST | None]:
        """The binding of a name use: a comprehension or lambda target first, then the scope.

        Returns (binding, loop) where loop is the comprehension / map() call producing the
        name's rows when the name is a comprehension or lambda target.
        """
        chain = self.enclosers.get(node)
        if chain:
            for encloser, limit in reversed(chain):
                if isinstance(encloser, ast.Lambda):
                    if node.id in {argument.arg for argument in encloser.args.args}:
                        iterable, loop = self._lambda_iterable(encloser)
                        if iterable is None:
                            return Binding((0, 0), BindingKind.OPAQUE, None), None
                        return Binding((0, 0), BindingKind.ELEMENT, iterable, owner=loop), loop
                    continue
                generators: list[ast.comprehension] = getattr(encloser, "generators")
                for generator in reversed(generators[:limit]):
                    found = _target_path(generator.target, node.id)
                    if found is not None:
                        return Binding((0, 0), BindingKind.ELEMENT, generator.iter, found, owner=encloser), encloser
        return self.binding_at(node.id, node), None

    def _lambda_iterable(self, node: ast.Lambda) -> tuple[ast.expr | None, ast.AST | None]:
        """`map(lambda p: ..., rows)`: the rows a lambda is applied to, and the call."""
        call = self.lambda_calls.get(node)
        if call is None:
            return None, None
        name = self.resolver.qualified_name(call.func) if isinstance(call.func, ast.Name) else None
        if name in ("map", "filter") and call.args and call.args[0] is node and len(call.args) == 2:
            return call.args[1], call
        if name in ("sorted", "min", "max") and call.args and any(
            keyword.arg == "key" and keyword.value is node for keyword in call.keywords
        ):
            return call.args[0], call
        return None, None

    # --- values -------------------------------------------------------------------------

    def value(self, node: ast.AST | None) -> DataValue | None:
        if node is None:
            return None
        if node in self._values:
            return self._values[node]
        if node in self._in_progress or len(self._in_progress) >= _DEEPEST_VALUE:
            # A cycle, or an expression nested too deep to follow (`f()()()...`): unknown.
            return None
        self._in_progress.add(node)
        try:
            found = self._evaluate(node)
        finally:
            self._in_progress.discard(node)
        self._values[node] = found
        return found

    def _evaluate(self, node: ast.AST) -> DataValue | None:
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Call):
            return self.call_result(node)[0]
        if isinstance(node, ast.Await):
            return self.value(node.value)
        if isinstance(node, ast.Subscript):
            return self.call_result(node)[0]
        if isinstance(node, ast.IfExp):
            return self.value(node.body) or self.value(node.orelse)
        if isinstance(node, ast.BoolOp):
            for operand in node.values:
                found = self.value(operand)
                if found is not None:
                    return found
            return None
        if isinstance(node, ast.NamedExpr):
            return self.value(node.value)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            # `[row for row in rows]` keeps the rows.
            if len(node.generators) == 1 and isinstance(node.elt, ast.Name):
                target = node.generators[0].target
                if isinstance(target, ast.Name) and target.id == node.elt.id:
                    source = self.value(node.generators[0].iter)
                    if source is not None and source.kind in _ROW_SOURCES:
                        return source.but(kind=ValueKind.ROWS, row_of=(0, 0))
            return None
        return None

    def _name(self, node: ast.Name) -> DataValue | None:
        if node.id in self.globals:
            return self._outer_name(node)
        binding, _ = self.local_binding(node)
        if binding is not None:
            found = self._binding_value(binding, node)
            if found is not None and found.kind is ValueKind.INSTANCE and not found.new and self._key_cleared(node, binding):
                # `obj.pk = None` then `obj.save()` inserts a copy: a fresh row from here on.
                return found.but(new=True, locked=False)
            return found
        return self._outer_name(node)

    def _key_cleared(self, use: ast.Name, binding: Binding) -> bool:
        """`name.pk = None` / `name.id = None` between the binding and this use."""
        where = (use.lineno, use.col_offset)
        for update in self.attribute_updates:
            if not isinstance(update, ast.Assign) or not binding.position <= (update.lineno, update.col_offset) < where:
                continue
            if not (isinstance(update.value, ast.Constant) and update.value.value is None):
                continue
            for target in update.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in _KEY_FIELDS
                    and isinstance(target.value, ast.Name)
                    and target.value.id == use.id
                ):
                    return True
        return False

    def _outer_name(self, node: ast.Name) -> DataValue | None:
        """A name this scope does not bind: a closure variable, a module global, an import."""
        enclosing = self.context.enclosing
        while enclosing is not None and not isinstance(enclosing, ast.Module):
            outer = self.module.flow(enclosing)
            binding = outer.binding_at(node.id, _END)
            if binding is not None:
                return outer._binding_value(binding, node)
            enclosing = self.module.contexts[enclosing].enclosing if enclosing in self.module.contexts else None
        if not isinstance(self.scope, ast.Module):
            module_flow = self.module.flow(self.module.tree)
            binding = module_flow.binding_at(node.id, _END)
            if binding is not None and binding.kind is not BindingKind.DEFINITION:
                return module_flow._binding_value(binding, node)
        return self._qualified_value(self.resolver.qualified_name(node))

    def _qualified_value(self, qualname: str | None) -> DataValue | None:
        if qualname is None:
            return None
        if qualname in catalog.DJANGO_CONNECTIONS:
            return DataValue(ValueKind.CONNECTION, DataLayer.DJANGO)
        handle = self.knowledge.handle(qualname)
        if handle is not None:
            return handle
        model = self.knowledge.model(qualname)
        if model is not None:
            return DataValue(ValueKind.MODEL_CLASS, model.layer, model.qualname)
        return None

    def _binding_value(self, binding: Binding, use: ast.AST) -> DataValue | None:
        if binding in self._binding_values:
            return self._binding_values[binding]
        self._binding_values[binding] = None
        found = self._compute_binding_value(binding, use)
        self._binding_values[binding] = found
        return found

    def _compute_binding_value(self, binding: Binding, use: ast.AST) -> DataValue | None:
        kind = binding.kind
        if kind is BindingKind.ASSIGN:
            return self.value(binding.node)
        if kind is BindingKind.UNPACK:
            return self._unpacked(binding.node, binding.path)
        if kind is BindingKind.ELEMENT:
            found = self._element(binding.node, binding.path, binding.owner)
            if found is None and isinstance(use, ast.Name):
                return self._named_like_model(use.id)
            return found
        if kind is BindingKind.WITH:
            return self._entered(binding.node)
        if kind is BindingKind.PARAM:
            return self._parameter(binding.node, use)
        if kind is BindingKind.DEFINITION and isinstance(self.scope, ast.Module) and isinstance(use, ast.Name):
            return self._qualified_value(self.resolver.qualified_name(use))
        return None

    def _named_like_model(self, name: str) -> DataValue | None:
        """`for order in orders:` with an `Order` model: probably an Order (low confidence)."""
        model = self.knowledge.graph.model_named_like(name)
        if model is None:
            return None
        return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False, confidence=_LOW)

    def _unpacked(self, node: ast.AST | None, path: tuple[int, ...]) -> DataValue | None:
        if isinstance(node, (ast.Tuple, ast.List)) and path and path[0] < len(node.elts):
            element = node.elts[path[0]]
            return self.value(element) if len(path) == 1 else self._unpacked(element, path[1:])
        source = self.value(node)
        if source is None:
            return None
        # `obj, created = Model.objects.get_or_create(...)`
        if "pair" in source.operations and path == (0,):
            return source.but(operations=tuple(op for op in source.operations if op != "pair"))
        return None

    def _entered(self, node: ast.AST | None) -> DataValue | None:
        """`with X as name`: what `X.__enter__` gives for database objects."""
        source = self.value(node)
        if source is None:
            return None
        if source.kind is ValueKind.SESSION_FACTORY:
            return source.but(kind=ValueKind.SESSION)
        if source.kind is ValueKind.ENGINE:
            return source.but(kind=ValueKind.CONNECTION)
        return source

    def _element(self, iterable: ast.AST | None, path: tuple[int, ...], loop: ast.AST | None) -> DataValue | None:
        if not isinstance(iterable, ast.expr):
            return None
        row_of = (getattr(loop, "lineno", 0), getattr(loop, "col_offset", 0) + 1) if loop is not None else (0, 0)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            wrapper = self.resolver.qualified_name(iterable.func)
            if wrapper == "enumerate" and iterable.args:
                if path[:1] == (1,):
                    return self._rows_element(self.value(iterable.args[0]), path[1:], row_of)
                return None
            if wrapper == "zip" and path and path[0] < len(iterable.args):
                return self._rows_element(self.value(iterable.args[path[0]]), path[1:], row_of)
            if wrapper in ("reversed", "iter", "list", "sorted", "tuple"):
                if iterable.args:
                    return self._rows_element(self.value(iterable.args[0]), path, row_of)
        return self._rows_element(self.value(iterable), path, row_of)

    def _rows_element(self, source: DataValue | None, path: tuple[int, ...], row_of: Position) -> DataValue | None:
        if source is None or path or source.kind not in _ROW_SOURCES:
            return None
        if not source.entities:
            return None
        return DataValue(
            ValueKind.INSTANCE,
            source.layer,
            source.model,
            eager=source.eager,
            eager_known=source.eager_known,
            locked=source.locked,
            is_async=source.is_async,
            confidence=source.confidence,
            row_of=row_of,
        )

    def _parameter(self, node: ast.AST | None, use: ast.AST) -> DataValue | None:
        if isinstance(node, ast.AnnAssign):
            return self._annotated(node.annotation, None, node.target.id if isinstance(node.target, ast.Name) else "")
        if not isinstance(node, ast.arg):
            return None
        function = self.scope
        default = _default_of(function, node) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_first_parameter(function, node):
            own = self._self_value(node.arg)
            if own is not None:
                return own
        return self._annotated(node.annotation, default, node.arg)

    def _self_value(self, name: str) -> DataValue | None:
        """`self` in a model method is an instance; in a manager or queryset, a query."""
        class_qualname = self.context.class_qualname
        if class_qualname is None or name not in ("self", "cls"):
            return None
        model = self.knowledge.model(class_qualname)
        if model is not None:
            if name == "cls":
                return DataValue(ValueKind.MODEL_CLASS, model.layer, model.qualname)
            return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False)
        if name == "self" and self._derives_from(class_qualname, catalog.DJANGO_MANAGER_BASES):
            return DataValue(ValueKind.QUERY, DataLayer.DJANGO, self.knowledge.graph.managed_model(class_qualname), eager_known=False, confidence=_MEDIUM)
        return None

    def _derives_from(self, class_qualname: str, bases: frozenset[str], depth: int = 0) -> bool:
        if depth > 8:
            return False
        for base in self.knowledge.class_bases(class_qualname):
            if base in bases or self._derives_from(base, bases, depth + 1):
                return True
        return False

    def _annotated(self, annotation: ast.expr | None, default: ast.expr | None, name: str) -> DataValue | None:
        """A parameter's value from its annotation, its `Depends(...)` default or its name."""
        provider = _dependency(default, self.resolver) or _annotated_dependency(annotation, self.resolver)
        if provider is not None:
            provided = self._provided(provider)
            if provided is not None:
                return provided
        if annotation is not None:
            typed = self._typed(annotation)
            if typed is not None:
                return typed
            if not _uninformative(annotation):
                return None
        return _conventional(name, _LOW) or self._named_like_model(name)

    def annotation_value(self, annotation: ast.expr) -> DataValue | None:
        """What a parameter annotated `annotation` holds (a type alias at module level)."""
        found = self._annotated(annotation, None, "")
        return found if found is not None and found.kind in _HANDLE_KINDS else None

    def _provided(self, provider: ast.expr) -> DataValue | None:
        qualname = self.resolver.qualified_name(provider)
        if qualname is None:
            return None
        target = self.knowledge.resolve_function(qualname)
        access = self.knowledge.function_access(target) if target else None
        if access is not None:
            return access.yields or access.result
        return None

    def _typed(self, annotation: ast.expr) -> DataValue | None:
        node = annotation
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._typed(node.left) or self._typed(node.right)
        if isinstance(node, ast.Subscript):
            head = self.resolver.qualified_name(node.value) or ""
            last = head.rpartition(".")[2]
            if last in ("Optional", "Annotated"):
                inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
                return self._typed(inner)
            if last in ("QuerySet", "list", "List", "Sequence", "Iterable", "Iterator", "Manager", "ScalarResult"):
                inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
                element = self._typed(inner)
                if element is not None and element.kind is ValueKind.INSTANCE:
                    kind = ValueKind.QUERY if last in ("QuerySet", "Manager") else ValueKind.ROWS
                    return element.but(kind=kind)
            return None
        qualname = self.resolver.qualified_name(node)
        if qualname is None:
            return None
        alias = self.knowledge.handle(qualname)
        if alias is not None and alias.kind in _HANDLE_KINDS:
            return alias
        if qualname in catalog.SQLALCHEMY_ANNOTATIONS:
            kind, is_async = catalog.SQLALCHEMY_ANNOTATIONS[qualname]
            return DataValue(kind, DataLayer.SQLALCHEMY, is_async=is_async)
        if qualname in catalog.DRIVER_ANNOTATIONS:
            return DataValue(catalog.DRIVER_ANNOTATIONS[qualname], DataLayer.DRIVER, is_async=qualname.startswith(("asyncpg", "aiosqlite", "databases")))
        model = self.knowledge.model(qualname)
        if model is not None:
            return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False)
        last = qualname.rpartition(".")[2]
        if last in ("Session", "AsyncSession", "scoped_session") and not qualname.startswith(_NOT_DATABASE_PACKAGES):
            return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, is_async=last == "AsyncSession", confidence=_MEDIUM)
        return None

    # --- attributes ---------------------------------------------------------------------

    def _attribute(self, node: ast.Attribute) -> DataValue | None:
        base = self.value(node.value)
        if base is None:
            found = self._qualified_value(self._attribute_qualname(node))
            if found is not None:
                return found
            return self._conventional_attribute(node)
        return self.attribute_of(base, node.attr)

    def _attribute_qualname(self, node: ast.Attribute) -> str | None:
        parts = dotted_parts(node)
        if parts is None or len(parts) < 2:
            return None
        # A module attribute (`models.Post`, `extensions.db`) resolves through imports only.
        if parts[0] not in self.resolver.imports:
            return None
        return self.resolver.resolve_parts(parts)

    def _conventional_attribute(self, node: ast.Attribute) -> DataValue | None:
        """`self.session`, `g.db`, `request.dbsession`: a session by convention (low)."""
        if isinstance(node.value, ast.Name) and node.value.id in ("request", "req") and node.attr == "session":
            return None
        if isinstance(node.value, ast.Attribute) and node.value.attr == "request" and node.attr == "session":
            return None
        if node.attr == "session" and isinstance(node.value, ast.Name) and node.value.id in ("db", "database"):
            return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=_MEDIUM)
        if node.attr in ("objects", "_default_manager", "_base_manager"):
            parts = dotted_parts(node.value)
            if parts is not None and parts[-1][:1].isupper():
                qualname = self.resolver.resolve_parts(parts) or ".".join(parts)
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, qualname, confidence=_HIGH)
            if parts is not None and parts[-1] == "model":
                # `self.model.objects`, `queryset.model.objects`.
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, confidence=_MEDIUM)
        return _conventional(node.attr, _LOW)

    def attribute_of(self, base: DataValue, attribute: str) -> DataValue | None:
        kind = base.kind
        if kind is ValueKind.MODEL_CLASS:
            return self._class_attribute(base, attribute)
        if kind is ValueKind.EXTENSION:
            if attribute == "session":
                return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=base.confidence)
            if attribute == "engine":
                return DataValue(ValueKind.ENGINE, DataLayer.SQLALCHEMY, confidence=base.confidence)
            if attribute == "Model":
                return DataValue(ValueKind.DECLARATIVE_BASE, DataLayer.SQLALCHEMY)
            return None
        if kind is ValueKind.INSTANCE:
            return self._relation_value(base, attribute)
        if kind is ValueKind.SESSION and attribute == "bind":
            return base.but(kind=ValueKind.ENGINE)
        if kind is ValueKind.CONNECTION and attribute == "connection":
            return base
        return None

    def _class_attribute(self, base: DataValue, attribute: str) -> DataValue | None:
        model = self.knowledge.model(base.model)
        if base.layer is DataLayer.DJANGO or (model is not None and model.layer is DataLayer.DJANGO):
            if attribute in ("objects", "_default_manager", "_base_manager"):
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, base.model, confidence=base.confidence)
            if model is not None and attribute in model.managers:
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, base.model, confidence=base.confidence, operations=(f"manager:{attribute}",))
            return None
        if attribute == "query":
            # Flask-SQLAlchemy's legacy `Model.query`.
            return DataValue(ValueKind.QUERY, DataLayer.SQLALCHEMY, base.model, confidence=base.confidence)
        return None

    def relation_of(self, instance: DataValue, attribute: str) -> Relation | None:
        if not instance.model or attribute not in self.knowledge.graph.relation_names:
            return None
        model = self.knowledge.model(instance.model)
        if model is None:
            return None
        return model.relations.get(attribute)

    def _relation_value(self, instance: DataValue, attribute: str) -> DataValue | None:
        relation = self.relation_of(instance, attribute)
        if relation is None:
            return None
        eager = _sub_eager(instance.eager, relation)
        loaded = relation_loaded(instance, relation)
        common = {
            "eager": eager,
            "eager_known": instance.eager_known,
            "row_of": instance.row_of,
            "relation": relation.name,
            "relation_owner": instance.model,
            "is_async": instance.is_async,
            "confidence": instance.confidence,
            "locked": False,
        }
        if relation.is_manager:
            return DataValue(ValueKind.RELATED_MANAGER, instance.layer, relation.target, loaded=loaded, **common)  # type: ignore[arg-type]
        if relation.many:
            return DataValue(ValueKind.ROWS, instance.layer, relation.target, loaded=True, **common)  # type: ignore[arg-type]
        return DataValue(ValueKind.INSTANCE, instance.layer, relation.target, **common)  # type: ignore[arg-type]

    # --- calls --------------------------------------------------------------------------

    def call_result(self, node: ast.Call | ast.Subscript) -> tuple[DataValue | None, QueryEvent | None]:
        found = self._call_results.get(node)
        if found is None:
            if node in self._in_progress and node in self._call_results:
                return self._call_results[node]
            self._call_results[node] = (None, None)
            found = self._subscript(node) if isinstance(node, ast.Subscript) else self._call(node)
            self._call_results[node] = found
        return found

    def _call(self, call: ast.Call) -> tuple[DataValue | None, QueryEvent | None]:
        func = call.func
        if isinstance(func, ast.Attribute):
            receiver = self.value(func.value)
            if receiver is not None:
                return self._method(call, func.attr, receiver)
            qualname = self._attribute_qualname(func)
            if qualname is not None:
                return self._function(call, qualname)
            return self._unknown_method(call, func)
        if isinstance(func, ast.Name):
            binding, _ = self.local_binding(func)
            if binding is None or binding.kind is BindingKind.DEFINITION:
                qualname = self.resolver.qualified_name(func)
                module_binding = None
                if binding is None and not isinstance(self.scope, ast.Module):
                    module_binding = self.module.flow(self.module.tree).binding_at(func.id, _END)
                if qualname is not None and (module_binding is None or module_binding.kind is BindingKind.DEFINITION):
                    return self._function(call, qualname)
        callee = self.value(func)
        if callee is None:
            return None, None
        if callee.kind is ValueKind.SESSION_FACTORY:
            return callee.but(kind=ValueKind.SESSION), None
        if callee.kind is ValueKind.MODEL_CLASS:
            return DataValue(ValueKind.INSTANCE, callee.layer, callee.model, new=True), None
        if callee.kind is ValueKind.SESSION:
            # A `scoped_session` registry called for its session.
            return callee, None
        return None, None

    def _function(self, call: ast.Call, qualname: str) -> tuple[DataValue | None, QueryEvent | None]:
        if qualname in catalog.SQLALCHEMY_CONSTRUCTORS:
            kind, is_async = catalog.SQLALCHEMY_CONSTRUCTORS[qualname]
            return DataValue(kind, DataLayer.SQLALCHEMY, is_async=is_async), None
        if qualname in catalog.FLASK_SQLALCHEMY_CLASSES:
            return DataValue(ValueKind.EXTENSION, DataLayer.SQLALCHEMY), None
        if qualname in catalog.SQLALCHEMY_BASE_FACTORIES:
            return DataValue(ValueKind.DECLARATIVE_BASE, DataLayer.SQLALCHEMY), None
        if qualname in catalog.SQLALCHEMY_SELECT:
            return self._select(call), None
        if qualname in catalog.SQLALCHEMY_WRITE_STATEMENTS:
            model = self._model_argument(call.args[0]) if call.args else ""
            return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, model, writes=True, entities=False), None
        if qualname in catalog.SQLALCHEMY_TEXT:
            return self._text(call), None
        if qualname in catalog.DRIVER_CONNECT:
            return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER, is_async=catalog.DRIVER_CONNECT[qualname]), None
        if qualname in catalog.DJANGO_SHORTCUTS:
            return self._shortcut(call, qualname)
        if qualname in catalog.DJANGO_GET_MODEL:
            reference = _model_reference(call)
            if reference:
                referenced = self.knowledge.model(reference)
                return DataValue(ValueKind.MODEL_CLASS, DataLayer.DJANGO, referenced.qualname if referenced else reference), None
            return None, None
        if qualname in BUILTIN_NAMES:
            return self._builtin(call, qualname)
        if qualname in _COPIES and call.args:
            original = self.value(call.args[0])
            if original is not None and original.kind is ValueKind.INSTANCE:
                # A clone: the object this function builds to save as a new row (cloning
                # code clears its key), not the row another request reads and writes.
                return original.but(new=True, locked=False, row_of=(0, 0)), None
            return None, None
        constructed = self.knowledge.model(qualname)
        if constructed is not None:
            return DataValue(ValueKind.INSTANCE, constructed.layer, constructed.qualname, new=True), None
        handle = self.knowledge.handle(qualname)
        if handle is not None and handle.kind is ValueKind.SESSION_FACTORY:
            return handle.but(kind=ValueKind.SESSION), None
        if handle is not None and handle.kind is ValueKind.SESSION:
            return handle, None
        target = self.knowledge.resolve_function(qualname)
        if target is not None:
            access = self.knowledge.function_access(target)
            if access is not None and access.result is not None:
                return access.result, None
        return None, None

    def _builtin(self, call: ast.Call, name: str) -> tuple[DataValue | None, QueryEvent | None]:
        if name not in _EVALUATING_BUILTINS or not call.args:
            return None, None
        argument = call.args[0]
        source = self.value(argument)
        if source is None:
            return None, None
        if source.kind in _LAZY_KINDS:
            event = self._evaluation(call, argument, source, f"{name}()")
            if name in ("list", "tuple", "sorted", "set", "frozenset"):
                return source.but(kind=ValueKind.ROWS, operations=(*source.operations, f"{name}()")), event
            return None, event
        if source.kind is ValueKind.ROWS and name in ("list", "tuple", "sorted"):
            return source, None
        return None, None

    def _unknown_method(self, call: ast.Call, func: ast.Attribute) -> tuple[DataValue | None, QueryEvent | None]:
        """`self.get_queryset()` in a view: what the project method returns."""
        class_qualname = self.context.class_qualname
        if class_qualname is None or not (isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")):
            return None, None
        method = self.knowledge.method(class_qualname, func.attr)
        access = self.knowledge.function_access(method) if method else None
        if access is not None and access.result is not None:
            return access.result, None
        return None, None

    # --- methods by receiver ------------------------------------------------------------

    def _method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        kind = receiver.kind
        if kind in (ValueKind.MANAGER, ValueKind.QUERY, ValueKind.RELATED_MANAGER) and receiver.layer is DataLayer.DJANGO:
            return self._django_query(call, name, receiver)
        if kind is ValueKind.QUERY or (kind is ValueKind.RELATED_MANAGER and receiver.layer is DataLayer.SQLALCHEMY):
            return self._sqlalchemy_query(call, name, receiver)
        if kind is ValueKind.STATEMENT:
            if name in catalog.STATEMENT_CHAIN:
                return self._chained_statement(call, name, receiver), None
            return None, None
        if kind is ValueKind.INSTANCE:
            return self._instance_method(call, name, receiver)
        if kind is ValueKind.ROWS:
            return self._rows_method(name, receiver), None
        if kind is ValueKind.SESSION:
            return self._session_method(call, name, receiver)
        if kind is ValueKind.SESSION_FACTORY:
            if name in ("begin", "__call__"):
                return receiver.but(kind=ValueKind.SESSION), None
            return None, None
        if kind is ValueKind.ENGINE:
            if name in ("connect", "begin"):
                return receiver.but(kind=ValueKind.CONNECTION), None
            if name == "raw_connection":
                return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER), None
            if name in ("execute", "scalar", "scalars", "exec_driver_sql"):
                return self._execute(call, name, receiver)
            return None, None
        if kind is ValueKind.CONNECTION:
            return self._connection_method(call, name, receiver)
        if kind is ValueKind.CURSOR:
            return self._cursor_method(call, name, receiver)
        if kind is ValueKind.EXTENSION:
            return self._extension_method(call, name, receiver)
        if kind is ValueKind.MODEL_CLASS:
            return None, None
        return None, None

    def _django_query(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        plain = catalog.django_async_name(name)
        is_async = plain != name
        related = receiver.kind is ValueKind.RELATED_MANAGER
        if related and plain in catalog.DJANGO_RELATED_WRITE:
            return self._write(call, receiver, plain)
        if plain in catalog.DJANGO_CHAIN:
            return self._chained_django(call, plain, receiver), None
        if plain in catalog.DJANGO_READ:
            result_kind = catalog.DJANGO_READ[plain]
            event = self._evaluation(call, call.func, receiver, plain, is_async=is_async)
            if result_kind is ValueKind.INSTANCE and receiver.entities:
                return receiver.but(kind=ValueKind.INSTANCE, operations=(), loaded=False, relation="", relation_owner="", row_of=receiver.row_of if related else (0, 0)), event
            if result_kind is ValueKind.ROWS:
                return receiver.but(kind=ValueKind.ROWS), event
            return None, event
        if plain in catalog.DJANGO_WRITE:
            value, event = self._write(call, receiver, plain)
            if plain in ("create",):
                return DataValue(ValueKind.INSTANCE, DataLayer.DJANGO, receiver.model, new=True), event
            if plain in ("get_or_create", "update_or_create"):
                return DataValue(ValueKind.INSTANCE, DataLayer.DJANGO, receiver.model, operations=("pair",), locked=receiver.locked), event
            return value, event
        return self._custom_manager_method(call, plain, receiver)

    def _custom_manager_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        """A method of a project manager or queryset class: what its facts say, else lazy."""
        collection = self._own_collection_method(call, name)
        if collection is not None:
            # `self._filters(...)` returning a list (of `Q` objects...): not a queryset.
            queries = any(event.kind is QueryKind.READ for event in self.module.flow(collection).events())
            return None, self._evaluation(call, call.func, receiver, name) if queries else None
        func = call.func
        own = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
        # A manager's call of its own method is judged as before its model was known: lazy.
        access = None if own else self._manager_method_access(receiver, name)
        if access is not None:
            reads = [site for site in access.queries if site.kind is QueryKind.READ]
            writes = [site for site in access.queries if site.kind is QueryKind.WRITE]
            if access.result is not None and access.result.kind in (ValueKind.QUERY, ValueKind.MANAGER):
                merged = receiver.but(
                    kind=ValueKind.QUERY,
                    eager=_merge_eager(receiver.eager, access.result.eager),
                    operations=(*receiver.operations, name),
                    locked=receiver.locked or access.result.locked,
                )
                return merged, None
            if writes:
                return self._write(call, receiver, name)
            if reads:
                event = self._evaluation(call, call.func, receiver, name)
                if access.result is not None and access.result.kind is ValueKind.INSTANCE:
                    return receiver.but(kind=ValueKind.INSTANCE, operations=()), event
                return None, event
            return access.result, None
        if receiver.kind is ValueKind.RELATED_MANAGER:
            return None, None
        # Unknown: most custom manager methods refine the queryset; assume lazy.
        return receiver.but(kind=ValueKind.QUERY, operations=(*receiver.operations, name), confidence=_lowered(receiver.confidence)), None

    def _own_collection_method(self, call: ast.Call, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """`self._filters(...)` in a manager or queryset class, when that method of this module
        returns only list, tuple, set or dict displays (or names bound to them)."""
        func = call.func
        class_qualname = self.context.class_qualname
        if class_qualname is None or not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"):
            return None
        qualname = f"{class_qualname}.{name}"
        method = next(
            (node for node, context in self.module.contexts.items()
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and context.qualname == qualname),
            None,
        )
        if method is None:
            return None
        flow = self.module.flow(method)
        if not flow.returns:
            return None
        for value in flow.returns:
            values: list[ast.AST | None] = [value]
            if isinstance(value, ast.Name):
                values = [binding.node for binding in flow.bindings.get(value.id, [])]
            if not values or not all(isinstance(item, _COLLECTION_DISPLAYS) for item in values):
                return None
        return method

    def _manager_method_access(self, receiver: DataValue, name: str) -> FunctionDataAccess | None:
        model = self.knowledge.model(receiver.model) if receiver.model else None
        if model is None:
            return None
        manager_name = next((op[len("manager:"):] for op in receiver.operations if op.startswith("manager:")), "objects")
        manager = model.managers.get(manager_name)
        if manager is None:
            return None
        for owner in (manager.manager_class, manager.queryset_class):
            if not owner:
                continue
            method = self.knowledge.method(owner, name)
            if method is not None:
                access = self.knowledge.function_access(method)
                if access is not None:
                    return access
        return None

    def _chained_django(self, call: ast.Call, name: str, receiver: DataValue) -> DataValue:
        eager = receiver.eager
        entities = receiver.entities
        locked = receiver.locked
        loaded = receiver.loaded
        if name == "select_related":
            eager = _merge_eager(eager, _django_select_related(call))
        elif name == "prefetch_related":
            if any(isinstance(argument, ast.Constant) and argument.value is None for argument in call.args):
                eager = ()
            else:
                eager = _merge_eager(eager, self._django_prefetch(call))
        elif name in ("values", "values_list"):
            entities = False
        elif name == "select_for_update":
            locked = True
        elif name == "raw":
            entities = True
        if name != "all":
            # A prefetched relation answers `.all()` from memory; anything else is a new query.
            loaded = False
        return receiver.but(
            kind=ValueKind.QUERY if receiver.kind is not ValueKind.RELATED_MANAGER else ValueKind.RELATED_MANAGER,
            eager=eager,
            entities=entities,
            locked=locked,
            loaded=loaded,
            operations=(*receiver.operations, name),
        )

    def _django_prefetch(self, call: ast.Call) -> tuple[str, ...]:
        paths: list[str] = []
        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                paths.extend(_prefixes(argument.value.replace("__", ".")))
            elif isinstance(argument, ast.Call):
                name = self.resolver.qualified_name(argument.func)
                if name in catalog.DJANGO_PREFETCH or (name or "").endswith(".Prefetch"):
                    paths.extend(self._prefetch_object(argument))
            else:
                # A Prefetch object built earlier.
                source = argument
                if isinstance(source, ast.Name):
                    binding = self.binding_at(source.id, source)
                    if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Call):
                        paths.extend(self._prefetch_object(binding.node))
        return tuple(paths)

    def _prefetch_object(self, call: ast.Call) -> list[str]:
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        lookup = call.args[0] if call.args else keywords.get("lookup")
        if not (isinstance(lookup, ast.Constant) and isinstance(lookup.value, str)):
            return [EVERY_RELATION]
        path = lookup.value.replace("__", ".")
        found = _prefixes(path)
        to_attr = keywords.get("to_attr")
        queryset = keywords.get("queryset") or (call.args[1] if len(call.args) > 1 else None)
        nested = self.value(queryset) if queryset is not None else None
        attribute_path = path
        if isinstance(to_attr, ast.Constant) and isinstance(to_attr.value, str):
            head = path.rpartition(".")[0]
            attribute_path = f"{head}.{to_attr.value}" if head else to_attr.value
            found.append(attribute_path)
        if nested is not None:
            found.extend(f"{attribute_path}.{sub}" for sub in nested.eager)
            if attribute_path != path:
                found.extend(f"{path}.{sub}" for sub in nested.eager)
        return found

    def _write(self, call: ast.Call, receiver: DataValue, name: str) -> tuple[DataValue | None, QueryEvent | None]:
        event = QueryEvent(
            call,
            QueryKind.WRITE,
            receiver.layer,
            name,
            _text(call),
            receiver.model,
            receiver.confidence,
            receiver,
            bulk_alternative=catalog.DJANGO_BULK_ALTERNATIVE.get(name, ""),
        )
        return None, event

    def _evaluation(
        self,
        node: ast.AST,
        receiver_node: ast.AST,
        receiver: DataValue,
        operation: str,
        is_async: bool = False,
    ) -> QueryEvent | None:
        """A read that evaluates a lazy query or relation, or None when nothing runs."""
        relation = None
        if receiver.kind is ValueKind.RELATED_MANAGER:
            served = operation in catalog.DJANGO_PREFETCH_SERVED or (
                operation == "iteration" and receiver.loaded
            )
            if receiver.loaded and served:
                return None
            root = self._relation_root(receiver_node)
            if root is not None:
                relation = RelationRead(
                    root,
                    receiver.relation,
                    receiver.relation_owner,
                    receiver.model,
                    receiver.row_of,
                    bypasses_prefetch=self._prefetched(root),
                )
        if isinstance(node, ast.Call) and not operation.endswith("()"):
            text = _text(node)
        else:
            text = _clip(_unparse(node))
        return QueryEvent(node, QueryKind.READ, receiver.layer, operation, text, receiver.model, receiver.confidence, receiver, relation)

    def _prefetched(self, root: ast.Attribute) -> bool:
        owner = self.value(root.value)
        if owner is None:
            return False
        relation = self.relation_of(owner, root.attr)
        return relation is not None and relation_loaded(owner, relation)

    def _relation_root(self, node: ast.AST) -> ast.Attribute | None:
        """The `post.comments` attribute under `post.comments.filter(...).count`."""
        current: ast.AST | None = node
        for _ in range(32):
            if isinstance(current, ast.Attribute):
                value = self.value(current)
                base = self.value(current.value)
                if value is not None and value.kind is ValueKind.RELATED_MANAGER and base is not None and base.kind is ValueKind.INSTANCE:
                    return current
                current = current.value
            elif isinstance(current, ast.Call):
                current = current.func
            elif isinstance(current, (ast.Subscript, ast.Await)):
                current = current.value
            elif isinstance(current, ast.Name):
                # `offers = voucher.offers.all()` then `for offer in offers:`.
                binding, _ = self.local_binding(current)
                if binding is None or binding.kind is not BindingKind.ASSIGN:
                    return None
                current = binding.node
            else:
                return None
        return None

    def _sqlalchemy_query(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.SQLA_QUERY_CHAIN:
            eager, locked = receiver.eager, receiver.locked
            if name == "options":
                eager = self._apply_options(eager, call)
            elif name == "with_for_update":
                locked = True
            return receiver.but(kind=ValueKind.QUERY if receiver.kind is ValueKind.QUERY else receiver.kind, eager=eager, locked=locked, operations=(*receiver.operations, name), loaded=False), None
        if name in catalog.SQLA_QUERY_READ:
            event = self._evaluation(call, call.func, receiver, name)
            result_kind = catalog.SQLA_QUERY_READ[name]
            if result_kind is ValueKind.INSTANCE and receiver.entities:
                return receiver.but(kind=ValueKind.INSTANCE, operations=(), relation="", row_of=(0, 0)), event
            if result_kind is ValueKind.ROWS:
                return receiver.but(kind=ValueKind.ROWS, operations=(*receiver.operations, name)), event
            return None, event
        if name in catalog.SQLA_QUERY_WRITE:
            event = QueryEvent(call, QueryKind.WRITE, DataLayer.SQLALCHEMY, name, _text(call), receiver.model, receiver.confidence, receiver, bulk_alternative="one query-level update()/delete() over all the rows")
            return None, event
        if receiver.kind is ValueKind.RELATED_MANAGER and name in ("append", "remove", "extend", "add", "add_all"):
            return None, None
        return None, None

    def _apply_options(self, eager: tuple[str, ...], call: ast.Call) -> tuple[str, ...]:
        loaded: list[str] = list(eager)
        for option in call.args:
            for path, mode in self._loader_paths(option):
                if mode == "eager":
                    loaded.append(path)
                elif mode == "lazy":
                    loaded = [item for item in loaded if item != path]
        return _normal_eager(loaded)

    def _loader_paths(self, option: ast.expr) -> list[tuple[str, str]]:
        """`joinedload(User.orders).selectinload(Order.items)` -> [("orders", "eager"), ("orders.items", "eager")]."""
        if isinstance(option, ast.Name):
            binding = self.binding_at(option.id, option)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                return self._loader_paths(binding.node)
            return []
        if isinstance(option, ast.Starred):
            return [(EVERY_RELATION, "eager")] if isinstance(option.value, (ast.Name, ast.ListComp, ast.Call)) else []
        if not isinstance(option, ast.Call):
            return []
        func = option.func
        loader = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        prefix = ""
        found: list[tuple[str, str]] = []
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            # A chained loader: the path continues from the inner one.
            inner = self._loader_paths(func.value)
            found.extend(inner)
            if inner:
                prefix = inner[-1][0]
        if loader == "Load":
            return found
        steps = [_relation_step(argument) for argument in option.args]
        steps = [step for step in steps if step]
        if not steps:
            return found
        if steps == ["*"]:
            if loader in catalog.EAGER_LOADERS or loader in catalog.NO_LOAD_LOADERS:
                return [*found, (EVERY_RELATION if not prefix else f"{prefix}.{EVERY_RELATION}", "eager")]
            return found
        # One call naming several steps (`joinedload(A.b, B.c)`, `"b.c"`) loads each of them.
        expanded = [step for text in steps for step in text.split(".")]
        path = ".".join(filter(None, [prefix, *expanded]))
        if loader in catalog.EAGER_LOADERS or loader in catalog.NO_LOAD_LOADERS:
            for size in range(1, len(expanded) + 1):
                found.append((".".join(filter(None, [prefix, *expanded[:size]])), "eager"))
        elif loader == "lazyload":
            found.append((path, "lazy"))
        else:
            found.append((path, "path"))
        return found

    def _chained_statement(self, call: ast.Call, name: str, receiver: DataValue) -> DataValue:
        if name == "options":
            return receiver.but(eager=self._apply_options(receiver.eager, call), operations=(*receiver.operations, name))
        if name == "with_for_update":
            return receiver.but(locked=True, operations=(*receiver.operations, name))
        return receiver.but(operations=(*receiver.operations, name))

    def _select(self, call: ast.Call) -> DataValue:
        models = [self._model_argument(argument) for argument in call.args]
        single = len(models) == 1 and bool(models[0])
        return DataValue(
            ValueKind.STATEMENT,
            DataLayer.SQLALCHEMY,
            models[0] if single else "",
            entities=single,
        )

    def _model_argument(self, node: ast.expr) -> str:
        value = self.value(node)
        if value is not None and value.kind is ValueKind.MODEL_CLASS:
            return value.model
        if isinstance(node, (ast.Name, ast.Attribute)):
            qualname = self.resolver.qualified_name(node)
            parts = dotted_parts(node)
            # A class-looking name the graph doesn't know (a model in another file).
            if parts is not None and parts[-1][:1].isupper() and not parts[-1].isupper():
                return qualname or ".".join(parts)
        return ""

    def _text(self, call: ast.Call) -> DataValue:
        sql = sql_of_literal(call.args[0]) if call.args else None
        return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, writes=bool(sql and statement_writes(sql)), entities=False)

    def _shortcut(self, call: ast.Call, qualname: str) -> tuple[DataValue | None, QueryEvent | None]:
        source = self.value(call.args[0]) if call.args else None
        model = source.model if source is not None else ""
        receiver = source if source is not None and source.kind in (ValueKind.QUERY, ValueKind.MANAGER) else DataValue(ValueKind.MANAGER, DataLayer.DJANGO, model)
        event = QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, qualname.rpartition(".")[2], _text(call), model, _HIGH, receiver)
        kind = catalog.DJANGO_SHORTCUTS[qualname]
        return receiver.but(kind=kind, operations=()), event

    def _instance_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if receiver.layer is not DataLayer.DJANGO:
            return self._model_method_result(name, receiver), None
        plain = catalog.django_async_name(name)
        if plain in catalog.DJANGO_INSTANCE_WRITE:
            return self._write(call, receiver, plain)
        if plain in catalog.DJANGO_INSTANCE_READ:
            event = QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, plain, _text(call), receiver.model, receiver.confidence, receiver)
            return None, event
        return self._model_method_result(name, receiver), None

    def _model_method_result(self, name: str, receiver: DataValue) -> DataValue | None:
        """`post.published_comments()`: what the project's model method returns."""
        if not receiver.model:
            return None
        method = self.knowledge.method(receiver.model, name)
        access = self.knowledge.function_access(method) if method else None
        return access.result if access is not None else None

    def _rows_method(self, name: str, receiver: DataValue) -> DataValue | None:
        if name not in catalog.RESULT_METHODS:
            return None
        result_kind = catalog.RESULT_METHODS[name]
        if name == "scalars":
            return receiver.but(entities=bool(receiver.model))
        if result_kind is ValueKind.ROWS:
            return receiver.but(operations=(*receiver.operations, name))
        entity = receiver.entities or (name.startswith("scalar") and bool(receiver.model))
        if result_kind is ValueKind.INSTANCE and entity:
            return receiver.but(kind=ValueKind.INSTANCE, operations=(), row_of=(0, 0), loaded=False)
        return None

    def _session_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        conventional = receiver.confidence is not _HIGH
        if name == "query":
            if conventional and not (call.args and _looks_like_class(call.args[0])):
                return None, None
            models = [self._model_argument(argument) for argument in call.args]
            single = len(models) == 1 and bool(models[0])
            return DataValue(ValueKind.QUERY, DataLayer.SQLALCHEMY, models[0] if single else "", entities=single, is_async=receiver.is_async, confidence=receiver.confidence), None
        if name in catalog.SESSION_EXECUTE:
            return self._execute(call, name, receiver)
        if name in catalog.SESSION_READ:
            if name in ("get", "get_one") and not (len(call.args) >= 2 and _looks_like_class(call.args[0])):
                return None, None
            if name == "refresh" and conventional:
                return None, None
            if name == "exec":
                return self._execute(call, name, receiver)
            statement = self.value(call.args[0]) if call.args else None
            model = ""
            eager: tuple[str, ...] = ()
            locked = any(keyword.arg == "with_for_update" and not _is_false(keyword.value) for keyword in call.keywords)
            if name in ("get", "get_one"):
                model = self._model_argument(call.args[0])
            elif statement is not None and statement.kind is ValueKind.STATEMENT:
                model, eager, locked = statement.model, statement.eager, statement.locked
            event = QueryEvent(call, QueryKind.READ, DataLayer.SQLALCHEMY, name, _text(call), model, receiver.confidence, receiver)
            result_kind = catalog.SESSION_READ[name]
            if result_kind is None or not model:
                return None, event
            return DataValue(result_kind, DataLayer.SQLALCHEMY, model, eager=eager, locked=locked, is_async=receiver.is_async, entities=True, confidence=receiver.confidence), event
        if name in catalog.SESSION_WRITE:
            if call.args and name in ("commit", "flush") and conventional:
                return None, None
            event = QueryEvent(call, QueryKind.WRITE, DataLayer.SQLALCHEMY, name, _text(call), "", receiver.confidence, receiver, bulk_alternative=catalog.SESSION_WRITE[name])
            return None, event
        if name in ("begin", "begin_nested", "__enter__"):
            return receiver, None
        if name == "connection":
            return receiver.but(kind=ValueKind.CONNECTION), None
        if conventional:
            # A conventionally named handle may as well be a DB-API connection (`g.db`).
            return self._connection_method(call, name, receiver.but(kind=ValueKind.CONNECTION, layer=DataLayer.DRIVER))
        return None, None

    def _execute(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        argument = call.args[0] if call.args else next(
            (keyword.value for keyword in call.keywords if keyword.arg in ("statement", "sql", "query", "operation")), None
        )
        statement = self.value(argument) if argument is not None else None
        writes = False
        model = ""
        eager: tuple[str, ...] = ()
        entities = False
        locked = False
        if statement is not None and statement.kind in (ValueKind.STATEMENT, ValueKind.QUERY):
            writes = statement.writes
            model, eager, locked = statement.model, statement.eager, statement.locked
            entities = statement.entities and name == "exec"
        elif argument is not None:
            sql = self.sql_text(argument)
            writes = bool(sql and statement_writes(sql)) or self._table_write(argument)
        elif receiver.confidence is not _HIGH:
            return None, None
        kind = QueryKind.WRITE if writes else QueryKind.READ
        bulk = "one executemany() call (or an INSERT ... VALUES of all the rows)" if writes else ""
        if receiver.layer is DataLayer.SQLALCHEMY and writes:
            bulk = "one execute() with a list of parameter sets, or insert()/update() with all the rows"
        event = QueryEvent(call, kind, receiver.layer, name, _text(call), model, receiver.confidence, receiver, bulk_alternative=bulk)
        if name == "scalar":
            return (DataValue(ValueKind.INSTANCE, DataLayer.SQLALCHEMY, model, eager=eager, locked=locked) if model else None), event
        if name == "scalars":
            return DataValue(ValueKind.ROWS, DataLayer.SQLALCHEMY, model, eager=eager, entities=bool(model), locked=locked, is_async=receiver.is_async), event
        return DataValue(ValueKind.ROWS, receiver.layer, model, eager=eager, entities=entities, locked=locked, is_async=receiver.is_async, confidence=receiver.confidence, operations=("execute",)), event

    def _table_write(self, node: ast.expr, depth: int = 0) -> bool:
        """`table.update().where(...).values(...)`, `Model.__table__.insert()`: a Core write."""
        current: ast.expr = node
        if isinstance(current, ast.Name) and depth < 3:
            binding = self.binding_at(current.id, current)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                return self._table_write(binding.node, depth + 1)
            return False
        while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            if current.func.attr in ("insert", "update", "delete") and not current.args:
                return True
            current = current.func.value
        return False

    def sql_text(self, node: ast.expr, depth: int = 0, before: ast.AST | None = None) -> str | None:
        """The SQL text of a literal, or of a name bound to one (its constant start).

        `before` is where a name is looked up from: a name inside the value of its own
        assignment (`sql = f"{sql} WHERE ..."`) means the binding above that assignment.
        """
        if depth > 4:
            return None
        head: ast.expr | None = None
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.FormattedValue):
            head = node.values[0].value
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) and isinstance(node.left, ast.Name):
            head = node.left
        if isinstance(head, ast.Name):
            # `f"{base_sql} WHERE ..."`, `base_sql + " WHERE ..."`: the text starts with a name's.
            start = self.sql_text(head, depth + 1, before)
            if start is not None:
                return start
        found = sql_of_literal(node)
        if found is not None:
            return found
        if isinstance(node, ast.Name):
            binding = self.binding_at(node.id, before if before is not None else node)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                marker = ast.Pass(lineno=binding.position[0], col_offset=binding.position[1])
                return self.sql_text(binding.node, depth + 1, marker)
            if binding is None and not isinstance(self.scope, ast.Module):
                module_flow = self.module.flow(self.module.tree)
                module_binding = module_flow.binding_at(node.id, _END)
                if module_binding is not None and isinstance(module_binding.node, ast.expr) and module_binding.kind is BindingKind.ASSIGN:
                    return module_flow.sql_text(module_binding.node, depth + 1)
        return None

    def _connection_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.CURSOR_METHODS:
            return receiver.but(kind=ValueKind.CURSOR), None
        if name in catalog.ACQUIRE_METHODS:
            return receiver.but(kind=ValueKind.CONNECTION), None
        if name in catalog.EXECUTE_METHODS or (name in ("scalar", "scalars") and receiver.layer is DataLayer.SQLALCHEMY):
            return self._execute(call, name, receiver)
        if name in catalog.EXECUTE_MANY_METHODS:
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return None, event
        if name in catalog.CONNECTION_READ:
            argument = call.args[0] if call.args else None
            if receiver.confidence is not _HIGH and (argument is None or self.sql_text(argument) is None and self.value(argument) is None):
                return None, None
            sql = self.sql_text(argument) if argument is not None else None
            kind = QueryKind.WRITE if sql and statement_writes(sql) else QueryKind.READ
            event = QueryEvent(call, kind, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return DataValue(ValueKind.ROWS, receiver.layer, entities=False), event
        if name == "commit":
            if receiver.confidence is not _HIGH and call.args:
                return None, None
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver, bulk_alternative="one commit() after the loop")
            return None, event
        return None, None

    def _cursor_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.EXECUTE_METHODS or name == "callproc":
            value, event = self._execute(call, name, receiver)
            return receiver, event
        if name in catalog.EXECUTE_MANY_METHODS:
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return receiver, event
        if name in ("fetchall", "fetchmany"):
            return DataValue(ValueKind.ROWS, receiver.layer, entities=False), None
        return None, None

    def _extension_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.EXTENSION_STATEMENTS:
            if name == "select":
                return self._select(call), None
            if name == "text":
                return self._text(call), None
            model = self._model_argument(call.args[0]) if call.args else ""
            return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, model, writes=True, entities=False), None
        if name in catalog.EXTENSION_READ:
            statement = self.value(call.args[0]) if call.args else None
            model = ""
            eager: tuple[str, ...] = ()
            if name == "get_or_404" and call.args:
                model = self._model_argument(call.args[0])
            elif statement is not None:
                model, eager = statement.model, statement.eager
            event = QueryEvent(call, QueryKind.READ, DataLayer.SQLALCHEMY, name, _text(call), model, receiver.confidence, receiver)
            kind = catalog.EXTENSION_READ[name]
            return (DataValue(kind, DataLayer.SQLALCHEMY, model, eager=eager) if model else None), event
        return None, None

    # --- subscripts ---------------------------------------------------------------------

    def _subscript(self, node: ast.Subscript) -> tuple[DataValue | None, QueryEvent | None]:
        source = self.value(node.value)
        if source is None:
            return None, None
        index = node.slice
        if source.kind in _LAZY_KINDS:
            if isinstance(index, ast.Slice):
                lazy = index.step is None and (source.layer is DataLayer.DJANGO)
                if lazy:
                    return source.but(kind=ValueKind.QUERY if source.kind is ValueKind.QUERY else source.kind, operations=(*source.operations, "slice"), loaded=False), None
                event = self._evaluation(node, node.value, source, "slice[::step]" if index.step is not None else "slice")
                return source.but(kind=ValueKind.ROWS, operations=(*source.operations, "slice")), event
            event = self._evaluation(node, node.value, source, "index")
            if source.entities:
                return source.but(kind=ValueKind.INSTANCE, operations=(), loaded=False, row_of=(0, 0)), event
            return None, event
        if source.kind is ValueKind.ROWS:
            if isinstance(index, ast.Slice):
                return source, None
            if source.entities:
                return source.but(kind=ValueKind.INSTANCE, operations=(), row_of=(0, 0)), None
            return None, None
        if source.kind is ValueKind.CONNECTION and source.layer is DataLayer.DJANGO:
            return source, None
        return None, None

    # --- events -------------------------------------------------------------------------

    def events(self) -> list[QueryEvent]:
        """Every place in this scope that executes SQL, in source order."""
        if self._events is not None:
            return self._events
        found: list[QueryEvent] = []
        custom = self.knowledge.custom_methods
        for call in self.calls:
            func = call.func
            if isinstance(func, ast.Attribute):
                if func.attr not in catalog.SQL_METHOD_NAMES and func.attr not in custom:
                    continue
            elif not (isinstance(func, ast.Name) and func.id in _EVENT_FUNCTIONS):
                continue
            event = self.call_result(call)[1]
            if event is not None:
                found.append(event)
        for subscript in self.subscripts:
            event = self.call_result(subscript)[1]
            if event is not None:
                found.append(event)
        for iterable in self.iterated:
            event = self._iteration(iterable)
            if event is not None:
                found.append(event)
        for test in self.truth_tests:
            event = self._truth(test)
            if event is not None:
                found.append(event)
        for attribute in self.attributes:
            event = self.relation_read(attribute)
            if event is not None:
                found.append(event)
        found.sort(key=lambda event: (getattr(event.node, "lineno", 0), getattr(event.node, "col_offset", 0)))
        self._events = self._without_cached_evaluations(found)
        return self._events

    def evaluated_name(self, event: QueryEvent) -> ast.Name | None:
        """The name whose whole queryset an event evaluates (`for p in posts`, `len(posts)`)."""
        node = event.node
        if event.operation in ("iteration", "bool()"):
            return node if isinstance(node, ast.Name) else None
        if isinstance(node, ast.Call):
            if event.operation.endswith("()") and node.args:
                argument = node.args[0]
                return argument if isinstance(argument, ast.Name) else None
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                return node.func.value
        return None

    def _without_cached_evaluations(self, events: list[QueryEvent]) -> list[QueryEvent]:
        """A Django QuerySet caches its rows: once evaluated, iterating it again, `len()`,
        `bool()`, `count()` and `exists()` on the same object run no SQL."""
        evaluated: set[Binding] = set()
        kept: list[QueryEvent] = []
        for event in events:
            receiver = event.receiver
            # `post.comments.filter(...)` is a QuerySet too, and caches its rows the same way.
            if event.layer is DataLayer.DJANGO and receiver is not None and (
                receiver.kind is ValueKind.QUERY or (receiver.kind is ValueKind.RELATED_MANAGER and receiver.operations)
            ):
                name = self.evaluated_name(event)
                if name is not None:
                    binding, _ = self.local_binding(name)
                    if binding is not None:
                        key = binding
                        if key in evaluated and event.operation in _SERVED_FROM_CACHE:
                            continue
                        if event.operation in FULL_EVALUATIONS:
                            evaluated.add(key)
            kept.append(event)
        return kept

    def _iteration(self, iterable: ast.expr) -> QueryEvent | None:
        source = self.value(iterable)
        if source is None or source.kind not in _LAZY_KINDS:
            return None
        if source.kind is ValueKind.QUERY and source.layer is DataLayer.SQLALCHEMY and "execute" in source.operations:
            return None
        return self._evaluation(iterable, iterable, source, "iteration")

    def _truth(self, test: ast.expr) -> QueryEvent | None:
        source = self.value(test)
        if source is None or source.kind not in _LAZY_KINDS or source.layer is not DataLayer.DJANGO:
            return None
        return self._evaluation(test, test, source, "bool()")

    def relation_read(self, node: ast.Attribute) -> QueryEvent | None:
        """`post.author` on an instance whose `author` isn't loaded: a lazy load."""
        if node.attr not in self.knowledge.graph.relation_names:
            return None
        base = self.value(node.value)
        if base is None or base.kind is not ValueKind.INSTANCE or not base.model:
            return None
        relation = self.relation_of(base, node.attr)
        if relation is None or not relation.queries_on_read:
            return None
        if relation_loaded(base, relation) or base.new:
            return None
        read = RelationRead(node, relation.name, base.model, relation.target, base.row_of)
        return QueryEvent(node, QueryKind.READ, base.layer, "relation", _clip(_unparse(node)), relation.target, base.confidence, base, read)

    # --- results ------------------------------------------------------------------------

    def result(self) -> DataValue | None:
        for returned in self.returns:
            found = self.value(returned)
            if found is not None and found.kind is not ValueKind.MODEL_CLASS:
                return found.as_fact()
        return None

    def yielded(self) -> DataValue | None:
        for produced in self.yields:
            found = self.value(produced)
            if found is not None and found.kind in _HANDLE_KINDS:
                return found.as_fact()
        return None


# Operations that fetch every row of a Django queryset into its result cache.
_COLLECTION_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)


FULL_EVALUATIONS = frozenset(
    {"iteration", "bool()", "list()", "tuple()", "set()", "frozenset()", "sorted()", "len()", "dict()", "sum()", "max()", "min()", "any()", "all()"}
)
_SERVED_FROM_CACHE = FULL_EVALUATIONS | {"count", "exists"}
# Plain function names whose call can run SQL: evaluating builtins and Django shortcuts.
_EVENT_FUNCTIONS = _EVALUATING_BUILTINS | frozenset(
    {name.rpartition(".")[2] for name in catalog.DJANGO_SHORTCUTS}
)
class _HasParents(Protocol):
    """What lends its parent map to the flows: a rule's FileContext."""

    parents: dict[ast.AST, ast.AST]


_COMPREHENSION_TYPES = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _parents_of(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Every node's parent, except the module node (which the flows must not hold)."""
    parents: dict[ast.AST, ast.AST] = {}
    stack: list[ast.AST] = list(getattr(tree, "body", []))
    ast_type = ast.AST
    while stack:
        node = stack.pop()
        for field_name in node._fields:
            value = getattr(node, field_name, None)
            if isinstance(value, ast_type):
                parents[value] = node
                stack.append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast_type):
                        parents[item] = node
                        stack.append(item)
    return parents


_NOTES: dict[type[ast.AST], Callable[[ScopeFlow, ast.AST], None]] = {
    ast.Call: ScopeFlow._note_call,
    ast.Attribute: ScopeFlow._note_attribute,
    ast.Assign: ScopeFlow._note_assign,
    ast.AnnAssign: ScopeFlow._note_annotated,
    ast.AugAssign: ScopeFlow._note_augmented,
    ast.NamedExpr: ScopeFlow._note_walrus,
    ast.For: ScopeFlow._note_for,
    ast.AsyncFor: ScopeFlow._note_for,
    ast.Lambda: ScopeFlow._note_lambda,
    ast.While: ScopeFlow._note_while,
    ast.ListComp: ScopeFlow._note_comprehension,
    ast.SetComp: ScopeFlow._note_comprehension,
    ast.DictComp: ScopeFlow._note_comprehension,
    ast.GeneratorExp: ScopeFlow._note_comprehension,
    ast.With: ScopeFlow._note_with,
    ast.AsyncWith: ScopeFlow._note_with,
    ast.Subscript: ScopeFlow._note_subscript,
    ast.If: ScopeFlow._note_test,
    ast.IfExp: ScopeFlow._note_test,
    ast.UnaryOp: ScopeFlow._note_not,
    ast.Compare: ScopeFlow._note_compare,
    ast.Return: ScopeFlow._note_return,
    ast.Yield: ScopeFlow._note_yield,
    ast.YieldFrom: ScopeFlow._note_yield,
    ast.Global: ScopeFlow._note_global,
    ast.Nonlocal: ScopeFlow._note_global,
    ast.ExceptHandler: ScopeFlow._note_handler,
}
_END: ast.AST = ast.Pass(lineno=10**9, col_offset=0)
# Clearing one of these before save() makes Django insert a new row.
_KEY_FIELDS = frozenset({"pk", "id"})
_COPIES = frozenset({"copy.copy", "copy.deepcopy"})
_NOT_DATABASE_PACKAGES = ("requests", "aiohttp", "httpx", "urllib3", "boto", "botocore", "neo4j", "cassandra", "flask", "starlette", "django.contrib.sessions")


def relation_loaded(instance: DataValue, relation: Relation) -> bool:
    """Whether reading `relation` on `instance` is answered without SQL.

    When backbone can't know what was eager-loaded (`instance.eager_known` is False) this
    says False; callers decide what an unknown means for them.
    """
    if relation.kind.value == "relationship" and relation.load.never_queries_on_read:
        return True
    eager = instance.eager
    if relation.name in eager or EVERY_RELATION in eager:
        return True
    return EVERY_FORWARD_RELATION in eager and relation.forward_single


def _sub_eager(eager: tuple[str, ...], relation: Relation) -> tuple[str, ...]:
    prefix = f"{relation.name}."
    nested = [path[len(prefix):] for path in eager if path.startswith(prefix)]
    if EVERY_FORWARD_RELATION in eager and relation.forward_single:
        nested.append(EVERY_FORWARD_RELATION)
    return tuple(sorted(set(nested)))


def _prefixes(path: str) -> list[str]:
    parts = [part for part in path.split(".") if part]
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def _merge_eager(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return _normal_eager([*first, *second])


def _normal_eager(paths: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(paths)))


def _django_select_related(call: ast.Call) -> tuple[str, ...]:
    if not call.args:
        return (EVERY_FORWARD_RELATION,)
    paths: list[str] = []
    for argument in call.args:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            paths.extend(_prefixes(argument.value.replace("__", ".")))
        elif isinstance(argument, ast.Constant) and argument.value is None:
            return ()
        else:
            # `select_related(*fields)`: backbone can't tell which; assume they cover it.
            paths.append(EVERY_RELATION)
    return tuple(paths)


def _relation_step(node: ast.expr) -> str:
    """The relation a loader argument names: `User.orders`, `"orders"`, `User.orders.of_type(X)`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("of_type", "and_"):
        return _relation_step(node.func.value)
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _target_path(target: ast.expr, name: str) -> tuple[int, ...] | None:
    if isinstance(target, ast.Name):
        return () if target.id == name else None
    if isinstance(target, (ast.Tuple, ast.List)):
        for index, element in enumerate(target.elts):
            found = _target_path(element, name)
            if found is not None:
                return (index, *found)
    return None


def _default_of(function: ast.FunctionDef | ast.AsyncFunctionDef, argument: ast.arg) -> ast.expr | None:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if argument in positional:
        offset = len(positional) - len(arguments.defaults)
        index = positional.index(argument) - offset
        return arguments.defaults[index] if index >= 0 else None
    if argument in arguments.kwonlyargs:
        return arguments.kw_defaults[arguments.kwonlyargs.index(argument)]
    return None


def _is_first_parameter(function: ast.FunctionDef | ast.AsyncFunctionDef, argument: ast.arg) -> bool:
    positional = [*function.args.posonlyargs, *function.args.args]
    return bool(positional) and positional[0] is argument


def _dependency(default: ast.expr | None, resolver: NameResolver) -> ast.expr | None:
    """`Depends(get_db)` -> `get_db` (FastAPI, and anything spelled Depends/Provide)."""
    if not isinstance(default, ast.Call) or not default.args:
        return None
    parts = dotted_parts(default.func)
    if parts is None or parts[-1] not in ("Depends", "Security", "Provide"):
        return None
    return default.args[0]


def _annotated_dependency(annotation: ast.expr | None, resolver: NameResolver) -> ast.expr | None:
    """`Annotated[Session, Depends(get_db)]` -> `get_db`."""
    if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, ast.Tuple):
        return None
    parts = dotted_parts(annotation.value)
    if parts is None or parts[-1] != "Annotated":
        return None
    for extra in annotation.slice.elts[1:]:
        found = _dependency(extra, resolver)
        if found is not None:
            return found
    return None


def _uninformative(annotation: ast.expr) -> bool:
    """`Any`, `object`: an annotation that says nothing, so the name may speak."""
    parts = dotted_parts(annotation)
    return parts is not None and parts[-1] in ("Any", "object")


def _conventional(name: str, confidence: Confidence) -> DataValue | None:
    """A value guessed from a name alone: `session`, `db`, `cursor`, `conn`."""
    lowered = name.lower().lstrip("_")
    if lowered in catalog.SESSION_NAMES:
        return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=confidence)
    if lowered in catalog.CURSOR_NAMES:
        return DataValue(ValueKind.CURSOR, DataLayer.DRIVER, confidence=confidence)
    if lowered in catalog.CONNECTION_NAMES:
        return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER, confidence=confidence)
    return None


def _looks_like_class(node: ast.expr) -> bool:
    """`User`, `models.User`, `User.id`: a mapped class (or its column), not a URL or a key."""
    parts = dotted_parts(node)
    if parts is None:
        if isinstance(node, ast.Call):
            parts = dotted_parts(node.func)
            return parts is not None and parts[-1] in ("aliased", "func", "count", "distinct")
        return False
    return any(part[:1].isupper() and not part.isupper() for part in parts)


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


def _lowered(confidence: Confidence) -> Confidence:
    return lower_confidence(confidence, _MEDIUM)


def _model_reference(call: ast.Call) -> str:
    """`get_model("catalogue", "Product")` / `apps.get_model("catalogue.Product")`."""
    texts = [argument.value for argument in call.args if isinstance(argument, ast.Constant) and isinstance(argument.value, str)]
    # `get_model(app_label="catalogue", model_name="Product")`, in the order of the signature.
    named = {keyword.arg: keyword.value.value for keyword in call.keywords
             if keyword.arg in ("app_label", "model_name") and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)}
    texts += [named[key] for key in ("app_label", "model_name") if key in named]
    if call.keywords and not call.args and not named:
        return ""
    if len(texts) >= 2:
        return f"{texts[0]}.{texts[1]}"
    if len(texts) == 1 and "." in texts[0]:
        return texts[0]
    if not call.args:
        return "<user>"
    return ""


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse of exotic nodes must not stop an analysis
        return "..."


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_TEXT else text[: _LONGEST_TEXT - 3] + "..."


def _text(call: ast.Call) -> str:
    """`Customer.objects.get(...)`: the callee as written, arguments elided."""
    return _clip(_unparse(call.func)) + ("(...)" if call.args or call.keywords else "()")
