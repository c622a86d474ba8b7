"""Bindings: what each scope binds, collected in source order, and the binding a name use reads."""

from __future__ import annotations

import ast
import bisect
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.orm.flow.common import Position, ScopeNode
from backbone.review.orm.flow.knowledge import DataKnowledge
from backbone.review.orm.values import QueryEvent
from backbone.review.semantic import parameter_positions

if TYPE_CHECKING:
    from backbone.review.orm.flow.module import ModuleFlows


class BindingKind(enum.Enum):
    ASSIGN = "assign"
    UNPACK = "unpack"
    ELEMENT = "element"
    WITH = "with"
    PARAM = "param"
    DEFINITION = "definition"
    OPAQUE = "opaque"


class Binding(Record, frozen=True):
    position: Position
    kind: BindingKind
    # The assigned value, the iterable, the context manager, or the `ast.arg`.
    node: ast.AST | None
    # For UNPACK/ELEMENT: the index path into a tuple (`for i, row in enumerate(rows)`).
    path: tuple[int, ...] = ()
    # For ELEMENT: the loop producing the rows; for PARAM: the function.
    owner: ast.AST | None = None


class ScopeContext(Record, frozen=True):
    """Where a scope sits: the class around a method, the function around a closure."""

    class_qualname: str | None
    enclosing: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module | None
    qualname: str


class ScopeState:
    """A scope's collected nodes and the tables its values are memoised in (shared per module)."""

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


class ScopeBindings(ScopeState):
    """What a scope binds, collected in source order, and which binding a name use reads."""

    __slots__ = ()

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

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.module.parent_of(node)

    def call_position(self, name: str) -> int | None:
        """Where a project call passes the parameter `name` of this function: its position among
        the call's positional arguments (`self.method(a, b)`: a method's `self`/`cls` is not
        one), -1 when it is keyword-only, None when no argument of a call binds it (no such
        parameter, a method's `self`, `*args`)."""
        scope = self._scope
        if scope is None:
            return None
        return parameter_positions(scope, self.context.class_qualname is not None).get(name)

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

    def holds_row_of(self, node: ast.Name, loop: ast.AST) -> bool:
        """`node` still holds the row `loop` binds to it, not a value the body rebound it to
        (`o = Order.objects.select_related("event").get(pk=o.pk)`: a new object, loaded its own way)."""
        binding, encloser = self.local_binding(node)
        if encloser is not None:
            return encloser is loop
        return binding is not None and binding.kind is BindingKind.ELEMENT and binding.owner is loop

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


_NOTES: dict[type[ast.AST], Callable[[ScopeBindings, ast.AST], None]] = {
    ast.Call: ScopeBindings._note_call,
    ast.Attribute: ScopeBindings._note_attribute,
    ast.Assign: ScopeBindings._note_assign,
    ast.AnnAssign: ScopeBindings._note_annotated,
    ast.AugAssign: ScopeBindings._note_augmented,
    ast.NamedExpr: ScopeBindings._note_walrus,
    ast.For: ScopeBindings._note_for,
    ast.AsyncFor: ScopeBindings._note_for,
    ast.Lambda: ScopeBindings._note_lambda,
    ast.While: ScopeBindings._note_while,
    ast.ListComp: ScopeBindings._note_comprehension,
    ast.SetComp: ScopeBindings._note_comprehension,
    ast.DictComp: ScopeBindings._note_comprehension,
    ast.GeneratorExp: ScopeBindings._note_comprehension,
    ast.With: ScopeBindings._note_with,
    ast.AsyncWith: ScopeBindings._note_with,
    ast.Subscript: ScopeBindings._note_subscript,
    ast.If: ScopeBindings._note_test,
    ast.IfExp: ScopeBindings._note_test,
    ast.UnaryOp: ScopeBindings._note_not,
    ast.Compare: ScopeBindings._note_compare,
    ast.Return: ScopeBindings._note_return,
    ast.Yield: ScopeBindings._note_yield,
    ast.YieldFrom: ScopeBindings._note_yield,
    ast.Global: ScopeBindings._note_global,
    ast.Nonlocal: ScopeBindings._note_global,
    ast.ExceptHandler: ScopeBindings._note_handler,
}


def _target_path(target: ast.expr, name: str) -> tuple[int, ...] | None:
    if isinstance(target, ast.Name):
        return () if target.id == name else None
    if isinstance(target, (ast.Tuple, ast.List)):
        for index, element in enumerate(target.elts):
            found = _target_path(element, name)
            if found is not None:
                return (index, *found)
    return None
