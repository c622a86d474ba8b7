"""The flows of one module: one walk over the tree hands each scope's nodes to its `ScopeFlow`."""

from __future__ import annotations

import ast
import weakref
from collections.abc import Iterator
from typing import Protocol

from backbone.review.names import NameResolver
from backbone.review.orm.flow.bindings import _NOTES, Binding, BindingKind, ScopeContext
from backbone.review.orm.flow.common import _DEEPEST_VALUE, ScopeNode
from backbone.review.orm.flow.events import QueryEvents
from backbone.review.orm.flow.knowledge import DataKnowledge
from backbone.review.orm.values import DataValue, QueryEvent
from backbone.review.semantic import child_fields


class ScopeFlow(QueryEvents):
    """One function (or a module body): its bindings, values and query events.

    The concerns live in layers, each a module of this package (see its docstring).
    """

    __slots__ = ()


class ModuleFlows:
    """The flows of every scope of one module, collected in one walk over the tree.

    Values are computed on demand and memoised; `rebind` swaps the knowledge (the per-file
    facts use a file-local one, rules a project-wide one) and keeps the collected structure.
    """

    def __init__(
        self, tree: ast.Module, resolver: NameResolver, knowledge: DataKnowledge, specialise: tuple[str, str] | None = None
    ) -> None:
        # Weakly: the file's model that keeps these flows lives beside the tree and must not
        # keep it alive; the scopes hold its functions, never the module node itself.
        self._tree = weakref.ref(tree)
        self.resolver = resolver
        self.knowledge = knowledge
        # (generic class, subclass): the generic class's methods are read as the subclass's,
        # whose bindings (`Repository[Out, Post]`) say what `self.model` holds.
        self.specialise = specialise
        # Those readings of this module's generic classes, made on demand (access.specialised_flows).
        self.specialisations: dict[tuple[str, str], ModuleFlows] = {}
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
        self._numeric_options: frozenset[str] | None = None
        self._walk()

    @property
    def numeric_options(self) -> frozenset[str]:
        """Destinations of the command-line options this module declares with `type=int`
        (or float): argparse converts them, so what a command reads under that name is a number."""
        if self._numeric_options is None:
            # The walk listed every call of the file, scope by scope.
            calls = [call for flow in (self._top, *self._flows.values()) for call in flow.calls]
            self._numeric_options = _numeric_options(calls)
        return self._numeric_options

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
            fields = child_fields(node_type)
            if fields is not None:
                # The fields that can hold nodes (no name, constant or Load/Store marker).
                for field_name, many in fields:
                    value = getattr(node, field_name, None)
                    if many:
                        if value:
                            stack += [item for item in reversed(value) if item is not None]
                    elif value is not None:
                        stack.append(value)
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
        if self.specialise is not None and class_qualname == self.specialise[0]:
            class_qualname = self.specialise[1]
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


class _HasParents(Protocol):
    """What lends its parent map to the flows: a rule's FileContext, or the file's model."""

    @property
    def parents(self) -> dict[ast.AST, ast.AST]: ...


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


def _numeric_options(calls: list[ast.Call]) -> frozenset[str]:
    found: set[str] = set()
    for node in calls:
        if not (isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
            continue
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        kind = keywords.get("type")
        if not (isinstance(kind, ast.Name) and kind.id in ("int", "float")):
            continue
        dest = keywords.get("dest")
        if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
            found.add(dest.value)
            continue
        flags = [argument.value for argument in node.args if isinstance(argument, ast.Constant) and isinstance(argument.value, str)]
        long_flags = [flag for flag in flags if flag.startswith("--")]
        chosen = long_flags[0] if long_flags else flags[0] if flags else None
        if chosen is not None:
            found.add(chosen.lstrip("-").replace("-", "_"))
    return frozenset(found)
